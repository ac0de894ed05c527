"""`dailypapers digest send | preview` and `dailypapers schedule`.

Registered into the main group by cli.py:

    from dailypapers.cli_digest import digest, schedule
    main.add_command(digest)
    main.add_command(schedule)

Exit codes: 0 success; 1 an error (or another send is running); 3 some digests failed (5xx) or
were deferred (4xx after every retry) -- rerun later to retry the deferred ones.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

import dailypapers.cli as cli_mod

pass_ctx = click.make_pass_decorator(cli_mod.Context)
EXIT_PARTIAL = 3


def _period(ctx, period: str, date: str | None):
    from dailypapers.days import parse_day
    from dailypapers.digests import Period, default_digest_day

    settings = ctx.settings
    if date:
        try:
            day = parse_day(date)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--date") from None
    else:
        day = default_digest_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
    return Period(period, day)


def _embedder_factory(ctx):
    def load():
        from dailypapers.app import load_embedder

        return load_embedder(ctx.settings)

    return load


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
def send(ctx, period: str, date: str | None, dry_run: bool, limit: int | None, in_doubt: str, quiet: bool) -> None:
    """Compose and send the digests of a period, in batches; safe to rerun (each reader gets one)."""
    from dailypapers.digests.send import DigestSender, SendLocked
    from dailypapers.mail import mailer_from_settings

    settings = ctx.settings
    p = _period(ctx, period, date)
    mailer = mailer_from_settings(settings)
    say = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    sender = DigestSender(ctx.store(), settings, mailer, say=say, embedder_factory=_embedder_factory(ctx))
    try:
        report = sender.run(p, dry_run=dry_run, limit=limit, in_doubt=in_doubt)
    except SendLocked as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(cli_mod.EXIT_ERROR)
    finally:
        mailer.close()
    if dry_run and not quiet:
        for line in report.previews:
            click.echo(line)
    click.echo(report.line())
    if report.failed or report.deferred:
        sys.exit(EXIT_PARTIAL)


@digest.command("preview")
@click.option("--email", required=True, help="A subscriber's address.")
@click.option("--period", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--date", help="The list day the digest covers (YYYY-MM-DD) [default: the last complete list day].")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Write the HTML part here (.eml: the whole message; .txt: the text part).")
@pass_ctx
def preview(ctx, email: str, period: str, date: str | None, out: Path) -> None:
    """Render one subscriber's digest without sending or recording anything."""
    from dailypapers.digests.compose import Composer, DigestRenderer
    from dailypapers.digests.foryou import Ranker
    from dailypapers.digests.subscriptions import Tokens

    settings = ctx.settings
    store = ctx.store()
    sub = store.get_subscription_by_email(email.strip())
    if sub is None:
        cli_mod._fail(f"no subscription for {email}")
    p = _period(ctx, period, date)
    if sub.frequency != period:
        click.echo(f"note: {email} is a {sub.frequency} subscriber; previewing the {period} digest anyway", err=True)
    composer = Composer(store, settings, Ranker(store, embedder_factory=_embedder_factory(ctx)))
    digest_ = composer.compose(sub, p)
    msg = DigestRenderer(settings, Tokens(settings.signing_key())).render_composed(digest_)
    if out.suffix == ".eml":
        out.write_bytes(bytes(msg))
    else:
        part = msg.get_body(("plain",) if out.suffix == ".txt" else ("html",))
        out.write_text(part.get_content(), encoding="utf-8")
    state = "empty: it would not be sent" if digest_.empty else f"{len(digest_.trending)} top + {len(digest_.for_you)} for you"
    click.echo(f"{p.key} digest for {sub.email}: {state}; wrote {out}")


SCHEDULE = """\
# dailypapers: digests go out just after the list day rolls over ({rollover} {tz}).
# CRON_TZ works with cronie; with another cron, convert to the server's time. See docs/operations.md.
CRON_TZ={tz}
# m  h  dom mon dow  command
  0  *  *   *   *    {dp} ingest arxiv-oai --set cs
 20  *  *   *   *    {dp} embed
 45 21  *   *   *    {dp} digest send --period daily --quiet
 50 21  *   *   *    {dp} digest send --period weekly --quiet
  0  6  *   *   *    {dp} digest send --period daily --quiet   # catch-up: resends nothing already sent
"""


@click.command("schedule")
@pass_ctx
def schedule(ctx) -> None:
    """Print crontab lines that run ingest, embedding and digests at the right times."""
    settings = ctx.settings
    click.echo(SCHEDULE.format(dp=f"dailypapers --data-dir {settings.data_dir}", tz=settings.timezone,
                               rollover=settings.day_rollover), nl=False)


__all__ = ["digest", "schedule"]
