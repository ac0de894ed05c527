"""Settings: defaults < environment (DAILYPAPERS_*) < command-line flags.

This is the only module that reads the environment. Every option is declared
once in OPTIONS with its type, default and help text; docs/settings.md is
checked against this table by the tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress
import os
import re
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "DAILYPAPERS_"


class ConfigError(ValueError):
    """A setting has a bad value; the message says which and why."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _hhmm(value: str) -> str:
    hh, _, mm = value.partition(":")
    if not (hh.isdigit() and mm.isdigit() and 0 <= int(hh) < 24 and 0 <= int(mm) < 60):
        raise ValueError(f"expected HH:MM, got {value!r}")
    return f"{int(hh):02d}:{int(mm):02d}"


def _rate(value: str) -> str:
    """'N/SECONDS': at most N events per window of SECONDS."""
    n, _, window = value.partition("/")
    if not (n.strip().isdigit() and window.strip().isdigit() and int(window) > 0):
        raise ValueError(f"expected N/SECONDS such as 5/60, got {value!r}")
    return f"{int(n)}/{int(window)}"


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    return parse


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {value!r}") from e
    return value


_CATEGORY = re.compile(r"[a-z-]+(\.[A-Za-z-]+)?")


def _categories(value: str) -> str:
    """Comma-separated arXiv categories, such as cs.CL,cs.LG (an archive alone, such as hep-th, too)."""
    names = [c.strip() for c in value.split(",") if c.strip()]
    for name in names:
        if not _CATEGORY.fullmatch(name):
            raise ValueError(f"{name!r} is not an arXiv category such as cs.CL")
    return ",".join(dict.fromkeys(names))


def _dates(value: str) -> str:
    """Comma-separated YYYY-MM-DD dates."""
    days = [d.strip() for d in value.split(",") if d.strip()]
    for d in days:
        try:
            dt.date.fromisoformat(d)
        except ValueError:
            raise ValueError(f"{d!r} is not a date in YYYY-MM-DD form") from None
    return ",".join(sorted(set(days)))


def _networks(value: str) -> str:
    """Comma-separated IP addresses or networks (CIDR), such as 127.0.0.1,10.0.0.0/8."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network such as 10.0.0.0/8") from None
    return ",".join(items)


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False


OPTIONS: tuple[Option, ...] = (
    Option("data_dir", Path, Path("data"), "Folder holding the database, search indexes and state."),
    Option("database_url", str, None, "Database URL; default sqlite:///DATA_DIR/dailypapers.db."),
    Option("environment", str, "development", "development or production; production refuses unsafe defaults."),
    Option("secret_key", str, None, "Key that signs tokens and cookies. Required in production.", secret=True),
    Option("base_url", str, None,
           "Public URL of the site, used in emails, feeds, the API docs and canonical links. Required in "
           "production; unset elsewhere: http://HOST:PORT of `serve` (HOST 0.0.0.0 or :: becomes this "
           "machine's host name)."),
    Option("host", str, "127.0.0.1", "Address that `serve` listens on."),
    Option("port", int, 8000, "Port that `serve` listens on."),
    Option("workers", int, 1, "Server processes that `serve` starts."),
    Option("trusted_proxies", _networks, "",
           "Addresses or networks (comma-separated, CIDR allowed) of the reverse proxies in front of the server: "
           "only from these is X-Forwarded-For believed for the client's address. Empty: never."),
    Option("header_timeout", float, 10.0,
           "Seconds `serve` waits for a request's line and headers (also on an idle new connection)."),
    Option("body_timeout", float, 60.0, "Seconds `serve` waits for a whole request body once its headers arrived."),
    Option("max_header_bytes", int, 16384, "Largest request line plus headers `serve` accepts (bytes); larger: 431."),
    Option("malloc_arenas", int, 2,
           "glibc malloc arenas of `serve` and its workers (0: glibc's defaults, 8 per core); more arenas let "
           "memory freed by one thread go unused by the others, and a worker's RSS creep up. With a cap, "
           "blocks of 4 MiB and more also go back to the system when freed."),
    Option("page_cache_mb", int, 64,
           "Megabytes of rendered pages, feeds and API answers each server process keeps (at most 512 of them; "
           "the least recently stored go first)."),
    Option("day_rollover", _hhmm, "21:30", "Local time at which a new list day begins (HF uses 21:30)."),
    Option("timezone", _timezone, "America/New_York", "Time zone of the list day."),
    Option("arxiv_api_url", str, "https://export.arxiv.org/api/query", "arXiv search API endpoint."),
    Option("arxiv_oai_url", str, "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint."),
    Option("arxiv_delay", float, 3.0, "Seconds between requests to arXiv (their policy asks for 3)."),
    Option("arxiv_timeout", float, 30.0, "Seconds before an arXiv request times out."),
    Option("arxiv_submit_timeout", float, 5.0,
           "Seconds a submission from the site waits for arXiv (one try, no retries) before saying so."),
    Option("model_dir", Path, None, "Folder of the ONNX embedding model; default: the packaged model."),
    Option("embed_batch_size", int, 32, "Abstracts per embedding batch."),
    Option("embed_on_ingest", _bool, False, "Embed new papers during ingest instead of with `embed` later."),
    Option("embed_sentences", _bool, True,
           "Embed each paper's title and abstract sentences too, and let search mix a paper's closest sentence "
           "into its semantic score (about 3.4 KB a paper in the database). Off: neither, for a very large "
           "corpus; vectors already stored stay until their paper's text changes."),
    # arrivals: arXiv's new papers in the instance's field
    Option("categories", _categories, "",
           "arXiv categories of this instance's field, comma-separated (e.g. cs.CL,cs.LG); empty: all."),
    Option("cross_lists", _bool, True,
           "Count papers cross-listed into those categories as arrivals, as arXiv's /new pages do."),
    Option("arxiv_holidays", _dates, "",
           "Days arXiv announces nothing (YYYY-MM-DD, comma-separated); their papers move to the next list."),
    Option("arrival_list_votes", int, 3,
           "Member upvotes that put an arrival on its day's list by themselves (0: never)."),
    # accounts and community
    Option("session_idle_minutes", int, 60 * 24 * 7, "A session ends after this long without a request."),
    Option("session_max_days", int, 30, "A session ends this long after login, whatever its use."),
    Option("submit_daily_cap", int, 5, "Papers one member may submit per list day."),
    Option("submit_max_age_days", int, 14, "Oldest arXiv paper (days since v1) that may be submitted."),
    Option("rate_login", _rate, "10/300", "Login attempts per IP address, and per account from one IP address."),
    Option("rate_login_account", _rate, "50/900",
           "Login attempts per account from all addresses together (slower, so that one address cannot "
           "lock its owner out)."),
    Option("rate_signup", _rate, "5/3600", "Sign-ups per IP address."),
    Option("rate_reset", _rate, "5/3600", "Password-reset and email-change requests per IP address and per account."),
    Option("rate_submit", _rate, "20/3600", "Submissions per IP address and per account."),
    Option("rate_comment", _rate, "20/600", "Comments per IP address and per account."),
    Option("rate_vote", _rate, "120/60", "Votes per IP address and per account."),
    Option("rate_search", _rate, "120/60",
           "Searches per IP address: the search page, the search API, search feeds and search exports, author "
           "pages and feeds, For you."),
    Option("rate_export", _rate, "30/60",
           "Exports per IP address: citation files of days and collections, collection pages and feeds, a "
           "member's data download and feeds (OPML)."),
    Option("rate_list", _rate, "120/60",
           "Long lists per IP address: week and month pages and feeds, /api/daily_papers, new arrivals (page, "
           "API, feed), a day's page and feed; each reads many papers when not cached."),
    Option("rate_paper", _rate, "300/60",
           "Paper pages per IP address (/papers/{id} and its .md): each finds similar papers when not cached."),
    Option("rate_subscribe", _rate, "10/3600", "Subscription requests per IP address."),
    # mail
    Option("smtp_host", str, None, "SMTP server; unset prints mail to the console instead."),
    Option("smtp_port", int, 587, "SMTP port."),
    Option("smtp_security", _choice("starttls", "tls", "none"), "starttls", "starttls, tls (implicit) or none."),
    Option("smtp_user", str, None, "SMTP user name."),
    Option("smtp_password", str, None, "SMTP password (or DAILYPAPERS_SMTP_PASSWORD_FILE).", secret=True),
    Option("mail_from", str, "Daily Papers <papers@localhost>", "From address of every email."),
    # digests
    Option("digest_top_n", int, 10, "Trending papers at the top of each digest."),
    Option("digest_max_matches", int, 10, "Papers matching a reader's topics or upvotes, after the trending ones."),
    Option("digest_rate", float, 200.0, "Digests sent per second at most."),
    Option("digest_batch", int, 100, "Digests composed and sent per batch."),
)

_BY_NAME = {o.name: o for o in OPTIONS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    environment: str = "development"
    secret_key: str | None = None
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    trusted_proxies: str = ""
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_header_bytes: int = 16384
    malloc_arenas: int = 2
    page_cache_mb: int = 64
    day_rollover: str = "21:30"
    timezone: str = "America/New_York"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_delay: float = 3.0
    arxiv_timeout: float = 30.0
    arxiv_submit_timeout: float = 5.0
    model_dir: Path | None = None
    embed_batch_size: int = 32
    embed_on_ingest: bool = False
    embed_sentences: bool = True
    categories: str = ""
    cross_lists: bool = True
    arxiv_holidays: str = ""
    arrival_list_votes: int = 3
    session_idle_minutes: int = 60 * 24 * 7
    session_max_days: int = 30
    submit_daily_cap: int = 5
    submit_max_age_days: int = 14
    rate_login: str = "10/300"
    rate_login_account: str = "50/900"
    rate_signup: str = "5/3600"
    rate_reset: str = "5/3600"
    rate_submit: str = "20/3600"
    rate_comment: str = "20/600"
    rate_vote: str = "120/60"
    rate_search: str = "120/60"
    rate_export: str = "30/60"
    rate_list: str = "120/60"
    rate_paper: str = "300/60"
    rate_subscribe: str = "10/3600"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Daily Papers <papers@localhost>"
    digest_top_n: int = 10
    digest_max_matches: int = 10
    digest_rate: float = 200.0
    digest_batch: int = 100

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'dailypapers.db'}"

    @property
    def public_url(self) -> str:
        """The site's public URL, without a trailing slash: base_url, else where `serve` listens."""
        return (self.base_url or listening_url(self.host, self.port)).rstrip("/")

    @property
    def category_list(self) -> tuple[str, ...]:
        return tuple(c for c in self.categories.split(",") if c)

    @property
    def holidays(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d) for d in self.arxiv_holidays.split(",") if d)

    def in_field(self, categories: list[str]) -> bool:
        """Whether a paper with these arXiv categories (primary first) belongs to the instance's field.
        A paper without categories came from a source that does not list them (Hugging Face's
        lists): it is no arrival, or every paper of those lists would teach the ranker a pick."""
        if not categories:
            return False
        field = self.category_list
        if not field:
            return True
        considered = categories if self.cross_lists else categories[:1]
        return any(c in field or c.split(".")[0] in field for c in considered)

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _parsed_networks(self.trusted_proxies)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def rate(self, name: str) -> tuple[int, int]:
        """A rate-limit setting as (events, window seconds)."""
        n, window = getattr(self, f"rate_{name}").split("/")
        return int(n), int(window)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def signing_key(self) -> str:
        """The secret key; in development one is generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        if self.is_production:
            raise ConfigError("DAILYPAPERS_SECRET_KEY must be set in production")
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key

    def check(self) -> None:
        if self.environment not in {"development", "production"}:
            raise ConfigError(f"environment must be development or production, not {self.environment!r}")
        if self.is_production and not self.secret_key:
            raise ConfigError("DAILYPAPERS_SECRET_KEY must be set in production")
        if self.is_production and not (self.base_url or "").startswith("https://"):
            raise ConfigError("DAILYPAPERS_BASE_URL must be set to an https:// URL in production")
        if self.header_timeout <= 0 or self.body_timeout <= 0 or self.max_header_bytes < 1024:
            raise ConfigError("header_timeout and body_timeout must be positive, max_header_bytes at least 1024")


@functools.lru_cache(maxsize=8)
def _parsed_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    # Cached: the client's address is worked out on every rate-limited request.
    return tuple(ipaddress.ip_network(v, strict=False) for v in value.split(",") if v)


def listening_url(host: str, port: int) -> str:
    """http://HOST:PORT for a listening address; a wildcard address (0.0.0.0, ::) is not a place a
    link can point to, so it becomes this machine's host name (127.0.0.1 when it has none)."""
    if host in {"", "0.0.0.0", "::", "[::]"}:
        host = socket.gethostname() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def base_url_mismatch(settings: Settings) -> str | None:
    """A one-line warning when base_url is set but names another host or port than the one `serve`
    listens on (links in emails and feeds would then lead elsewhere); None when they agree or
    base_url is unset. Behind a proxy a difference is expected, so production is not checked."""
    if not settings.base_url or settings.is_production:
        return None
    parts = urlsplit(settings.base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    listening = listening_url(settings.host, settings.port)
    same_host = settings.host in {"", "0.0.0.0", "::", "[::]"} or host == settings.host.strip("[]").lower() or (
        host in _LOCAL_NAMES and settings.host in _LOCAL_NAMES)
    if port == settings.port and same_host:
        return None
    return (f"warning: DAILYPAPERS_BASE_URL is {settings.base_url} but the server listens on {listening}; "
            "links in emails, feeds and pages will point at the base URL")


_LOCAL_NAMES = {"127.0.0.1", "localhost", "::1"}


def _parse(option: Option, raw: Any, source: str) -> Any:
    if raw is None or not isinstance(raw, str):
        return raw
    try:
        return option.parse(raw)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{source}: {e}") from e


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from the environment plus explicit overrides (flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        key = ENV_PREFIX + option.name.upper()
        if key in env:
            values[option.name] = _parse(option, env[key], key)
        file_key = key + "_FILE"
        if option.secret and file_key in env:
            values[option.name] = Path(env[file_key]).read_text().strip()
    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _parse(_BY_NAME[name], raw, f"--{name.replace('_', '-')}")
    settings = Settings(**values)
    settings.check()
    return settings


def export_environ(settings: Settings) -> None:
    """Put settings into this process's environment, for server worker processes to read."""
    for option in OPTIONS:
        value = getattr(settings, option.name)
        if value is not None:
            os.environ[ENV_PREFIX + option.name.upper()] = str(value)
