"""Reading source files: plain or gzip, with errors that name the file."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, transparently decompressing gzip (by content, not name)."""
    raw = open(path, "rb")
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def parse_iso_time(value: object) -> dt.datetime | None:
    """An ISO 8601 time or date from any source ('Z' allowed); naive values are UTC, junk is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def read_bytes(path: Path) -> bytes:
    with open_binary(path) as f:
        return f.read()


def decode_utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"not valid UTF-8 at byte {e.start} ({where})") from None


def expand_paths(path: Path, patterns: tuple[str, ...]) -> list[Path]:
    """A file stands for itself; a folder for its matching files, sorted by name."""
    if path.is_dir():
        found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
        return found
    if path.exists():
        return [path]
    raise FileNotFoundError(f"no such file or folder: {path}")


def compressed_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class CountingReader(io.RawIOBase):
    """Wraps a raw file and reports bytes read, so progress follows the file on disk."""

    def __init__(self, raw: BinaryIO, on_read):
        self.raw = raw
        self.on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.on_read(n)
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()
