"""`dailypapers users create|promote|disable|enable|list` and `dailypapers trending refresh`.

Registered by cli.py: ``main.add_command(users)`` and ``main.add_command(trending)``. Both use the
shared Context (``ctx.store()``, ``ctx.settings``). Errors are one line on stderr with exit code 1.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from dailypapers.cli import Context
from dailypapers.errors import DomainError

pass_ctx = click.make_pass_decorator(Context)


def _accounts(ctx: Context):
    from dailypapers.community.accounts import AccountService

    return AccountService(ctx.store(), ctx.settings, None)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _describe(user) -> str:
    flags = []
    if user.verified:
        flags.append("verified")
    if user.disabled:
        flags.append("disabled")
    return f"{user.name} <{user.email}> {user.role}" + (f" ({', '.join(flags)})" if flags else "")


@click.group()
def users() -> None:
    """Manage member accounts and roles (member, curator, admin)."""


def _audit(ctx: Context, action: str, detail: dict) -> None:
    """Operator actions from the CLI go into the curator log, with no acting member."""
    ctx.store().log_curator_action(None, action, dt.datetime.now(dt.timezone.utc), detail=json.dumps(detail))


@users.command("create")
@click.argument("email")
@click.argument("name")
@click.option("--role", type=click.Choice(["member", "curator", "admin"]), default="member", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option("--no-password", is_flag=True, help="No password: the member sets one with a reset link.")
@click.option("--unverified", is_flag=True, help="Leave the email unverified (default: verified by the operator).")
@click.option("--allow-weak", is_flag=True, help="Skip the zxcvbn strength check (length limits still apply).")
@pass_ctx
def create(ctx: Context, email: str, name: str, role: str, password_stdin: bool, no_password: bool,
           unverified: bool, allow_weak: bool) -> None:
    """Create an account. Prompts for the password unless told otherwise."""
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        if password is not None and allow_weak:
            from dailypapers.community.accounts import MAX_PASSWORD, MIN_PASSWORD

            if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
                raise DomainError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
        user = _accounts(ctx).create_user(email, name, password, role=role, verified=not unverified,
                                          check_strength=not allow_weak)
    except DomainError as e:
        _fail(str(e))
    click.echo(f"created {_describe(user)}")


def _find(ctx: Context, who: str):
    try:
        return _accounts(ctx).find(who)
    except DomainError as e:
        _fail(str(e))


@users.command("promote")
@click.argument("who")
@click.option("--role", type=click.Choice(["member", "curator", "admin"]), default="curator", show_default=True)
@pass_ctx
def promote(ctx: Context, who: str, role: str) -> None:
    """Give WHO (a name or email) a role; --role member demotes."""
    accounts = _accounts(ctx)
    user = _find(ctx, who)
    user = accounts.set_role(user, role)
    _audit(ctx, "role", {"user": user.name, "role": role})
    click.echo(f"{_describe(user)}")


@users.command("disable")
@click.argument("who")
@pass_ctx
def disable(ctx: Context, who: str) -> None:
    """Disable WHO: no login, sessions ended, API tokens revoked. Votes and submissions stay."""
    user = _accounts(ctx).disable(_find(ctx, who), True)
    _audit(ctx, "disable", {"user": user.name})
    click.echo(f"{_describe(user)}")


@users.command("enable")
@click.argument("who")
@pass_ctx
def enable(ctx: Context, who: str) -> None:
    """Enable WHO again (they log in anew; old API tokens stay revoked)."""
    user = _accounts(ctx).disable(_find(ctx, who), False)
    _audit(ctx, "enable", {"user": user.name})
    click.echo(f"{_describe(user)}")


@users.command("show")
@click.argument("who")
@pass_ctx
def show(ctx: Context, who: str) -> None:
    """Print one account."""
    click.echo(_describe(_find(ctx, who)))


@click.group()
def trending() -> None:
    """The trending ranking (see dailypapers.trending for the formula)."""


@trending.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Every listed paper, not just recent ones.")
@click.option("--days", type=int, default=None, help="Papers listed in the last DAYS days [default: trending.REFRESH_DAYS].")
@pass_ctx
def refresh(ctx: Context, everything: bool, days: int | None) -> None:
    """Recompute stored trending keys (after imports changed Hugging Face counts, or new constants)."""
    from dailypapers import days as days_mod
    from dailypapers.trending import REFRESH_DAYS

    settings = ctx.settings
    since = None
    if not everything:
        today = days_mod.list_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
        since = today - dt.timedelta(days=days if days is not None else REFRESH_DAYS)
    changed = ctx.store().refresh_trending(since)
    click.echo(f"trending: {changed} paper{'s' if changed != 1 else ''} updated"
               + ("" if since is None else f" (listed since {since.isoformat()})"))


__all__ = ["users", "trending"]
