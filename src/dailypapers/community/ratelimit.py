"""Rate limits: N events per sliding window of W seconds, per IP address and per account.

Each limit is a setting ``rate_<name>`` = "N/SECONDS" (login, signup, reset, submit, comment, vote,
search, export, list, paper, subscribe). ``Limits.check(name, ip=..., account=...)`` records one event under each key
given, or raises ``RateLimited`` (HTTP 429 + Retry-After) without recording anything when any key
is over its limit — so hammering a blocked endpoint does not extend the block.

Logins are throttled the way OWASP's authentication cheat sheet describes (``Limits.check_login``):
per address and per (account, address) at ``rate_login``, and per account from all addresses
together at the slower ``rate_login_account``. Ten wrong passwords from one address stop that
address; the owner, from their own address, still logs in. Only an attack from many addresses at
once reaches the per-account limit, and that stops new browsers only: a browser that logged in to
the account before holds a signed device cookie (web/security.py), and its attempts count against
that device alone, at ``rate_login`` (OWASP's device cookies).

The window is an exact sliding log (the timestamps of the last N events per key), so Retry-After
is exact too: the time until the oldest event in the window leaves it.

Two backends, same semantics:

* ``MemoryBackend`` (default): in-process, a lock and a deque per key. Right for the default
  deployment, one server process on SQLite. With several processes each one counts on its own,
  so the effective limit is N x processes.
* ``StoreBackend``: the store keeps the events (SQLite: in a small unsynced file beside the
  database, ``<db>.ratelimits``, so a check never waits behind an ingest batch; PostgreSQL: an
  unlogged table), and every process that shares the database shares the limits. One small write
  transaction per check (on SQLite the processes take turns through a file lock, see
  ``storage/sqlite/ratelog.py``). ``limiter_for(settings, store)`` picks it when ``settings.workers > 1``
  or the database is PostgreSQL (several nodes: per-node counting would multiply a client's
  limit by the number of nodes). On PostgreSQL a check is a round trip, so the web layer makes
  it in a worker thread (``Limits.blocking``), never on the event loop.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Protocol

from dailypapers.errors import RateLimited
from dailypapers.storage import RateLogStore

LABELS = {
    "login": "login attempts",
    "signup": "sign-ups",
    "reset": "password-reset requests",
    "submit": "submissions",
    "comment": "comments",
    "vote": "votes",
    "search": "searches",
    "export": "exports",
    "list": "list pages",
    "paper": "paper pages",
    "login_account": "login attempts for this account",
    "subscribe": "subscription requests",
}


class Backend(Protocol):
    def hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        """Record an event under every key and return None, or return the seconds to wait
        (recording nothing) when any key already holds `limit` events in the window."""


class MemoryBackend:
    SWEEP_EVERY = 1024  # checks between sweeps of idle keys
    # Keys kept at most (~700 bytes each): past it the least recently used key is forgotten, so that
    # addresses that come and go (a botnet, IPv6) cannot grow the process; that address starts afresh.
    MAX_KEYS = 50_000

    def __init__(self) -> None:
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._checks = 0

    def hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        if limit <= 0:
            return float(window)
        with self._lock:
            self._checks += 1
            if self._checks % self.SWEEP_EVERY == 0:
                self._sweep(now, window)
            wait = 0.0
            logs = []
            for key in keys:
                log = self._events.get(key)
                if log is None:
                    log = self._events[key] = deque()
                    while len(self._events) > self.MAX_KEYS:
                        self._events.popitem(last=False)
                else:
                    self._events.move_to_end(key)
                while log and log[0] <= now - window:
                    log.popleft()
                if len(log) >= limit:
                    # the (len - limit + 1)th oldest must leave before one more fits
                    wait = max(wait, log[len(log) - limit] + window - now)
                logs.append(log)
            if wait > 0:
                return wait
            for log in logs:
                log.append(now)
            return None

    def _sweep(self, now: float, window: float) -> None:
        # Keys of other limits may have longer windows; only drop keys idle for a day.
        stale = [k for k, log in self._events.items() if not log or log[-1] < now - max(window, 86400)]
        for k in stale:
            del self._events[k]

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


class StoreBackend:
    def __init__(self, store: RateLogStore) -> None:
        self.store = store

    def hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        return self.store.rate_hit(list(keys), limit, window, now)


class Limits:
    """The site's limits, read from settings: ``limits.check("login", ip=..., account=...)``."""

    def __init__(self, settings, backend: Backend | None = None, clock: Callable[[], float] = time.time, *,
                 blocking: bool = False):
        self.settings = settings
        self.backend = backend or MemoryBackend()
        self.clock = clock
        # A check waits on another server: callers on an event loop hand it to a thread.
        self.blocking = blocking

    def check(self, name: str, *, ip: str | None = None, account: str | int | None = None) -> None:
        keys = []
        if ip:
            keys.append(f"{name}:ip:{ip}")
        if account is not None and account != "":
            keys.append(f"{name}:acct:{str(account).lower()}")
        if not keys:
            return
        self._hit(name, keys)

    def check_login(self, *, ip: str, account: str | None, device: str | None = None) -> None:
        """One login attempt: per address and per (account, address), then per account (slower).
        From a browser that logged in to this account before (`device`: its device cookie's id),
        per device only, so an attack that holds the account at its limit does not lock the owner out."""
        acct = (account or "").lower()
        if device and acct:
            self._hit("login", [f"login:device:{device}"])
            return
        keys = [f"login:ip:{ip}"]
        if acct:
            keys.append(f"login:pair:{acct}:{ip}")
        self._hit("login", keys)
        if acct:
            # Checked second: a refused attempt here has already counted against its own address,
            # which only slows that address further.
            self._hit("login_account", [f"login_account:acct:{acct}"])

    def _hit(self, name: str, keys: list[str]) -> None:
        limit, window = self.settings.rate(name)
        wait = self.backend.hit(keys, limit, float(window), self.clock())
        if wait is not None:
            seconds = max(1, int(wait + 0.999))
            what = LABELS.get(name, "requests")
            raise RateLimited(f"Too many {what}. Try again in {_human(seconds)}.", retry_after=seconds)


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def limiter_for(settings, store) -> Limits:
    """In-process limits for one server process; store-backed ones when several share the DB."""
    if not settings.db_url.startswith("sqlite:"):
        # Every node shares PostgreSQL's log: a check is a round trip, made off the event loop.
        return Limits(settings, StoreBackend(store), blocking=True)
    if settings.workers > 1:
        # The workers share a small unsynced file beside the database: a local write of about 0.1 ms,
        # cheaper on the event loop than a hop to a thread and back (+0.4 ms of CPU per request,
        # bench/bench_request_cpu.py).
        return Limits(settings, StoreBackend(store))
    return Limits(settings, MemoryBackend())


__all__ = ["Limits", "MemoryBackend", "StoreBackend", "limiter_for", "LABELS"]
