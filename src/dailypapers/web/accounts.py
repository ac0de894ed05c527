"""Account pages: sign-up, log in/out, email verification, password reset, settings and API
tokens, and member profiles (/u/{name}). Every change is a POST behind the CSRF check; GET links
from emails only show a button that POSTs them (link scanners GET)."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.community.accounts import LOGIN_FAILED, SESSION_COOKIE
from dailypapers.errors import Forbidden, Invalid
from dailypapers.web.auth import clear_session_cookie, current_user, set_session_cookie
from dailypapers.web.flash import Flash, read_signed_cookie
from dailypapers.web.requests import (
    form_data,
    login_limit,
    login_redirect,
    path_int,
    private_page,
    rate_limit,
    redirect,
    safe_next,
    services,
)
from dailypapers.web.security import cookie_kwargs, set_device_cookie


def render(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    return private_page(request, f"community/{template}", context, status=status)


def fields_at_fault(error: Invalid) -> list[str]:
    """The form fields to mark invalid for this error (none when it is not about one field)."""
    return [error.field] if error.field else []


def message(request: Request, title: str, text: str, *, heading: str | None = None, status: int = 200,
            link: tuple[str, str] | None = None) -> Response:
    ctx: dict[str, object] = {"title": title, "heading": heading or title, "message": text}
    if link:
        ctx["link"] = link
    return render(request, "message.html", ctx, status=status)


# -- sign-up, login, logout ---------------------------------------------------------------------------
async def signup_page(request: Request) -> Response:
    await current_user(request)
    return render(request, "signup.html", {"title": "Sign up", "form": {}})


async def signup(request: Request) -> Response:
    await current_user(request)
    form = await form_data(request)
    await rate_limit(request, "signup")
    try:
        result = await run_in_threadpool(
            services(request).accounts.signup, form.get("email", ""), form.get("name", ""), form.get("password", "")
        )
    except Invalid as e:
        return render(request, "signup.html", {"title": "Sign up", "error": str(e), "invalid": fields_at_fault(e),
                                               "form": {"email": form.get("email", ""), "name": form.get("name", "")}},
                      status=400)
    return message(request, "Check your email", result.message)


async def login_page(request: Request) -> Response:
    user = await current_user(request)
    return render(request, "login.html", {"title": "Log in", "next": safe_next(request.query_params.get("next")),
                                          "already": user})


async def login(request: Request) -> Response:
    form = await form_data(request)
    email = (form.get("email") or "").strip().lower()[:254]
    next_url = safe_next(form.get("next"))
    await login_limit(request, email or None)
    old = request.cookies.get(SESSION_COOKIE)
    try:
        user, token = await run_in_threadpool(services(request).accounts.login, email, form.get("password", ""),
                                              old_token=old)
    except (Invalid, Forbidden) as e:
        # A failed login never says which of the two was wrong, so both are marked.
        invalid = ["email", "password"] if isinstance(e, Invalid) else []
        return render(request, "login.html", {"title": "Log in", "error": str(e) or LOGIN_FAILED, "next": next_url,
                                              "email": form.get("email", ""), "invalid": invalid}, status=400)
    response = redirect(next_url)
    set_session_cookie(response, request, token)
    set_device_cookie(response, request, email, services(request).accounts.device_secret(user),
                      services(request).settings)
    return response


async def logout(request: Request) -> Response:
    await run_in_threadpool(services(request).accounts.logout, request.cookies.get(SESSION_COOKIE))
    response = redirect("/")
    clear_session_cookie(response, request)
    return response


# -- verification ---------------------------------------------------------------------------------------
async def verify_page(request: Request) -> Response:
    """GET never changes state: it checks the link and shows a button that POSTs it."""
    await current_user(request)
    token = request.query_params.get("token", "")
    try:
        user = await run_in_threadpool(services(request).accounts.check_verify_token, token)
    except Invalid as e:
        return message(request, "Verify your email", str(e), status=400)
    return render(request, "verify.html", {"title": "Verify your email", "token": token, "user": user})


async def verify(request: Request) -> Response:
    form = await form_data(request)
    try:
        user = await run_in_threadpool(services(request).accounts.verify, form.get("token", ""))
    except Invalid as e:
        return message(request, "Verify your email", str(e), status=400)
    done = f"Email verified. Thank you, {user.name}: you can now upvote, comment and submit papers."
    me = await current_user(request)
    if me is not None and me.id == user.id:
        return message(request, "Email verified", done.removeprefix("Email verified. "),
                       link=("/", "See today's papers"))
    # Not logged in here (often a different browser than the sign-up's): the login form, email filled in.
    return render(request, "login.html", {"title": "Log in", "next": "/", "email": user.email,
                                          "notice": Flash(done + " Log in to start.")})


async def verify_resend(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    await rate_limit(request, "reset", account=user.id)
    if not user.verified:
        await run_in_threadpool(services(request).accounts.send_verification, user)
    return message(request, "Check your email", f"We sent a new verification link to {user.email}.")


# -- password reset ---------------------------------------------------------------------------------------
async def reset_page(request: Request) -> Response:
    await current_user(request)
    return render(request, "reset.html", {"title": "Reset your password"})


async def reset(request: Request) -> Response:
    form = await form_data(request)
    email = (form.get("email") or "").strip().lower()[:254]
    await rate_limit(request, "reset", account=email or None)
    text = await run_in_threadpool(services(request).accounts.request_reset, email)
    return message(request, "Check your email", text)


async def reset_confirm_page(request: Request) -> Response:
    await current_user(request)
    token = request.query_params.get("token", "")
    try:
        await run_in_threadpool(services(request).accounts.check_reset_token, token)
    except Invalid as e:
        return message(request, "Reset your password", str(e), status=400, link=("/reset", "Ask for a new link"))
    return render(request, "reset_confirm.html", {"title": "Choose a new password", "token": token})


async def reset_confirm(request: Request) -> Response:
    form = await form_data(request)
    token = form.get("token", "")
    await rate_limit(request, "reset")
    try:
        await run_in_threadpool(services(request).accounts.reset_password, token, form.get("password", ""))
    except Invalid as e:
        return render(request, "reset_confirm.html", {"title": "Choose a new password", "token": token,
                                                      "error": str(e), "invalid": fields_at_fault(e)}, status=400)
    return message(request, "Password changed", "Your password was changed and every session was logged out. "
                   "Log in with the new password.", link=("/login", "Log in"))


# -- settings -------------------------------------------------------------------------------------------
async def settings_page(request: Request, *, extra: dict | None = None, status: int = 200) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    tokens = await run_in_threadpool(services(request).accounts.list_api_tokens, user)
    ctx = {"title": "Settings", "user": user, "tokens": tokens, **(extra or {})}
    created = _take_new_token(request, user)
    if created:
        ctx.update(new_token=created["raw"], new_token_name=created["name"])
    response = render(request, "settings.html", ctx, status=status)
    if NEW_TOKEN_COOKIE in request.cookies:
        response.delete_cookie(NEW_TOKEN_COOKIE, **cookie_kwargs(services(request).settings, path="/settings"))
    return response


# A new API token is shown once, on the GET after the POST (so a reload neither shows it again nor
# creates another): it waits in a short-lived signed cookie scoped to /settings, never in the URL.
NEW_TOKEN_COOKIE = "dp_new_token"
NEW_TOKEN_MAX_AGE = 120  # seconds


def _token_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services(request).signing_key, salt="dailypapers.new-api-token")


def _take_new_token(request: Request, user) -> dict | None:
    data = read_signed_cookie(request, NEW_TOKEN_COOKIE, _token_serializer(request), NEW_TOKEN_MAX_AGE)
    if data is None or data.get("u") != user.id:
        return None
    return {"raw": str(data.get("t", "")), "name": str(data.get("n", ""))}


async def settings_profile(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    await run_in_threadpool(services(request).accounts.set_visibility, user, form.get("show_upvotes") == "on",
                            form.get("show_submissions") == "on")
    return redirect("/settings?saved=profile")


async def settings_password(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    await rate_limit(request, "login", account=user.email.lower())
    accounts = services(request).accounts
    try:
        changed = await run_in_threadpool(accounts.change_password, user, form.get("current", ""),
                                          form.get("password", ""))
    except Invalid as e:
        # Errors about the new password name it; anything else (a wrong current password) is the current one.
        field = "new" if e.field == "password" else "cur"
        return await settings_page(request, extra={"password_error": str(e), "password_field": field}, status=400)
    token = await run_in_threadpool(accounts.start_session, user)
    response = redirect("/settings?saved=password")
    set_session_cookie(response, request, token)
    # the change revoked every device cookie of the account; this browser is still the owner's
    set_device_cookie(response, request, changed.email, accounts.device_secret(changed), services(request).settings)
    return response


async def token_create(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    try:
        token, raw = await run_in_threadpool(services(request).accounts.create_api_token, user, form.get("name", ""))
    except Invalid as e:
        return await settings_page(request, extra={"token_error": str(e)}, status=400)
    response = redirect("/settings#new-token")
    response.set_cookie(NEW_TOKEN_COOKIE, _token_serializer(request).dumps({"u": user.id, "t": raw, "n": token.name}),
                        max_age=NEW_TOKEN_MAX_AGE, **cookie_kwargs(services(request).settings, path="/settings",
                                                                   samesite="strict"))
    return response


async def token_revoke(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    token_id = path_int(request.path_params["token_id"])
    await run_in_threadpool(services(request).accounts.revoke_api_token, user, token_id)
    return redirect("/settings?saved=token")


# -- profile --------------------------------------------------------------------------------------------
async def profile(request: Request) -> Response:
    viewer = await current_user(request)
    svc = services(request)

    def work():
        view = svc.profiles.profile(request.path_params["name"], viewer)
        shown = [p.arxiv_id for p in view.upvotes or []] + [p.arxiv_id for _, p in view.submissions or []]
        return view, svc.votes.voted(viewer, shown)

    view, voted = await run_in_threadpool(work)
    return render(request, "profile.html", {"title": view.user.name, "user": view.user, "own": view.own,
                                            "submissions": view.submissions, "upvotes": view.upvotes,
                                            "voted_ids": voted})


__all__ = [
    "signup_page", "signup", "login_page", "login", "logout", "verify_page", "verify", "verify_resend",
    "reset_page", "reset", "reset_confirm_page", "reset_confirm", "settings_page", "settings_profile",
    "settings_password", "token_create", "token_revoke", "profile",
]
