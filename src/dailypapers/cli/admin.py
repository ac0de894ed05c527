"""Operations: `dailypapers migrate | migrate-data | stats | backup | restore | schedule | trending refresh`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from dailypapers.cli.context import Context, fail, pass_ctx
from dailypapers.days import list_day
from dailypapers.trending import REFRESH_DAYS


@click.command()
@pass_ctx
def migrate(ctx: Context) -> None:
    """Create or upgrade the database schema."""
    store = ctx.store(check=False)
    applied = store.migrate()
    for m in applied:
        click.echo(f"applied {m.version:04d}_{m.name}")
    click.echo(f"schema is at version {store.schema_version()}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    """Counts of papers, listings, days, embeddings (and papers whose sentences are embedded) and
    members."""
    counts = ctx.store().stats()
    if as_json:
        click.echo(json.dumps(counts))
        return
    for key, value in counts.items():
        click.echo(f"{key:<16}{value:>10}")


@click.command()
@click.argument("target", type=click.Path(path_type=Path))
@pass_ctx
def backup(ctx: Context, target: Path) -> None:
    """Write a consistent copy of the database to TARGET while the site keeps running.

    The search indexes are not copied: `dailypapers reindex` rebuilds them from the database.
    """
    ctx.store().backup(target)
    click.echo(f"backed up to {target}")


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@pass_ctx
def restore(ctx: Context, source: Path) -> None:
    """Load a backup made by `dailypapers backup` into this instance's database, which must be empty.

    PostgreSQL: create the database first (createdb NAME), then point --database-url at it. SQLite:
    a new data folder. Then `dailypapers reindex` (or a node's follower) rebuilds the search indexes.
    """
    store = ctx.store(check=False)
    store.restore(source)
    click.echo(f"restored {source}: schema version {store.schema_version()}")


@click.command("migrate-data")
@click.option("--from", "source_url", metavar="sqlite:///PATH",
              help="The SQLite database to copy [default: this instance's database].")
@click.option("--to", "target_url", required=True, metavar="postgresql://...",
              help="The PostgreSQL database to copy into: empty, or holding part of this same copy.")
@click.option("--batch-size", type=click.IntRange(1), default=5000, show_default=True, help="Rows per transaction.")
@pass_ctx
def migrate_data(ctx: Context, source_url: str | None, target_url: str, batch_size: int) -> None:
    """Copy a SQLite database into PostgreSQL, then check every table's rows and checksum.

    Ids and seqs are kept and PostgreSQL's sequences continue after them. Stop the site and its jobs
    first. Interrupted, it continues where it stopped when run again with the same arguments.
    """
    # Imported here: psycopg and the copy code load only for this command.
    from tqdm import tqdm

    from dailypapers.storage import transfer
    from dailypapers.storage.postgres import PostgresStore
    from dailypapers.storage.sqlite import SQLiteStore

    source_url = source_url or ctx.settings.db_url
    if not source_url.startswith("sqlite:///"):
        fail(f"--from must be a sqlite:///PATH URL, not {source_url.split('://')[0]}://...")
    if not target_url.startswith(("postgresql://", "postgres://")):
        fail(f"--to must be a postgresql:// URL, not {target_url.split('://')[0]}://...")
    path = Path(source_url.removeprefix("sqlite:///"))
    if not path.is_file():
        fail(f"no SQLite database at {path}")
    source = SQLiteStore(path)
    try:
        target = PostgresStore(target_url)
        try:
            tables, resumed = transfer.prepare(source, target)
            total, done = transfer.rows_to_copy(source, target, tables)
            click.echo(f"{'resuming the copy of' if resumed else 'copying'} {path} into {target.where}: "
                       f"{total} rows in {len(tables)} tables" + (f", {done} already copied" if resumed else ""))
            with tqdm(total=total, initial=done, unit=" rows", unit_scale=True, disable=None) as bar:
                def advance(table: str, rows: int) -> None:
                    bar.set_description(table, refresh=False)
                    bar.update(rows)

                transfer.copy_tables(source, target, tables, batch_size=batch_size, progress=advance)
            transfer.finish(target)
            click.echo("checking every table (rows and checksums)...")
            report = transfer.compare(source, target, tables)
        finally:
            target.close()
    finally:
        source.close()
    click.echo(transfer.format_comparison(report))
    differ = [c.table for c in report if not c.same]
    if differ:
        fail(f"{len(differ)} table{'s' if len(differ) != 1 else ''} differ after the copy: {', '.join(differ)} "
             "(was the source written to meanwhile?)")
    click.echo(f"done: {sum(c.target.rows for c in report)} rows in {len(report)} tables, all equal")


# An environment line, not --database-url on each job: command lines are visible to every user
# (ps), and cron turns a % (common in encoded passwords) in a command into a newline.
DATABASE_LINE = """\
# Every job's database, set here rather than on the command lines, which ps shows to every user.
# It may hold a password: keep this crontab readable by its owner only.
DAILYPAPERS_DATABASE_URL={url}
"""

SCHEDULE = """\
# dailypapers: digests go out just after the list day rolls over ({rollover} {tz}).
# CRON_TZ works with cronie; with another cron, convert to the server's time. See docs/operations.md.
CRON_TZ={tz}
# m  h  dom mon dow  command
  0  *  *   *   *    {dp} ingest arxiv-oai --set cs
 20  *  *   *   *    {dp} embed
 30  *  *   *   *    {dp} arrivals score   # new arrivals ranked, the rules applied
 10 19  *   *   *    {dp} arrivals train   # before the evening's announcement (20:00 US Eastern)
 45 21  *   *   *    {dp} digest send --period daily --quiet    # digests, and saved-search alerts
 50 21  *   *   *    {dp} digest send --period weekly --quiet   # and weekly alerts, on Mondays
  0  6  *   *   *    {dp} digest send --period daily --quiet   # catch-up: resends nothing already sent
"""


@click.command("schedule")
@pass_ctx
def schedule(ctx: Context) -> None:
    """Print crontab lines that run ingest, embedding and digests at the right times.

    With --database-url (or DAILYPAPERS_DATABASE_URL) set, the first line sets it for every job.
    """
    settings = ctx.settings
    if settings.database_url:
        click.echo(DATABASE_LINE.format(url=settings.database_url), nl=False)
    click.echo(SCHEDULE.format(dp=f"dailypapers --data-dir {settings.data_dir}", tz=settings.timezone,
                               rollover=settings.day_rollover), nl=False)


@click.group()
def trending() -> None:
    """The trending ranking (see dailypapers.trending for the formula)."""


@trending.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Every listed paper, not just recent ones.")
@click.option("--days", type=int, default=None,
              help="Papers listed in the last DAYS days [default: trending.REFRESH_DAYS].")
@pass_ctx
def refresh(ctx: Context, everything: bool, days: int | None) -> None:
    """Recompute stored trending keys (after imports changed Hugging Face counts, or new constants)."""
    settings = ctx.settings
    since = None
    if not everything:
        today = list_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
        since = today - dt.timedelta(days=days if days is not None else REFRESH_DAYS)
    changed = ctx.store().refresh_trending(since)
    click.echo(f"trending: {changed} paper{'s' if changed != 1 else ''} updated"
               + ("" if since is None else f" (listed since {since.isoformat()})"))
