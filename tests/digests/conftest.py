"""Fixtures for the digest tests: papers on list days, subscribers, and a real SMTP server.

They run on both backends: `dsettings` names a fresh PostgreSQL database on the PostgreSQL run
(tests/conftest.py's `backend_url`), and `dstore` opens whichever it names. The helpers write
with SQLite's `?` placeholders through `sql()`, which speaks PostgreSQL's `%s` there.

The SMTP server is aiosmtpd's Controller on a free port (``Controller(port=0)`` does not work),
with a handler that records every message it accepts and can answer 4xx/5xx for chosen
recipients.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from dailypapers.config import Settings
from dailypapers.models import Listing, Paper, Subscription

DAY = dt.date(2026, 8, 20)  # a Thursday
MODEL = "test-model"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    rcpt: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Sink:
    """Records accepted messages. `rules[rcpt]` is a list of replies to give, in order, to DATA
    for that recipient (e.g. ["451 4.3.0 try later"]); when empty, accept."""

    messages: list[Received] = field(default_factory=list)
    rules: dict[str, list[str]] = field(default_factory=dict)
    on_data: object = None  # callable(sink) run inside DATA, before the reply
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            queue = self.rules.get(rcpt.lower())
            if queue:
                return queue.pop(0)
        with self.lock:
            self.messages.append(Received(list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.on_data is not None:
            self.on_data(self)
        return "250 OK"

    def to(self, addr: str) -> list[Received]:
        return [m for m in self.messages if addr.lower() in (r.lower() for r in m.rcpt)]

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.01)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = port
    yield sink
    controller.stop()


# Modules (new, owned by others) not checked on PostgreSQL yet: they run on SQLite alone.
SQLITE_ONLY_MODULES = {"test_follow_digest"}


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    # Runs before tests/conftest.py's hook, which reads the mark.
    if metafunc.module.__name__.rsplit(".", 1)[-1] in SQLITE_ONLY_MODULES:
        metafunc.definition.add_marker(pytest.mark.sqlite_only)


@pytest.fixture
def dsettings(tmp_path, smtp, backend_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=backend_url, arxiv_delay=0.0, secret_key="test-secret-key-0123456789",
        base_url="https://papers.example.org", smtp_host="127.0.0.1", smtp_port=smtp.port,
        smtp_security="none", mail_from="Daily Papers <papers@example.org>", digest_top_n=3,
        digest_max_matches=3, digest_rate=0.0, digest_batch=10,
    )


@pytest.fixture
def dstore(dsettings):
    from dailypapers.storage import open_store

    s = open_store(dsettings.db_url)
    s.migrate()
    yield s
    s.close()


def sql(conn, statement: str, params=()):
    """Run a statement written with `?` placeholders on either backend's write connection."""
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(statement, params)
    return conn.execute(statement.replace("?", "%s"), params)


def sql_many(conn, statement: str, rows) -> None:
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(statement, rows)
    else:
        conn.cursor().executemany(statement.replace("?", "%s"), rows)


def unit(v) -> bytes:
    a = np.asarray(v, dtype=np.float32)
    a = a / np.linalg.norm(a)
    return a.astype("<f4").tobytes()


def add_papers(store, day: dt.date, specs: list[dict], *, start: int = 1) -> list[str]:
    """specs: dicts with title, abstract, upvotes, categories, vec (embedding direction)."""
    papers, listings, vectors = [], [], []
    ids = []
    for n, spec in enumerate(specs, start=start):
        aid = spec.get("id") or f"{day:%y%m}.{day.day:02d}{n:03d}"
        ids.append(aid)
        papers.append(Paper(
            arxiv_id=aid, title=spec.get("title", f"Paper {aid}"), abstract=spec.get("abstract", "An abstract."),
            authors=spec.get("authors", ["Ada Lovelace", "Alan Turing"]), version=1,
            categories=spec.get("categories", ["cs.LG"]),
            published=dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc) - dt.timedelta(days=1),
        ))
        listings.append(Listing(arxiv_id=aid, day=day, rank=n, upvotes=spec.get("upvotes", 0), source="test"))
        if "vec" in spec:
            vectors.append((aid, hashlib.sha1(aid.encode()).hexdigest(), unit(spec["vec"])))
    store.ingest_batch(papers)
    with store.write() as conn:  # named columns: later migrations add listing columns
        sql_many(
            conn, "INSERT INTO listings (day, arxiv_id, rank, upvotes, source) VALUES (?, ?, ?, ?, ?)",
            [(x.day.isoformat(), x.arxiv_id, x.rank, x.upvotes, x.source) for x in listings],
        )
        sql_many(conn, "UPDATE papers SET hf_upvotes = ? WHERE arxiv_id = ?",
                 [(x.upvotes, x.arxiv_id) for x in listings])
    if vectors:
        store.put_embeddings(MODEL, vectors)
    return ids


def add_subscriber(store, email_addr: str, **kw) -> Subscription:
    import secrets

    now = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)
    sub = Subscription(id=None, email=email_addr, confirmed_at=now, created_at=now,
                       manage_key=secrets.token_urlsafe(16), **kw)
    return store.save_subscription(sub)


def add_user(store, name: str, email_addr: str, votes: list[str] = ()) -> int:
    ts = "2026-08-01T00:00:00Z"
    with store.write() as conn:
        uid = sql(conn, "INSERT INTO users (email, name, password_hash, role, verified_at, created_at) "
                        "VALUES (?, ?, 'x', 'member', ?, ?) RETURNING id", (email_addr, name, ts, ts)).fetchone()[0]
        for i, aid in enumerate(votes):
            sql(conn, "INSERT INTO votes (user_id, arxiv_id, created_at) VALUES (?, ?, ?)",
                (uid, aid, f"2026-08-0{1 + i % 9}T00:00:00Z"))
    return uid
