"""`dailypapers serve`, and the app factories it hands to uvicorn."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import click

from dailypapers.cli.context import Context, pass_ctx
from dailypapers.config import Settings, base_url_mismatch, export_environ, load_settings

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
    ctx.store()  # refuse to start on an out-of-date schema, with the fix in the message
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


def serving_app(settings: Settings) -> Starlette:
    """The app, with everything built at start-up moved out of the garbage collector's sight:
    full collections then walk only what requests allocate, and do not pause for long."""
    # Imported here: the app loads the web stack and tantivy, which the other commands never need.
    from dailypapers.app import create_app

    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


def worker_app() -> Starlette:
    """App factory for multi-process serving."""
    return serving_app(load_settings())
