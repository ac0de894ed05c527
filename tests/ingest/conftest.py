"""A tiny HTTP server that replays recorded arXiv responses, for the ingest tests.

The clients under test talk real HTTP (httpx) to 127.0.0.1; the server only
chooses which recorded body to send. Routes match on a subset of the query
parameters; a route holds a list of responses served in order (the last one
repeats). A request no route matches gets a 404 naming it, so a test fails
loudly instead of silently.

The `store` these tests use is tests/conftest.py's `backend_store`: a test that writes through
a store (the ingest jobs, the harvester's checkpoints) runs on SQLite and on PostgreSQL. The
parsing tests take no store and run once.
"""

from __future__ import annotations

import functools
import gzip
import json
import multiprocessing
import queue
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    at: float  # time.monotonic() when the server read the request
    path: str
    params: dict[str, str]


class FixtureServer:
    """Serves in a thread by default; `start(process=True)` serves from a forked
    process instead, so that the request times it records are not delayed by
    the test process's GIL (used by the pacing tests). In that mode add all
    routes before start()."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, dict[str, str], list[Reply]]] = []
        self._log: list[Seen] = []
        self._queue = None
        self._process = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                at = time.monotonic()
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                seen = Seen(at, url.path, params)
                if server._queue is not None:
                    server._queue.put((seen.at, seen.path, seen.params))  # plain tuples pickle anywhere
                else:
                    server._log.append(seen)
                reply = server._match(url.path, params)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[Seen]:
        if self._queue is not None:
            while True:
                try:
                    self._log.append(Seen(*self._queue.get(timeout=0.2)))
                except queue.Empty:
                    break
        return self._log

    def add(self, path: str, match: dict[str, str], *replies: Reply) -> None:
        if self._process is not None:
            raise RuntimeError("add routes before starting a process server")
        self.routes.append((path, match, list(replies)))

    def _match(self, path: str, params: dict[str, str]) -> Reply:
        for route_path, match, replies in self.routes:
            if route_path == path and all(params.get(k) == v for k, v in match.items()):
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(404, f"no fixture for {path}?{params}".encode(), {"Content-Type": "text/plain"})

    def start(self, *, process: bool = False) -> FixtureServer:
        if process:
            ctx = multiprocessing.get_context("fork")
            self._queue = ctx.Queue()
            self._process = ctx.Process(target=self._serve_in_child, daemon=True)
            self._process.start()
        else:
            self.thread.start()
        return self

    def _serve_in_child(self) -> None:
        # One connection at a time, in this thread: no thread start-up between a
        # request's arrival and its timestamp (the client keeps one connection).
        self.httpd.process_request = functools.partial(socketserver.TCPServer.process_request, self.httpd)
        self.httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
        elif self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fixture_server():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_server():
    """Unstarted servers, for tests that add routes first and then start(process=True)."""
    made: list[FixtureServer] = []

    def make() -> FixtureServer:
        made.append(FixtureServer())
        return made[-1]

    yield make
    for server in made:
        server.stop()


# -- loading recorded responses ------------------------------------------------


def xml_reply(relpath: str, status: int = 200) -> Reply:
    path = FIXTURES / relpath
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return Reply(status, data, {"Content-Type": "text/xml; charset=utf-8"})


def recorded_atom(name: str) -> tuple[dict[str, str], Reply]:
    """An arxiv.py recording {url, status_code, body}: its query params and reply."""
    data = json.loads((FIXTURES / "atom" / "recorded" / name).read_text(encoding="utf-8"))
    params = dict(parse_qsl(urlsplit(data["url"]).query, keep_blank_values=True))
    reply = Reply(data["status_code"], data["body"].encode("utf-8"), {"Content-Type": "application/atom+xml"})
    return params, reply


def nock_replies(name: str) -> list[Reply]:
    """paperhive/oai-pmh nock recordings: status, raw headers and body, in order."""
    replies = []
    for rec in json.loads((FIXTURES / "oai" / "paperhive_nock" / name).read_text(encoding="utf-8")):
        raw = rec.get("rawHeaders", [])
        headers = dict(zip(raw[0::2], raw[1::2]))
        keep = {k: v for k, v in headers.items() if k.lower() in {"retry-after", "content-type"}}
        body = rec["response"] if isinstance(rec["response"], str) else json.dumps(rec["response"])
        replies.append(Reply(rec["status"], body.encode("utf-8"), keep))
    return replies


class Recorded:
    """Access to the recorded responses, handed to tests as the `recorded` fixture."""

    root = FIXTURES
    Reply = Reply
    xml = staticmethod(xml_reply)
    atom = staticmethod(recorded_atom)
    nock = staticmethod(nock_replies)


@pytest.fixture
def recorded() -> type[Recorded]:
    return Recorded


@pytest.fixture
def store(backend_store):
    return backend_store
