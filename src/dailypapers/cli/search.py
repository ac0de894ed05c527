"""`dailypapers search | embed | reindex`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dailypapers.cli.context import Context, fail, pass_ctx
from dailypapers.search.embedding_jobs import embed_missing, embed_sentences, export_embeddings, import_embeddings
from dailypapers.search.query import SearchFilters


@click.command()
@pass_ctx
@click.option("--limit", type=int, help="Embed at most this many papers (and the sentences of as many).")
@click.option("--import", "import_path", type=click.Path(path_type=Path, exists=True),
              help="Load precomputed embeddings (.npz) instead of computing them.")
@click.option("--export", "export_path", type=click.Path(path_type=Path), help="Write all embeddings to an .npz file.")
def embed(ctx: Context, limit: int | None, import_path: Path | None, export_path: Path | None) -> None:
    """Compute embeddings for papers that have none, then those of their title and abstract
    sentences unless the embed_sentences setting is off (both resumable), then update the vector
    index."""
    embedder = ctx.embedder()
    if embedder is None:
        fail("no embedding model is installed; search works on lexical alone")
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
    if ctx.settings.embed_sentences:
        n = embed_sentences(store, embedder, batch_size=ctx.settings.embed_batch_size, limit=limit)
        click.echo(f"embedded the sentences of {n} papers")
    else:
        click.echo("sentence vectors are off (embed_sentences)")
    ctx.search_engine(embedder).sync()


@click.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the search indexes from the database."""
    ctx.search_engine(ctx.embedder()).rebuild()
    click.echo("search indexes rebuilt")


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "semantic"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def search(ctx: Context, query: str, limit: int, mode: str, as_json: bool) -> None:
    """Search papers and print id, title and score."""
    results = ctx.search_engine(ctx.embedder()).search(query, mode=mode, filters=SearchFilters(), per_page=limit)
    hits = [{"id": h.paper.arxiv_id, "title": h.paper.title, "score": round(h.score, 6)} for h in results.results]
    if as_json:
        click.echo(json.dumps({"mode": results.mode_used, "message": results.message, "results": hits}))
        return
    if results.message:
        click.echo(results.message, err=True)
    for h in hits:
        click.echo(f"{h['id']}\t{h['score']:.4f}\t{h['title']}")
