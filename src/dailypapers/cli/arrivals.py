"""`dailypapers arrivals train | score | status`: the ranker of each day's arXiv arrivals."""

from __future__ import annotations

import datetime as dt
import json

import click
from tqdm import tqdm

from dailypapers.cli.context import Context, parse_date_option, pass_ctx


def _jobs(ctx: Context):
    # Imported here: the ranker loads scikit-learn, which other commands never need.
    from dailypapers.arrivals.scoring import ScoringJobs
    from dailypapers.arrivals.service import ArrivalService

    engine = ctx.search_engine(None)
    engine.sync()  # saved-search rules match against the index: bring it up to date first
    return ScoringJobs(ArrivalService(ctx.store(), ctx.settings, matcher=engine.matching))


@click.group()
def arrivals() -> None:
    """Rank each day's arXiv arrivals by how likely this community is to pick them."""


@arrivals.command("train")
@pass_ctx
def train(ctx: Context) -> None:
    """Retrain the ranker on this site's history (its arrivals and its lists), then score what is new."""
    jobs = _jobs(ctx)
    info = jobs.train()
    click.echo(f"{info.note} ({info.seconds:g} s)")
    _score(jobs, None)


@arrivals.command("score")
@click.option("--since", help="Score unscored days from YYYY-MM-DD on [default: 90 days before the newest].")
@pass_ctx
def score(ctx: Context, since: str | None) -> None:
    """Score arrivals nobody scored yet (training first if there is no model), then apply the rules."""
    _score(_jobs(ctx), parse_date_option(since, "--since"))


def _score(jobs, since: dt.date | None) -> None:
    with tqdm(disable=None, unit="day", desc="scoring") as bar:
        report = jobs.score(since=since, on_day=lambda _day, _n: bar.update(1))
    click.echo(f"scored {report.scored} arrival{'s' if report.scored != 1 else ''} on {len(report.days)} "
               f"day{'s' if len(report.days) != 1 else ''}")
    for arxiv_id, rule in report.listed:
        click.echo(f"listed {arxiv_id} (rule {rule})")


@arrivals.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """What ranks the arrivals now, and the newest arrival day."""
    from dailypapers.arrivals.service import ArrivalService

    service = ArrivalService(ctx.store(), ctx.settings)
    info = service.model_info()
    latest = service.latest_day()
    if as_json:
        click.echo(json.dumps({"model": info.as_json() if info else None,
                               "latest_day": latest.isoformat() if latest else None}))
        return
    click.echo(info.note if info else "no model yet: run `dailypapers arrivals train`")
    click.echo(f"newest arrival day: {latest.isoformat() if latest else 'none'}")
