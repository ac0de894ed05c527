"""The `dailypapers` command line.

Global options come before the command, so several instances can live side by
side: `dailypapers --data-dir /srv/papers-a stats`.

Exit codes: 0 success; 1 an error (one line on stderr, no traceback);
2 bad usage; 3 the command finished but rejected some records.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dailypapers.cli import admin, arrivals, digest, evaluate, ingest, search, serve, users
from dailypapers.cli.context import Context, fail
from dailypapers.config import ConfigError
from dailypapers.days import BadPeriod
from dailypapers.ids import BadArxivId
from dailypapers.storage import StorageError


def _known_errors() -> tuple[type[BaseException], ...]:
    # Imported only when an error needs sorting: these modules load tantivy, httpx and lxml,
    # which would slow down every command's start.
    from dailypapers.ingest.arxiv_api import ArxivError
    from dailypapers.search.engine import SearchError

    return (ConfigError, StorageError, BadArxivId, BadPeriod, FileNotFoundError, ArxivError, SearchError)


class Group(click.Group):
    """Turns known errors into one line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _known_errors() as e:
            fail(str(e))
        except KeyboardInterrupt:
            click.echo("interrupted; committed work is kept, rerun to resume", err=True)
            sys.exit(130)
        except OSError as e:
            fail(f"{e.strerror or e}{': ' + str(e.filename) if e.filename else ''}")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path),
              help="Data folder [env DAILYPAPERS_DATA_DIR; default ./data].")
@click.option("--database-url", help="Database URL [env DAILYPAPERS_DATABASE_URL; default sqlite in the data folder].")
@click.version_option(package_name="dailypapers")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """dailypapers: a self-hosted daily list of research papers, with hybrid search."""
    context = Context({"data_dir": str(data_dir) if data_dir else None, "database_url": database_url})
    ctx.obj = context
    ctx.call_on_close(context.close)


for command in (
    admin.migrate, admin.migrate_data, admin.stats, admin.backup, admin.restore, admin.schedule, admin.trending,
    ingest.ingest,
    arrivals.arrivals,
    search.search, search.embed, search.reindex,
    evaluate.eval_group,
    serve.serve,
    users.users,
    digest.digest,
):
    main.add_command(command)
