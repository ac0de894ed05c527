"""`dailypapers serve`, and the app factories it hands to uvicorn."""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

import click

from dailypapers.cli.context import Context, pass_ctx
from dailypapers.config import Settings, base_url_mismatch, export_environ, load_settings
from dailypapers.storage import DatabaseUnavailable

if TYPE_CHECKING:
    from starlette.applications import Starlette


@click.command()
@click.option("--host", help="Address to listen on [default 127.0.0.1]. Without DAILYPAPERS_BASE_URL, links "
              "in emails and feeds use http://HOST:PORT (0.0.0.0: this machine's host name).")
@click.option("--port", type=int, help="Port [default 8000].")
@click.option("--workers", type=int, help="Server processes [default 1].")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the site and the API."""
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
        # Each worker process rebuilds the same settings from the environment.
        export_environ(settings)
        uvicorn.run("dailypapers.cli.serve:worker_app", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level="warning")
    else:
        uvicorn.run(serving_app(settings), host=settings.host, port=settings.port, log_level="warning")


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


def serving_app(settings: Settings) -> Starlette:
    """The app, with everything built at start-up moved out of the garbage collector's sight:
    full collections then walk only what requests allocate, and do not pause for long."""
    # Imported here: the app loads the web stack and tantivy, which the other commands never need.
    from dailypapers.app import create_app
    from dailypapers.search.follow import IndexFollower

    app = create_app(settings)
    # Keeps this node's search indexes caught up with the database (new papers, votes, edits
    # written through any node or by a job).
    IndexFollower(app.state.services.search).start()
    gc.collect()
    gc.freeze()
    return app


def worker_app() -> Starlette:
    """App factory for multi-process serving."""
    return serving_app(load_settings())
