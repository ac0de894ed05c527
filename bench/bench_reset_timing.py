"""Password-reset timing parity: does POST /reset answer as fast for an unknown email as for an account?

Requests go through the real app over HTTP (httpx over ASGI, in process) on a migrated SQLite file,
alternating an existing account and an unknown one, N of each. Mail goes to a mailer that drops
it (the reply never waits on it: it is rendered and sent by the mail thread). Baseline, measured in
the same run: what rendering the reset email inline (as before issue 16) costs per request.

    python bench/bench_reset_timing.py [--n 500] [--no-append]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

import httpx
from _report import append_section, median, percentile, table

from dailypapers.app import build_services
from dailypapers.community.accounts import EMAILS
from dailypapers.config import Settings
from dailypapers.mail import TemplateMail
from dailypapers.storage.sqlite import SQLiteStore
from dailypapers.web.routes import build_app


class DropMailer:
    def send(self, message) -> None:
        pass


async def measure(app, n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"account": [], "unknown": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/reset")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        for i in range(n + 20):  # the first 20 pairs warm up
            for kind, email in (("account", "ada@example.org"), ("unknown", f"nobody{i}@example.org")):
                t = time.perf_counter()
                r = await client.post("/reset", data={"email": email, "csrf_token": token})
                elapsed = time.perf_counter() - t
                assert r.status_code == 200, r.status_code
                if i >= 20:
                    times[kind].append(elapsed * 1000)
    return times


def inline_render_ms(n: int) -> list[float]:
    templates = TemplateMail(EMAILS)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        templates.render("reset", {"name": "ada", "site": "Daily Papers", "base_url": "http://testserver",
                                   "link": "http://testserver/reset/confirm?token=x", "existing": False},
                         to="ada@example.org", sender="papers@localhost")
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = SQLiteStore(data / "dailypapers.db")
        store.migrate()
        settings = Settings(data_dir=data, secret_key="bench", base_url="http://testserver",
                            rate_reset="1000000/60")
        services = build_services(settings, store=store, embedder=False, mailer=DropMailer(), arxiv=object())
        services.accounts.create_user("ada@example.org", "ada", None, verified=True)
        times = asyncio.run(measure(build_app(services), args.n))
        services.accounts.mail.join()
        store.close()
    baseline = inline_render_ms(args.n)
    rows = [[kind, len(v), f"{median(v):.2f}", f"{percentile(v, 95):.2f}"] for kind, v in times.items()]
    rows.append(["baseline: rendering the email inline", len(baseline), f"{median(baseline):.2f}",
                 f"{percentile(baseline, 95):.2f}"])
    diff = median(times["account"]) - median(times["unknown"])
    body = table(["POST /reset for", "requests", "median ms", "p95 ms"], rows) + (
        f"\n\nMedian difference (account - unknown): {diff:+.2f} ms; before issue 16 the reply also rendered "
        "the email for an account (the baseline row), which the outside probe saw as 8.1 ms against 3.5 ms.\n")
    print(body)
    if not args.no_append:
        append_section("Password reset: timing for an account and for an unknown email", None, body)


if __name__ == "__main__":
    main()
