"""The `dailypapers` command line.

Global options come before the command, so several instances can live side by
side: `dailypapers --data-dir /srv/papers-a stats`.

Exit codes: 0 success; 1 an error (one line on stderr, no traceback);
2 bad usage; 3 the command finished but rejected some records.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from dailypapers.config import ConfigError, Settings, export_environ, load_settings

EXIT_ERROR = 1
EXIT_REJECTED = 3


class Context:
    def __init__(self, overrides: dict[str, Any]):
        self.overrides = overrides
        self._settings: Settings | None = None
        self._store = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.overrides)
        return self._settings

    def store(self, *, check: bool = True):
        if self._store is None:
            from dailypapers.storage import open_store

            self._store = open_store(self.settings.db_url)
        if check:
            self._store.check_schema()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _known_errors() -> tuple[type[BaseException], ...]:
    from dailypapers.days import BadPeriod
    from dailypapers.ids import BadArxivId
    from dailypapers.storage import StorageError

    errors: list[type[BaseException]] = [ConfigError, StorageError, BadArxivId, BadPeriod, FileNotFoundError]
    try:
        from dailypapers.ingest.arxiv_api import ArxivError

        errors.append(ArxivError)
    except ImportError:
        pass
    try:
        from dailypapers.search.engine import SearchError

        errors.append(SearchError)
    except ImportError:
        pass
    return tuple(errors)


class Group(click.Group):
    """Turns known errors into one line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _known_errors() as e:
            _fail(str(e))
        except KeyboardInterrupt:
            click.echo("interrupted; committed work is kept, rerun to resume", err=True)
            sys.exit(130)
        except OSError as e:
            _fail(f"{e.strerror or e}{': ' + str(e.filename) if e.filename else ''}")


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder [env DAILYPAPERS_DATA_DIR; default ./data].")
@click.option("--database-url", help="Database URL [env DAILYPAPERS_DATABASE_URL; default sqlite in the data folder].")
@click.version_option(package_name="dailypapers")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """dailypapers: a self-hosted daily list of research papers, with hybrid search."""
    context = Context({"data_dir": str(data_dir) if data_dir else None, "database_url": database_url})
    ctx.obj = context
    ctx.call_on_close(context.close)


# -- schema -------------------------------------------------------------------
@main.command()
@pass_ctx
def migrate(ctx: Context) -> None:
    """Create or upgrade the database schema."""
    store = ctx.store(check=False)
    applied = store.migrate()
    for m in applied:
        click.echo(f"applied {m.version:04d}_{m.name}")
    click.echo(f"schema is at version {store.schema_version()}")


# -- ingest -------------------------------------------------------------------
@main.group()
def ingest() -> None:
    """Add papers from arXiv, Hugging Face Daily Papers, or bulk files."""


def _finish_ingest(ctx: Context, summary, *, sync: bool = True) -> None:
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
    try:
        from dailypapers.search.engine import SearchEngine
    except ImportError:
        return
    settings = ctx.settings
    engine = SearchEngine(ctx.store(), settings.index_dir, _maybe_embedder(ctx) if settings.embed_on_ingest else None)
    if settings.embed_on_ingest and engine.embedder is not None:
        from dailypapers.search.embedding_jobs import embed_missing

        embed_missing(ctx.store(), engine.embedder, batch_size=settings.embed_batch_size)
    engine.sync()


def _maybe_embedder(ctx: Context):
    from dailypapers.app import load_embedder

    return load_embedder(ctx.settings)


def _reporter():
    from dailypapers.ingest.pipeline import RejectionReporter

    return RejectionReporter()


@ingest.command("hf-daily")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def ingest_hf_daily(ctx: Context, path: Path) -> None:
    """Import Hugging Face /api/daily_papers responses (a file or a folder of YYYY-MM-DD.json[.gz])."""
    from dailypapers.ingest.jobs import ingest_hf_daily as run

    _finish_ingest(ctx, run(ctx.store(), path, on_reject=_reporter()))


@ingest.command("jsonl")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--restart", is_flag=True, help="Ignore a saved position and read the file from the start.")
@pass_ctx
def ingest_jsonl(ctx: Context, path: Path, restart: bool) -> None:
    """Import bulk JSONL (Kaggle arXiv snapshot or arxiv-daily-cs format), streaming."""
    from dailypapers.ingest.jobs import ingest_jsonl as run

    def resumed(offset: int) -> None:
        click.echo(f"resuming {path} after byte {offset} (use --restart to read it all)", err=True)

    _finish_ingest(ctx, run(ctx.store(), path, restart=restart, on_reject=_reporter(), on_resume=resumed))


def _parse_date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    from dailypapers.days import parse_day

    try:
        return parse_day(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=name) from None


@ingest.command("arxiv-oai")
@click.option("--set", "set_spec", help="OAI set, e.g. cs or physics:hep-th.")
@click.option("--from", "from_date", help="Harvest records changed on or after YYYY-MM-DD [default: the last harvest].")
@click.option("--until", "until_date", help="Harvest records changed on or before YYYY-MM-DD.")
@click.option(
    "--format", "metadata_prefix", type=click.Choice(["arXivRaw", "arXiv"]), default="arXivRaw", show_default=True,
    help="Metadata format (arXivRaw carries version history).",
)
@pass_ctx
def ingest_arxiv_oai(ctx: Context, set_spec, from_date, until_date, metadata_prefix) -> None:
    """Harvest arXiv over OAI-PMH, politely, resuming where a stopped harvest left off."""
    from dailypapers.ingest.jobs import harvest_oai

    settings = ctx.settings
    summary = harvest_oai(
        ctx.store(),
        settings,
        metadata_prefix=metadata_prefix,
        set_spec=set_spec,
        from_date=_parse_date(from_date, "--from"),
        until_date=_parse_date(until_date, "--until"),
        on_reject=_reporter(),
        say=lambda msg: click.echo(msg, err=True),
    )
    _finish_ingest(ctx, summary)


@ingest.command("arxiv-ids")
@click.argument("ids", nargs=-1, required=True)
@pass_ctx
def ingest_arxiv_ids(ctx: Context, ids: tuple[str, ...]) -> None:
    """Fetch papers by arXiv id or URL from the arXiv search API."""
    from dailypapers.ingest.jobs import fetch_arxiv_ids

    summary, missing = fetch_arxiv_ids(ctx.store(), ctx.settings, list(ids), on_reject=_reporter())
    for arxiv_id in missing:
        click.echo(f"not found on arXiv: {arxiv_id}", err=True)
    click.echo(summary.line())
    _sync_search(ctx)
    if summary.rejected or missing:
        sys.exit(EXIT_REJECTED)


# -- search -------------------------------------------------------------------
@main.command()
@pass_ctx
@click.option("--limit", type=int, help="Embed at most this many papers.")
@click.option("--import", "import_path", type=click.Path(path_type=Path, exists=True),
              help="Load precomputed embeddings (.npz) instead of computing them.")
@click.option("--export", "export_path", type=click.Path(path_type=Path), help="Write all embeddings to an .npz file.")
def embed(ctx: Context, limit: int | None, import_path: Path | None, export_path: Path | None) -> None:
    """Compute embeddings for papers that have none (resumable), then update the vector index."""
    from dailypapers.search.embedding_jobs import embed_missing, export_embeddings, import_embeddings

    embedder = _maybe_embedder(ctx)
    if embedder is None:
        _fail("no embedding model is installed; search works on lexical alone")
    store = ctx.store()
    if import_path:
        imported, skipped = import_embeddings(store, import_path, embedder.model_id)
        click.echo(f"imported {imported} embeddings, skipped {skipped} (other model or changed text)")
    if export_path:
        n = export_embeddings(store, embedder.model_id, export_path)
        click.echo(f"exported {n} embeddings to {export_path}")
        return
    n = embed_missing(store, embedder, batch_size=ctx.settings.embed_batch_size, limit=limit)
    click.echo(f"embedded {n} papers")
    from dailypapers.search.engine import SearchEngine

    SearchEngine(store, ctx.settings.index_dir, embedder).sync()


@main.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the search indexes from the database."""
    from dailypapers.search.engine import SearchEngine

    engine = SearchEngine(ctx.store(), ctx.settings.index_dir, _maybe_embedder(ctx))
    engine.rebuild()
    click.echo("search indexes rebuilt")


@main.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "semantic"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def search(ctx: Context, query: str, limit: int, mode: str, as_json: bool) -> None:
    """Search papers and print id, title and score."""
    from dailypapers.search.engine import SearchEngine, SearchFilters

    engine = SearchEngine(ctx.store(), ctx.settings.index_dir, _maybe_embedder(ctx))
    results = engine.search(query, mode=mode, filters=SearchFilters(), per_page=limit)
    hits = [{"id": h.paper.arxiv_id, "title": h.paper.title, "score": round(h.score, 6)} for h in results.results]
    if as_json:
        click.echo(json.dumps({"mode": results.mode_used, "message": results.message, "results": hits}))
        return
    if results.message:
        click.echo(results.message, err=True)
    for h in hits:
        click.echo(f"{h['id']}\t{h['score']:.4f}\t{h['title']}")


@main.group(name="eval")
def eval_group() -> None:
    """Measure search quality."""


@eval_group.command("beir")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--qrels", type=click.Path(path_type=Path, exists=True), help="Relevance file [default: qrels/*.tsv].")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["lexical", "semantic", "hybrid"]),
              help="Modes to run [default: all three].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def eval_beir(ctx: Context, directory: Path, qrels: Path | None, modes: tuple[str, ...], as_json: bool) -> None:
    """Evaluate on a BEIR folder: nDCG@10, recall@100 and MRR@10 per mode."""
    from dailypapers.search.eval import evaluate_beir

    result = evaluate_beir(directory, qrels=qrels, modes=modes or ("lexical", "semantic", "hybrid"),
                           embedder=_maybe_embedder(ctx))
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"{'mode':<10}{'nDCG@10':>10}{'R@100':>10}{'MRR@10':>10}")
    for mode, m in result.items():
        if isinstance(m, dict):
            click.echo(f"{mode:<10}{m['ndcg@10']:>10.4f}{m['recall@100']:>10.4f}{m['mrr@10']:>10.4f}")


@eval_group.command("picks")
@click.option("--arrivals", "arrivals_path", required=True, type=click.Path(path_type=Path, exists=True),
              help="arXiv arrivals: bulk JSONL (arxiv-daily-cs or Kaggle format).")
@click.option("--lists", "lists_path", required=True, type=click.Path(path_type=Path, exists=True),
              help="Hugging Face daily lists: a folder of /api/daily_papers responses (YYYY-MM-DD.json[.gz]).")
@click.option("--embeddings", "embeddings_path", type=click.Path(path_type=Path, exists=True),
              help="Paper embeddings written by `dailypapers embed --export` (.npz).")
@click.option("--test-from", required=True, help="First test day, YYYY-MM-DD.")
@click.option("--test-until", help="Last test day [default: the last one the lists fully cover].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_picks(arrivals_path, lists_path, embeddings_path, test_from, test_until, as_json) -> None:
    """Replay each test day: would the ranker have put the community's picks on top? Against baselines."""
    from dailypapers.arrivals.evaluate import evaluate_files, format_table

    try:
        result = evaluate_files(arrivals_path, lists_path, _parse_date(test_from, "--test-from"),
                                _parse_date(test_until, "--test-until"), embeddings_path=embeddings_path)
    except ValueError as e:
        _fail(str(e))
    click.echo(json.dumps(result) if as_json else format_table(result))


# -- operations ---------------------------------------------------------------
@main.command()
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


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@pass_ctx
def backup(ctx: Context, target: Path) -> None:
    """Write a consistent copy of the database to TARGET while the site keeps running.

    The search indexes are not copied: `dailypapers reindex` rebuilds them from the database.
    """
    ctx.store().backup(target)
    click.echo(f"backed up to {target}")


@main.command()
@click.option("--host", help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, help="Port [default 8000].")
@click.option("--workers", type=int, help="Server processes [default 1].")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the site and the API."""
    import uvicorn

    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
    settings = ctx.settings.replace(**overrides)
    ctx.store()  # refuse to start on an out-of-date schema, with the fix in the message
    click.echo(f"serving on http://{settings.host}:{settings.port}", err=True)
    if settings.workers > 1:
        # Each worker process rebuilds the same settings from the environment.
        export_environ(settings)
        uvicorn.run("dailypapers.cli:worker_app", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level="warning")
    else:
        uvicorn.run(serving_app(settings), host=settings.host, port=settings.port, log_level="warning")


def serving_app(settings):
    """The app, with everything built at start-up moved out of the garbage collector's sight:
    full collections then walk only what requests allocate, and do not pause for long."""
    import gc

    from dailypapers.app import create_app

    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


def worker_app():
    """App factory for multi-process serving."""
    return serving_app(load_settings())


# Command groups that live in their own modules (they import Context from here).
from dailypapers.cli_users import trending, users  # noqa: E402

main.add_command(users)
main.add_command(trending)
from dailypapers.cli_digest import digest, schedule  # noqa: E402

main.add_command(digest)
main.add_command(schedule)
