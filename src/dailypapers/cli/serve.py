"""`dailypapers serve`, and the pre-fork supervisor that runs several workers."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import socket
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any, Literal

import click

from dailypapers.cli.context import Context, pass_ctx
from dailypapers.config import Settings, base_url_mismatch
from dailypapers.storage import DatabaseUnavailable

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from dailypapers.search.embedder import Embedder

    QueryModel = Embedder | Literal[False] | None  # None: load it; False: none (lexical search only)

STARTUP_FAILED = 3  # a worker's exit code when it cannot build the app (uvicorn uses 3 too)
RESPAWN_DELAY = 1.0  # seconds before a worker that died is replaced
M_ARENA_MAX = -8  # glibc's mallopt() parameters (malloc.h)
M_MMAP_THRESHOLD = -3
# Blocks this large or larger are mapped on their own and go back to the system when freed. glibc's
# own threshold starts at 128 KiB but rises, up to 32 MiB, to the size of each mapped block freed, so
# that later temporaries of up to that size stay in the heap once freed: at 3M papers the key tables
# a node's first searches build left ~100 MB more resident than they keep (BENCHMARKS.md, "A node's
# memory at 3M: positions, counts and malloc").
MMAP_THRESHOLD = 4 << 20


@click.command()
@click.option("--host", help="Address to listen on [default 127.0.0.1]. Without DAILYPAPERS_BASE_URL, links "
              "in emails and feeds use http://HOST:PORT (0.0.0.0: this machine's host name).")
@click.option("--port", type=int, help="Port [default 8000].")
@click.option("--workers", type=int, help="Server processes [default 1]. With more than one, a supervisor loads "
              "the code and the query model once and forks the workers, which share those pages.")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the site and the API."""
    tune_malloc(ctx.settings.malloc_arenas)  # first: before another thread allocates
    import uvicorn  # here, not at the top: every other command would pay for loading it

    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
    settings = ctx.settings.replace(**overrides)
    wait_for_database(ctx)  # and refuse to start on an out-of-date schema, with the fix in the message
    click.echo(f"serving on http://{settings.host}:{settings.port}", err=True)
    warning = base_url_mismatch(settings)
    if warning:
        click.echo(warning, err=True)
    elif not settings.base_url:
        click.echo(f"links in emails and feeds use {settings.public_url} (set DAILYPAPERS_BASE_URL to change)",
                   err=True)
    if settings.workers > 1:
        ctx.close()  # a database connection must not cross a fork: each worker opens its own
        sys.exit(prefork(settings))
    else:
        uvicorn.run(serving_app(settings), **server_options(settings))


def tune_malloc(arenas: int) -> bool:
    """Cap glibc's malloc arenas for this process and the workers it forks, and fix its mmap
    threshold at ``MMAP_THRESHOLD`` (``arenas`` 0: glibc's defaults, 8 arenas per core). glibc gives
    threads that allocate at once arenas of their own, and memory freed in one is not reused by
    another: under steady load a worker's RSS kept growing while its Python heap stayed flat
    (BENCHMARKS.md, "Load: 600 s"). Arenas made before the call stay. False where there is no glibc
    (musl, macOS) or nothing was asked."""
    if arenas <= 0:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def wait_for_database(ctx: Context, *, first_wait: float = 1.0, max_wait: float = 30.0) -> None:
    """Open the store, waiting while the database server is down (it may still be starting, or
    restarting): one line per try, doubling waits. A wrong URL or password fails at once."""
    wait = first_wait
    while True:
        try:
            ctx.store()
            return
        except DatabaseUnavailable as e:
            click.echo(f"{e}; retrying in {wait:g} s", err=True)
            time.sleep(wait)
            wait = min(wait * 2, max_wait)


def serving_app(settings: Settings, embedder: QueryModel = None) -> Starlette:
    """The app, with everything built at start-up moved out of the garbage collector's sight:
    full collections then walk only what requests allocate, and do not pause for long.
    ``embedder``: the query model loaded by the supervisor (False: none), else loaded here."""
    # anyio imports its asyncio backend when a handler first runs something in a thread (a vote,
    # a login): 27-45 ms of CPU, 300-500 ms of wall time at load 8, on the event loop, so every
    # request arriving meanwhile waits. The first votes after a start paid it: the 32-voter
    # p99 (issue 14). Imported now, before the freeze below.
    import anyio._backends._asyncio  # noqa: F401

    # Imported here: the app loads the web stack and tantivy, which the other commands never need.
    from dailypapers.app import create_app
    from dailypapers.search.follow import IndexFollower

    app = create_app(settings) if embedder is None else create_app(settings, embedder=embedder)
    # Keeps this node's search indexes caught up with the database (new papers, votes, edits
    # written through any node or by a job).
    IndexFollower(app.state.services.search).start()
    gc.collect()
    gc.freeze()
    return app


def prefork(settings: Settings) -> int:
    """Run ``settings.workers`` uvicorn workers on one listening socket, forked from this process.

    Before forking, this process imports the code and loads the query model (ONNX Runtime session
    and tokenizer) and never runs them: the workers then share those pages copy-on-write instead
    of each holding its own copy (uvicorn's own ``--workers`` spawns fresh interpreters). Measured
    in bench/bench_web.py ("Memory of each serving process"). Each worker opens its own store and
    indexes, and starts its own index follower, after the fork: connections and threads do not
    survive one. A worker that dies is replaced; SIGTERM or SIGINT stops them all."""
    import dailypapers.app  # noqa: F401 - loaded once here, shared by the workers
    import dailypapers.web.routes  # noqa: F401
    from dailypapers.search.embedder import load_embedder

    embedder: QueryModel = load_embedder(settings.model_dir, threads=1) or False  # False: no model
    sock = listening_socket(settings.host, settings.port)
    gc.collect()
    gc.freeze()  # the objects made so far stay put: no collection in a worker dirties their pages
    children: dict[int, float] = {}
    stopping = False

    def start_worker() -> None:
        pid = os.fork()
        if pid:
            children[pid] = time.monotonic()
            return
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            run_worker(settings, embedder, sock)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:  # noqa: BLE001 - report and leave: the supervisor decides
            traceback.print_exc()
            code = STARTUP_FAILED
        finally:
            sys.stderr.flush()
            os._exit(code)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    for _ in range(settings.workers):
        start_worker()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while children:
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            break
        children.pop(pid, None)
        code = os.waitstatus_to_exitcode(raw)
        if stopping:
            continue
        if code == STARTUP_FAILED:  # it would fail again: stop
            click.echo(f"worker {pid} could not start; stopping", err=True)
            status = 1
            stop(signal.SIGTERM, None)
            continue
        click.echo(f"worker {pid} exited ({code}); starting another", err=True)
        time.sleep(RESPAWN_DELAY)
        start_worker()
    sock.close()
    return status


def run_worker(settings: Settings, embedder: QueryModel, sock: socket.socket) -> None:
    """One forked worker: build the app over the shared model, serve on the inherited socket."""
    import uvicorn

    app = serving_app(settings, embedder)
    uvicorn.Server(uvicorn.Config(app, **server_options(settings))).run(sockets=[sock])


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings: the connection limits it lacks (cli/http_protocol.py), and no rewriting of
    the client's address from X-Forwarded-For (the app reads it, only from settings.trusted_proxies)."""
    from dailypapers.cli.http_protocol import GuardedHttpProtocol

    return {"host": settings.host, "port": settings.port, "log_level": "warning", "proxy_headers": False,
            "http": GuardedHttpProtocol.for_settings(settings)}


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on (bound here, listened on by each worker's uvicorn)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock
