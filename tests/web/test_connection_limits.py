"""Connection limits of a real `dailypapers serve` process (cli/http_protocol.py), over real sockets:
idle, slow-header and slow-body connections are closed, oversized headers refused, and a normal
request still served on the same server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from webapp import free_port

CLI = Path(sys.executable).parent / "dailypapers"
LIMITS = {"DAILYPAPERS_HEADER_TIMEOUT": "1", "DAILYPAPERS_BODY_TIMEOUT": "1", "DAILYPAPERS_MAX_HEADER_BYTES": "4096"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, web_data_dir):
    import shutil

    data = tmp_path_factory.mktemp("serve") / "data"
    shutil.copytree(web_data_dir, data)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(LIMITS, DAILYPAPERS_SECRET_KEY="test-secret", DAILYPAPERS_MODEL_DIR=str(data / "no-model"))
    err = data.parent / "stderr"
    with err.open("w") as f:
        proc = subprocess.Popen([str(CLI), "--data-dir", str(data), "serve", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=f, env=env)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, err.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, err.read_text()
        time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    assert "Traceback" not in err.read_text(), err.read_text()


def closed_within(s: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(whether the server closed the connection within `seconds`, what it sent first)."""
    s.settimeout(seconds)
    got = b""
    try:
        while True:
            more = s.recv(65536)
            if not more:
                return True, got
            got += more
    except TimeoutError:
        return False, got
    except ConnectionResetError:
        return True, got


def test_an_idle_connection_is_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        t = time.monotonic()
        closed, got = closed_within(s, 5)
        assert closed and got == b"" and time.monotonic() - t < 3


def test_slow_headers_get_408_and_the_connection_closes(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(b"GET / HTTP/1.1\r\n")
        t = time.monotonic()
        try:
            for _ in range(20):  # one header byte every 0.2 s: each arrives well inside any idle timeout
                s.sendall(b"X")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, got = closed_within(s, 5)
        assert closed and got.startswith(b"HTTP/1.1 408") and time.monotonic() - t < 4


def test_oversized_headers_get_431(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
        closed, got = closed_within(s, 5)
        assert closed and got.startswith(b"HTTP/1.1 431")
    with socket.create_connection(("127.0.0.1", server)) as s:  # 1 MB of headers, streamed
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            for _ in range(256):
                s.sendall(b"X-Pad: " + b"b" * 4089 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, got = closed_within(s, 5)
        assert closed and got.startswith(b"HTTP/1.1 431")


def test_a_slow_body_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 1000\r\n\r\nemail=a")
        t = time.monotonic()
        closed, _ = closed_within(s, 5)
        assert closed and time.monotonic() - t < 3


def test_a_normal_client_is_served_and_kept_alive(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server}") as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        big_enough = client.get("/papers/trending", headers={"X-Ok": "c" * 2000})
        assert big_enough.status_code == 200
