"""A run lock for a database that is one file on this machine (SQLite): flock on a file beside it.

The kernel releases an flock when its process exits, even on SIGKILL, so a killed run never
leaves the lock behind. PostgreSQL's store holds an advisory lock instead (postgres/base.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path, *, wait: bool = False) -> Iterator[bool]:
    """Yields True while holding an exclusive flock on `path`, False when another process holds it
    (``wait``: blocks until it is free instead)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield True
    finally:
        os.close(fd)
