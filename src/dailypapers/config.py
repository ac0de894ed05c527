"""Settings: defaults < environment (DAILYPAPERS_*) < command-line flags.

This is the only module that reads the environment. Every option is declared
once in OPTIONS with its type, default and help text; docs/settings.md is
checked against this table by the tests.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

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


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {value!r}") from e
    return value


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
    Option("base_url", str, "http://127.0.0.1:8000", "Public URL of the site, used in feeds and emails."),
    Option("host", str, "127.0.0.1", "Address that `serve` listens on."),
    Option("port", int, 8000, "Port that `serve` listens on."),
    Option("workers", int, 1, "Server processes that `serve` starts."),
    Option("day_rollover", _hhmm, "21:30", "Local time at which a new list day begins (HF uses 21:30)."),
    Option("timezone", _timezone, "America/New_York", "Time zone of the list day."),
    Option("arxiv_api_url", str, "https://export.arxiv.org/api/query", "arXiv search API endpoint."),
    Option("arxiv_oai_url", str, "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint."),
    Option("arxiv_delay", float, 3.0, "Seconds between requests to arXiv (their policy asks for 3)."),
    Option("arxiv_timeout", float, 30.0, "Seconds before an arXiv request times out."),
    Option("model_dir", Path, None, "Folder of the ONNX embedding model; default: the packaged model."),
    Option("embed_batch_size", int, 32, "Abstracts per embedding batch."),
    Option("embed_on_ingest", _bool, False, "Embed new papers during ingest instead of with `embed` later."),
)

_BY_NAME = {o.name: o for o in OPTIONS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    environment: str = "development"
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    day_rollover: str = "21:30"
    timezone: str = "America/New_York"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_delay: float = 3.0
    arxiv_timeout: float = 30.0
    model_dir: Path | None = None
    embed_batch_size: int = 32
    embed_on_ingest: bool = False

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'dailypapers.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
        if self.is_production and not self.base_url.startswith("https://"):
            raise ConfigError("base_url must be https:// in production")


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
