"""Operations: `dailypapers migrate | stats | backup | schedule | trending refresh`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from dailypapers.cli.context import Context, pass_ctx
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
    """Counts of papers, listings, days, embeddings and members."""
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


SCHEDULE = """\
# dailypapers: digests go out just after the list day rolls over ({rollover} {tz}).
# CRON_TZ works with cronie; with another cron, convert to the server's time. See docs/operations.md.
CRON_TZ={tz}
# m  h  dom mon dow  command
  0  *  *   *   *    {dp} ingest arxiv-oai --set cs
 20  *  *   *   *    {dp} embed
 30  *  *   *   *    {dp} arrivals score   # new arrivals ranked, the rules applied
 10 19  *   *   *    {dp} arrivals train   # before the evening's announcement (20:00 US Eastern)
 45 21  *   *   *    {dp} digest send --period daily --quiet
 50 21  *   *   *    {dp} digest send --period weekly --quiet
  0  6  *   *   *    {dp} digest send --period daily --quiet   # catch-up: resends nothing already sent
"""


@click.command("schedule")
@pass_ctx
def schedule(ctx: Context) -> None:
    """Print crontab lines that run ingest, embedding and digests at the right times."""
    settings = ctx.settings
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
