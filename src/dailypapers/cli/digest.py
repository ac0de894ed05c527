"""`dailypapers digest send | preview`.

`digest send` also sends the period's saved-search alerts (digests/alerts.py), after the digests
and under the same locks, and puts the saved searches set to "with the next digest" in the digests.

Exit codes: 0 success; 1 an error (or another send is running); 3 some digests or alerts failed
(5xx) or were deferred (4xx after every retry) -- rerun later to retry the deferred ones.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from dailypapers.cli.context import EXIT_ERROR, Context, fail, pass_ctx
from dailypapers.days import parse_day
from dailypapers.digests import Period, default_digest_day
from dailypapers.digests.alerts import AlertSender
from dailypapers.digests.compose import Composer, DigestRenderer
from dailypapers.digests.foryou import Ranker
from dailypapers.digests.saved import SavedSearchService
from dailypapers.digests.send import DigestSender, SendLocked
from dailypapers.digests.subscriptions import Tokens
from dailypapers.mail import mailer_from_settings

EXIT_PARTIAL = 3


def _period(ctx: Context, period: str, date: str | None) -> Period:
    settings = ctx.settings
    if date:
        try:
            day = parse_day(date)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--date") from None
    else:
        day = default_digest_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
    return Period(period, day)


@click.group("digest")
def digest() -> None:
    """Email digests: send them, or preview one."""


@digest.command("send")
@click.option("--period", type=click.Choice(["daily", "weekly"]), required=True,
              help="daily: every daily subscriber; weekly: weekly subscribers whose weekday it is.")
@click.option("--date", help="The list day the digest covers (YYYY-MM-DD) [default: the last complete list day].")
@click.option("--dry-run", is_flag=True, help="Compose and count, but store and send nothing.")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many digests in this run.")
@click.option("--in-doubt", type=click.Choice(["resend", "skip"]), default="resend", show_default=True,
              help="A digest in flight when a previous run was killed: resend it (same Message-ID) or skip it.")
@click.option("--quiet", is_flag=True, help="Print only the summary line.")
@pass_ctx
def send(ctx: Context, period: str, date: str | None, dry_run: bool, limit: int | None, in_doubt: str,
         quiet: bool) -> None:
    """Compose and send the digests of a period, in batches; safe to rerun (each reader gets one)."""
    settings = ctx.settings
    p = _period(ctx, period, date)
    mailer = mailer_from_settings(settings)
    say = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    store = ctx.store()
    saved = alerts = None
    if any(store.alerting_saved_searches(mode, limit=1) for mode in ("digest", "daily", "weekly")):
        # saved searches run on this node's search index: bring it up to date first
        engine = ctx.search_engine(ctx.embedder())
        engine.sync()
        saved = SavedSearchService(store, engine, settings)
        alerts = AlertSender(store, settings, mailer, saved, say=say)
    sender = DigestSender(store, settings, mailer, say=say, embedder_factory=ctx.embedder, saved=saved,
                          alerts=None if dry_run else alerts)
    try:
        report = sender.run(p, dry_run=dry_run, limit=limit, in_doubt=in_doubt)
    except SendLocked as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        mailer.close()
    if dry_run and not quiet:
        for line in report.previews:
            click.echo(line)
    click.echo(report.line())
    if report.failed or report.deferred or (report.alerts and (report.alerts.failed or report.alerts.deferred)):
        sys.exit(EXIT_PARTIAL)


@digest.command("preview")
@click.option("--email", required=True, help="A subscriber's address.")
@click.option("--period", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--date", help="The list day the digest covers (YYYY-MM-DD) [default: the last complete list day].")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Write the HTML part here (.eml: the whole message; .txt: the text part).")
@pass_ctx
def preview(ctx: Context, email: str, period: str, date: str | None, out: Path) -> None:
    """Render one subscriber's digest without sending or recording anything."""
    settings = ctx.settings
    store = ctx.store()
    sub = store.get_subscription_by_email(email.strip())
    if sub is None:
        fail(f"no subscription for {email}")
    p = _period(ctx, period, date)
    if sub.frequency != period:
        click.echo(f"note: {email} is a {sub.frequency} subscriber; previewing the {period} digest anyway", err=True)
    composer = Composer(store, settings, Ranker(store, embedder_factory=ctx.embedder))
    digest_ = composer.compose(sub, p)
    msg = DigestRenderer(settings, Tokens(settings.signing_key())).render_composed(digest_)
    if out.suffix == ".eml":
        out.write_bytes(bytes(msg))
    else:
        part = msg.get_body(("plain",) if out.suffix == ".txt" else ("html",))
        assert part is not None  # the renderer always writes both parts
        out.write_text(part.get_content(), encoding="utf-8")
    if digest_.empty:
        state = "empty: it would not be sent"
    else:
        state = f"{len(digest_.trending)} top + {len(digest_.for_you)} for you"
    click.echo(f"{p.key} digest for {sub.email}: {state}; wrote {out}")
