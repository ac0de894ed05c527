"""Community tests: a real migrated SQLite file, the real app over HTTP (Starlette's httpx-based
TestClient), a real SMTP server (aiosmtpd) receiving the verification and reset emails, and a real
HTTP server replaying recorded arXiv responses for submissions."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import socket
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from dailypapers.app import build_services
from dailypapers.config import Settings
from dailypapers.ingest.arxiv_api import ArxivClient
from dailypapers.mail import SMTPMailer
from dailypapers.models import Listing, Paper
from dailypapers.storage import open_store
from dailypapers.web.routes import build_app

UTC = dt.timezone.utc
TESTS = Path(__file__).resolve().parents[1]
STRONG = "violet-tractor-mango-91"  # zxcvbn score 4

# The arXiv engineer's fixture server (tests/ingest/conftest.py), loaded by path: conftest modules
# are not importable by name.
_spec = importlib.util.spec_from_file_location("_arxiv_fixture_server", TESTS / "ingest" / "conftest.py")
arxiv_fixtures = importlib.util.module_from_spec(_spec)
sys.modules["_arxiv_fixture_server"] = arxiv_fixtures
_spec.loader.exec_module(arxiv_fixtures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Messages a real aiosmtpd server received."""

    def __init__(self):
        self.messages = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def link(msg, path: str) -> str:
        text = msg.get_body(("plain",)).get_content()
        m = re.search(r"https?://\S+" + re.escape(path) + r"\?token=\S+", text)
        assert m, text
        return m.group(0)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now = self.now + dt.timedelta(**kw)


# 2021-04-22 12:00 UTC: two days after 2104.12255 appeared on arXiv (a recorded response).
NOW = dt.datetime(2021, 4, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def arxiv_server():
    server = arxiv_fixtures.FixtureServer()
    for name in [
        "id_2104.12255v1_s0_m100_6ae69987ffe1.json",
        "id_1605.08386_s0_m100_199195aa31ad.json",
        "id_1707.08567_s0_m100_6a1afebfc6a3.json",
        "id_0000.0000_s0_m100_8b51d9633a68.json",
    ]:
        params, reply = arxiv_fixtures.recorded_atom(name)
        server.add("/api/query", {"id_list": params["id_list"].removesuffix("v1")}, reply)
    # A withdrawn paper: the recorded 1605.08386 entry, re-served as 2104.99999 with arXiv's
    # withdrawal notice in its abstract (as arXiv shows withdrawn papers).
    _, reply = arxiv_fixtures.recorded_atom("id_1605.08386_s0_m100_199195aa31ad.json")
    body = reply.body.decode().replace("1605.08386", "2104.99999").replace("2016-05-26", "2021-04-21")
    body = re.sub(r"<summary>", "<summary>This paper has been withdrawn by the authors. ", body, count=1)
    assert "has been withdrawn" in body
    server.add("/api/query", {"id_list": "2104.99999"}, arxiv_fixtures.Reply(200, body.encode(), reply.headers))
    server.start()
    yield server
    server.stop()


class Env:
    """One app over one database, plus handles on its parts."""

    def __init__(self, settings, store, services, app, clock, smtp):
        self.settings, self.store, self.services, self.app, self.clock, self.smtp = (
            settings, store, services, app, clock, smtp)
        self._clients = []

    @property
    def community(self):
        """The services (accounts, votes, submissions, comments, curation)."""
        return self.services

    def client(self, ip: str = "10.0.0.1", **kw) -> TestClient:
        c = TestClient(self.app, client=(ip, 50000), follow_redirects=False, **kw)
        c.__enter__()
        self._clients.append(c)
        return c

    def close(self):
        for c in self._clients:
            c.__exit__(None, None, None)

    # -- helpers -----------------------------------------------------------------------------
    def member(self, name: str, *, role: str = "member", verified: bool = True, password: str = STRONG):
        return self.community.accounts.create_user(f"{name}@example.org", name, password, role=role,
                                                   verified=verified, check_strength=False)

    def login(self, client: TestClient, name: str, password: str = STRONG):
        token = csrf(client)
        r = client.post("/login", data={"email": f"{name}@example.org", "password": password,
                                        "csrf_token": token, "next": "/"})
        assert r.status_code == 303, r.text
        return csrf(client)  # tokens are bound to the session: the new session's own

    def paper(self, arxiv_id: str = "2104.00001", *, day: dt.date | None = None, hf_upvotes: int = 0,
              published: dt.datetime | None = None, title: str | None = None):
        p = Paper(arxiv_id=arxiv_id, title=title or f"Paper {arxiv_id}", abstract="An abstract.",
                  authors=["A. Author"], published=published or NOW - dt.timedelta(days=1))
        listings = [Listing(arxiv_id=arxiv_id, day=day, upvotes=hf_upvotes, source="hf")] if day else []
        self.store.ingest_batch([p], listings)
        return self.store.get_paper(arxiv_id)


def csrf(client: TestClient, path: str = "/login") -> str:
    r = client.get(path)
    m = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert m, r.text[:500]
    return m.group(1)


def make_env(tmp_path, smtp, arxiv_url: str | None, **overrides) -> Env:
    settings = Settings(data_dir=tmp_path / "data", arxiv_delay=0.0, secret_key="test-secret-key",
                        smtp_host="127.0.0.1", smtp_port=smtp.port if smtp else 25, smtp_security="none",
                        **overrides)
    store = open_store(settings.db_url)
    store.migrate()
    mailer = SMTPMailer("127.0.0.1", smtp.port, security="none") if smtp else None
    arxiv = ArxivClient(arxiv_url + "/api/query", delay=0, max_retries=0) if arxiv_url else None
    clock = Clock(NOW)
    # argon2id with small costs keeps the suite fast; the code path is the production one.
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    services = build_services(settings, store=store, embedder=False, mailer=mailer, arxiv=arxiv, clock=clock,
                              hasher=hasher)
    app = build_app(services)
    return Env(settings, store, services, app, clock, smtp)


@pytest.fixture
def env(tmp_path, smtp, arxiv_server, backend_url):
    """On SQLite and on PostgreSQL (tests/conftest.py's `backend`)."""
    e = make_env(tmp_path, smtp, arxiv_server.url, database_url=backend_url)
    e._arxiv_server = arxiv_server
    yield e
    e.close()
    e.store.close()


def fresh(env) -> None:
    """Forget rendered pages (list pages trust the store version for up to a second)."""
    env.app.state.site.cache.clear()
    env.app.state.papers._version = None
