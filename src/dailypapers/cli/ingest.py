"""`dailypapers ingest hf-daily | jsonl | arxiv-oai | arxiv-ids`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dailypapers.cli.context import EXIT_REJECTED, Context, parse_date_option, pass_ctx
from dailypapers.ingest import jobs
from dailypapers.ingest.pipeline import IngestSummary, RejectionReporter
from dailypapers.search.embedding_jobs import embed_missing, embed_sentences


@click.group()
def ingest() -> None:
    """Add papers from arXiv, Hugging Face Daily Papers, or bulk files."""


def _finish_ingest(ctx: Context, summary: IngestSummary, *, sync: bool = True) -> None:
    click.echo(summary.line())
    if summary.listings_added or summary.listings_updated:
        # Imported upvote counts move papers up or down the trending list.
        ctx.store().refresh_trending()
    if sync:
        _sync_search(ctx)
    if summary.rejected:
        click.echo(f"{summary.rejected} records were rejected (see the messages above)", err=True)
        sys.exit(EXIT_REJECTED)


def _sync_search(ctx: Context) -> None:
    """Bring the search indexes up to date with what was just committed."""
    settings = ctx.settings
    engine = ctx.search_engine(ctx.embedder() if settings.embed_on_ingest else None)
    if settings.embed_on_ingest and engine.embedder is not None:
        embed_missing(ctx.store(), engine.embedder, batch_size=settings.embed_batch_size)
        if settings.embed_sentences:
            embed_sentences(ctx.store(), engine.embedder, batch_size=settings.embed_batch_size)
    engine.sync()


@ingest.command("hf-daily")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def ingest_hf_daily(ctx: Context, path: Path) -> None:
    """Import Hugging Face /api/daily_papers responses (a file or a folder of YYYY-MM-DD.json[.gz])."""
    _finish_ingest(ctx, jobs.ingest_hf_daily(ctx.store(), path, on_reject=RejectionReporter(),
                                              holidays=ctx.settings.holidays))


@ingest.command("jsonl")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--restart", is_flag=True, help="Ignore a saved position and read the file from the start.")
@pass_ctx
def ingest_jsonl(ctx: Context, path: Path, restart: bool) -> None:
    """Import bulk JSONL (Kaggle arXiv snapshot or arxiv-daily-cs format), streaming."""

    def resumed(offset: int) -> None:
        click.echo(f"resuming {path} after byte {offset} (use --restart to read it all)", err=True)

    summary = jobs.ingest_jsonl(ctx.store(), path, restart=restart, on_reject=RejectionReporter(), on_resume=resumed,
                                holidays=ctx.settings.holidays)
    _finish_ingest(ctx, summary)


@ingest.command("arxiv-oai")
@click.option("--set", "set_spec", help="OAI set, e.g. cs or physics:hep-th.")
@click.option("--from", "from_date", help="Harvest records changed on or after YYYY-MM-DD [default: the last harvest].")
@click.option("--until", "until_date", help="Harvest records changed on or before YYYY-MM-DD.")
@click.option(
    "--format", "metadata_prefix", type=click.Choice(["arXivRaw", "arXiv"]), default="arXivRaw", show_default=True,
    help="Metadata format (arXivRaw carries version history).",
)
@pass_ctx
def ingest_arxiv_oai(ctx: Context, set_spec: str | None, from_date: str | None, until_date: str | None,
                     metadata_prefix: str) -> None:
    """Harvest arXiv over OAI-PMH, politely, resuming where a stopped harvest left off."""
    summary = jobs.harvest_oai(
        ctx.store(),
        ctx.settings,
        metadata_prefix=metadata_prefix,
        set_spec=set_spec,
        from_date=parse_date_option(from_date, "--from"),
        until_date=parse_date_option(until_date, "--until"),
        on_reject=RejectionReporter(),
        say=lambda msg: click.echo(msg, err=True),
    )
    _finish_ingest(ctx, summary)


@ingest.command("arxiv-ids")
@click.argument("ids", nargs=-1, required=True)
@pass_ctx
def ingest_arxiv_ids(ctx: Context, ids: tuple[str, ...]) -> None:
    """Fetch papers by arXiv id or URL from the arXiv search API."""
    summary, missing = jobs.fetch_arxiv_ids(ctx.store(), ctx.settings, list(ids), on_reject=RejectionReporter())
    for arxiv_id in missing:
        click.echo(f"not found on arXiv: {arxiv_id}", err=True)
    click.echo(summary.line())
    _sync_search(ctx)
    if summary.rejected or missing:
        sys.exit(EXIT_REJECTED)
