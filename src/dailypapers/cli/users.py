"""`dailypapers users create | promote | disable | enable | show`."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from dailypapers.cli.context import Context, fail, pass_ctx
from dailypapers.community.accounts import MAX_PASSWORD, MIN_PASSWORD, AccountService
from dailypapers.errors import DomainError
from dailypapers.models import User


def _accounts(ctx: Context) -> AccountService:
    return AccountService(ctx.store(), ctx.settings, None)


def _describe(user: User) -> str:
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
            if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
                raise DomainError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
        user = _accounts(ctx).create_user(email, name, password, role=role, verified=not unverified,
                                          check_strength=not allow_weak)
    except DomainError as e:
        fail(str(e))
    click.echo(f"created {_describe(user)}")


def _find(ctx: Context, who: str) -> User:
    try:
        return _accounts(ctx).find(who)
    except DomainError as e:
        fail(str(e))


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
