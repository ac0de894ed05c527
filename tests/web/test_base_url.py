"""Links built from base_url, with a real `dailypapers serve` subprocess on a free port: unset, they
follow the listening address (the verification email's link works on any port); set to something
else, start-up says so in one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from webapp import free_port

CLI = Path(sys.executable).parent / "dailypapers"
STRONG = "violet-tractor-mango-91"


class Serve:
    def __init__(self, data_dir: Path, port: int, tmp_path: Path, **env: str):
        self.url = f"http://127.0.0.1:{port}"
        self.out, self.err = tmp_path / "stdout", tmp_path / "stderr"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        # no embedding model (lexical search only): start-up stays quick
        environ.update(DAILYPAPERS_MODEL_DIR=str(tmp_path / "no-model"), PYTHONUNBUFFERED="1", **env)
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen([str(CLI), "--data-dir", str(data_dir), "serve", "--port", str(port)],
                                         stdout=out, stderr=err, env=environ)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def serve(fresh_data_dir, tmp_path):
    started: list[Serve] = []

    def start(port: int, **env: str) -> Serve:
        s = Serve(fresh_data_dir, port, tmp_path, **env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def test_without_base_url_links_follow_the_listening_port(serve):
    port = free_port()
    s = serve(port)
    with httpx.Client(base_url=s.url) as c:
        home = c.get("/")
        assert f'<link rel="canonical" href="http://127.0.0.1:{port}/">' in home.text
        page = c.get("/signup")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post("/signup", data={"csrf_token": token, "email": "ada@example.org", "name": "ada",
                                    "password": STRONG})
        assert r.status_code in (200, 303), r.text
    # Without SMTP settings the verification email is printed to the console.
    deadline = time.monotonic() + 10
    while "/verify?token=" not in s.out.read_text():
        assert time.monotonic() < deadline, s.out.read_text()
        time.sleep(0.1)
    link = re.search(r"(http://\S+/verify\?token=\S+)", s.out.read_text()).group(1)
    assert link.startswith(f"http://127.0.0.1:{port}/verify?token=")
    assert httpx.get(link).status_code == 200  # the link in the email opens this server's page
    assert f"links in emails and feeds use http://127.0.0.1:{port}" in s.err.read_text()
    assert "warning" not in s.err.read_text()


def test_a_base_url_that_disagrees_with_the_listening_address_is_warned_about(serve):
    port = free_port()
    s = serve(port, DAILYPAPERS_BASE_URL="http://127.0.0.1:8000")
    warnings = [line for line in s.err.read_text().splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: DAILYPAPERS_BASE_URL is http://127.0.0.1:8000 but the server listens on "
                        f"http://127.0.0.1:{port}; links in emails, feeds and pages will point at the base URL"]
    # the setting still wins: it is the operator's choice
    assert '<link rel="canonical" href="http://127.0.0.1:8000/">' in httpx.get(s.url + "/").text
