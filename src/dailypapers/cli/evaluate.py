"""`dailypapers eval beir | picks`: search quality on a BEIR folder, and the arrivals ranker replayed
against a community's past lists."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dailypapers.cli.context import Context, fail, parse_date_option, pass_ctx
from dailypapers.search.eval import evaluate_beir


@click.group(name="eval")
def eval_group() -> None:
    """Measure search quality (beir) and how well the arrivals ranker predicts the list (picks)."""


@eval_group.command("beir")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--qrels", type=click.Path(path_type=Path, exists=True), help="Relevance file [default: qrels/*.tsv].")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["lexical", "semantic", "hybrid"]),
              help="Modes to run [default: all three].")
@click.option("--database", "database_url", metavar="URL",
              help="Load the corpus into this empty database (sqlite:///PATH or postgresql://...) "
                   "[default: a temporary SQLite file].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def eval_beir(ctx: Context, directory: Path, qrels: Path | None, modes: tuple[str, ...], database_url: str | None,
              as_json: bool) -> None:
    """Evaluate on a BEIR folder: nDCG@10, recall@100 and MRR@10 per mode (with the documents'
    sentence vectors unless the embed_sentences setting is off)."""
    try:
        result = evaluate_beir(directory, qrels=qrels, modes=modes or ("lexical", "semantic", "hybrid"),
                               embedder=ctx.embedder(), query_embedder=ctx.query_embedder(),
                               database_url=database_url, sentences=ctx.settings.embed_sentences)
    except ValueError as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"{'mode':<10}{'nDCG@10':>10}{'R@100':>10}{'MRR@10':>10}")
    for mode, m in result.items():
        if not isinstance(m, dict):
            continue
        if "skipped" in m:  # a semantic mode without a model or vectors: say why, keep the others
            click.echo(f"{mode:<10}skipped: {m['skipped']}")
        else:
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
def eval_picks(arrivals_path: Path, lists_path: Path, embeddings_path: Path | None, test_from: str,
               test_until: str | None, as_json: bool) -> None:
    """Replay each test day: would the ranker have put the community's picks on top? Against baselines."""
    # Imported here: it loads scikit-learn (about 2 s), which no other command needs.
    from dailypapers.arrivals.evaluate import evaluate_files, format_table

    start = parse_date_option(test_from, "--test-from")
    assert start is not None  # required option
    try:
        result = evaluate_files(arrivals_path, lists_path, start, parse_date_option(test_until, "--test-until"),
                                embeddings_path=embeddings_path)
    except ValueError as e:
        fail(str(e))
    click.echo(json.dumps(result) if as_json else format_table(result))
