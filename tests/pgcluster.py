"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a free local port.

Nothing assumes a server that is already running. The binaries come from PATH or Debian's
/usr/lib/postgresql/<version>/bin (`make test` installs Debian's `postgresql` when they are
missing). initdb refuses to run as root, so as root the cluster belongs to the `postgres` system
user (which the Debian package creates) and its commands run through `runuser`.

Durability is off (fsync, synchronous_commit, full_page_writes): the cluster lives for one test
session and is thrown away, and nothing here measures durability.

The cluster lives in /dev/shm when that is a tmpfs with room: a test session copies a few hundred
databases, and on this machine's disk creating one took 300-480 ms and deleting the 1.2 GB that
tests/storage left behind took 25-78 s at the end of the session; in memory, 80 ms and under a
second. Each test's database is dropped when the test ends, so the cluster stays small either way.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from dailypapers.storage.postgres import PostgresStore

TEMPLATE = "dp_template"
SHM = Path("/dev/shm")
# Free room /dev/shm needs before the cluster goes there (Docker's default is 64 MB).
SHM_NEEDS = 2 * 1024**3


def find_bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def cluster_parent() -> str | None:
    """Where the cluster's folder goes: /dev/shm when it has room, else the default temp folder."""
    try:
        st = os.statvfs(SHM)
    except OSError:
        return None
    return str(SHM) if st.f_bavail * st.f_frsize >= SHM_NEEDS and os.access(SHM, os.W_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        parent = cluster_parent()
        self.root = Path(tempfile.mkdtemp(prefix="dailypapers-pg-", dir=parent))
        # In memory a file copy is cheapest; on disk WAL_LOG beats FILE_COPY's two checkpoints.
        self.strategy = "FILE_COPY" if parent else "WAL_LOG"
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._databases = 0

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    PASSWORD = "test-only-password"

    def init(self) -> None:
        # TCP logins need the password (so a wrong one can be tested); the socket is trusted.
        pwfile = self.root / "pw"
        pwfile.write_text(self.PASSWORD)
        if self.as_user:
            owner = pwd.getpwnam("postgres")
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://postgres:{password or self.PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)

    def make_template(self) -> None:
        """A migrated database that every test's database is copied from (CREATE DATABASE is a
        file copy: much faster than migrating each one)."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if int(conn.execute("SHOW server_version_num").fetchone()[0]) < 150000:
                self.strategy = ""  # STRATEGY came with PostgreSQL 15
        self.sql(f"CREATE DATABASE {TEMPLATE}")
        store = PostgresStore(self.url(TEMPLATE))
        store.migrate()
        store.close()

    def new_database(self, template: str = TEMPLATE) -> str:
        """A fresh copy of a template (by default the migrated, empty one); returns its URL. The
        template must have no open connections while it is copied."""
        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {template}" + (f" STRATEGY {self.strategy}" if self.strategy else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test's database, closing whatever connections a test left open."""
        name = url.rsplit("/", 1)[1]
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
