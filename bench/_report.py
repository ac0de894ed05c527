"""Shared helpers for bench scripts: machine facts, percentiles, and BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
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


def mapped_index_mb(index_dir: str | Path) -> dict[str, float]:
    """MB of this process's RSS in each kind of index file under ``index_dir`` (/proc/self/smaps):
    the keyword index by file suffix (postings .idx, positions .pos, terms .term, ...), the vector
    files, the filter columns."""
    root = str(Path(index_dir).resolve())
    out: dict[str, float] = {}
    name = None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            parts = line.split()
            if not parts[0].endswith(":"):  # a mapping's first line: address, perms, offset, dev, inode, path
                name = parts[5] if len(parts) >= 6 and parts[5].startswith(root + "/") else None
            elif parts[0] == "Rss:" and name is not None:
                path = Path(name)
                kind = f"{path.parent.name}{path.suffix}" if path.parent.name == "lexical" else path.name
                out[kind] = out.get(kind, 0.0) + int(parts[1]) / 1024
    return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def settings_env(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` settings (docs/settings.md) as the environment that sets them; ValueError on a
    malformed pair."""
    env = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            raise ValueError(f"{pair!r}: use NAME=VALUE")
        env[f"DAILYPAPERS_{name.upper()}"] = value
    return env


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


# -- wrk ------------------------------------------------------------------------------------------
_LUA_ROTATE = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, connections: int, duration: int, paths_file: Path | None = None, threads: int = 2,
            headers: tuple[str, ...] = ()) -> dict:
    """wrk against `url` (or rotating through the paths in `paths_file`): req/s, errors, p50/p90/p99 ms."""
    # Accept-Encoding as a browser sends it: pages go out gzipped, as readers get them.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s",
           "-H", "Accept-Encoding: gzip, deflate, br"]
    for header in headers:
        cmd += ["-H", header]
    script = None
    if paths_file is not None:
        script = paths_file.with_suffix(".lua")
        script.write_text(_LUA_ROTATE % paths_file)
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "requests": total, "errors": errors, "p50": _ms(lat["50"]), "p90": _ms(lat["90"]),
            "p99": _ms(lat["99"]), "tool": "wrk"}
