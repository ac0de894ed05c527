"""Shared helpers for bench scripts: machine facts, percentiles, and BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "BENCHMARKS.md"
DEFAULT_DATA = REPO.parent / "shared" / "data"


def machine() -> str:
    try:
        mem_kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        mem = "RAM unknown"
    return f"{os.cpu_count()} cores, {mem}, Python {platform.python_version()}, {platform.machine()}"


def git_rev() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_rss_mb() -> float:
    """Peak resident memory of this process, from /proc (VmHWM)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def append_section(title: str, command: str | None, body: str, *, path: Path = BENCHMARKS) -> None:
    """Append a dated result section; earlier runs stay below as history."""
    command = command or "python " + " ".join(sys.argv)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n### {title}\n\n"
        f"- date: {stamp}; git: {git_rev()}; machine: {machine()}\n"
        f"- command: `{command}`\n\n{body.strip()}\n"
    )
    if not path.exists():
        path.write_text("# Benchmarks\n\nEach section is appended by a script in bench/.\n")
    with open(path, "a", encoding="utf-8") as f:
        f.write(section)
    print(section)


def start_server(data_dir, port: int, env: dict, *, tries: int = 600):
    """`dailypapers serve` in its own process group; returns once /healthz answers."""
    import subprocess
    import time

    import httpx

    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start: " + server.stderr.read().decode()[-2000:])
