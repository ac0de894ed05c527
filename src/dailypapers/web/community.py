"""Community pages and endpoints: accounts, upvotes, submissions, comments, curation.

Mounted by ``web/routes.py`` (``routes(services)``). Every state change is a POST; the CSRF
middleware checks each one, except token-authenticated API calls (``Authorization`` on ``/api/``),
which carry no cookie. Such calls are authenticated by the bearer token only: when an
``Authorization`` header is present the session cookie is ignored.

| route                                   | what                                              |
|-----------------------------------------|---------------------------------------------------|
| GET/POST /signup, /login; POST /logout  | accounts                                          |
| GET/POST /verify, POST /verify/resend   | email verification (GET shows a button: no change on GET) |
| GET/POST /reset, /reset/confirm         | password reset by email link                      |
| GET /settings; POST /settings/...       | profile visibility, password, API tokens          |
| GET /u/{name}                           | profile: submissions and upvotes (if shown)       |
| POST /papers/{id}/upvote                | toggle (form: redirect back; JSON when asked)     |
| POST /api/papers/{id}/upvote            | JSON, Bearer token or session + X-CSRF-Token      |
| GET/POST /papers/submit, POST /api/papers/submit | member submissions                       |
| POST /papers/{id}/comments; GET /comments/{n}; POST /comments/{n}/edit|delete|hide|unhide | comments |
| GET /curate, /curate/log; POST /curate/add|pin|unpin|hide|unhide|remove | curators        |
| GET /papers/top/week, /papers/top/month | redirects to this week's / month's top papers    |
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dailypapers import days as days_mod
from dailypapers.community.accounts import (
    LOGIN_FAILED,
    SESSION_COOKIE,
    AccountService,
    require_curator,
    require_member,
    utcnow,
)
from dailypapers.community.comments import CommentService, render_comment
from dailypapers.community.curation import CurationService
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.community.ratelimit import client_ip, limits_of
from dailypapers.models import User
from dailypapers.community.submissions import SubmissionService
from dailypapers.community.votes import VoteService, breakdown
from dailypapers.web.security import cookie_kwargs

# Token-authenticated API calls are exempt already (Authorization on /api/); nothing else is.
CSRF_EXEMPT: list[str] = []

MAX_FORM_FIELD = 10_000


# -- services ----------------------------------------------------------------------------------
@dataclass
class Community:
    accounts: AccountService
    votes: VoteService
    submissions: SubmissionService
    comments: CommentService
    curation: CurationService
    clock: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        s = self.accounts.settings
        return days_mod.list_day(self.now(), s.day_rollover, s.timezone)


def get_community(services) -> Community:
    community = getattr(services, "community", None)
    if community is None:
        clock = getattr(services, "clock", None) or utcnow
        accounts = AccountService(services.store, services.settings, services.mailer, clock=clock,
                                  hasher=getattr(services, "password_hasher", None))
        submissions = SubmissionService(services.store, services.settings, services.arxiv, clock=clock)
        community = Community(
            accounts=accounts,
            votes=VoteService(services.store, clock=clock),
            submissions=submissions,
            comments=CommentService(services.store, clock=clock),
            curation=CurationService(services.store, submissions, clock=clock),
            clock=clock,
        )
        services.community = community
    return community


def _community(request: Request) -> Community:
    return get_community(request.app.state.services)


def _limits(request: Request):
    return limits_of(request.app.state.services)


def rate(request: Request, name: str, account: str | int | None = None) -> None:
    _limits(request).check(name, ip=client_ip(request), account=account)


# -- who is asking -------------------------------------------------------------------------------
class Unauthorized(Exception):
    pass


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use Authorization: Bearer <token> with a token from your settings page.")
    return value.strip()


async def current_user(request: Request) -> User | None:
    """The member behind this request: on /api/ the bearer token if one is sent (never falling back
    to the cookie), else the session cookie. Raises Unauthorized for a malformed or unknown token."""
    if "community_user" in request.scope:
        return request.scope["community_user"]
    community = _community(request)
    # Tokens authenticate /api/ calls only (where CSRF is skipped for them); pages use the cookie.
    if "authorization" in request.headers and request.url.path.startswith("/api/"):
        raw = _bearer(request)
        user = await run_in_threadpool(community.accounts.token_user, raw)
        if user is None:
            raise Unauthorized("The API token is not valid (revoked, mistyped, or its account is disabled).")
    else:
        token = request.cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(community.accounts.session_user, token) if token else None
    request.scope["community_user"] = user
    return user


def _unauthorized(message: str) -> Response:
    return JSONResponse({"error": message, "status": 401}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="dailypapers"', "Cache-Control": "no-store"})


# -- responses -----------------------------------------------------------------------------------
def _site(request: Request):
    return request.app.state.site


def render(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    site = _site(request)
    ctx = {"me": request.scope.get("community_user"), "noindex": True, **context}
    body = site.render(request, f"community/{template}", ctx)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-store"})


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: no scheme, no host, no '//' (open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ch in value for ch in "\r\n\t") or len(value) > 500:
        return default
    return value


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def login_redirect(request: Request, next_url: str | None = None) -> Response:
    target = safe_next(next_url or request.url.path)
    return redirect("/login?" + urlencode({"next": target}))


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return ("application/json" in accept and "text/html" not in accept) or \
        request.headers.get("x-requested-with", "").lower() == "fetch"


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    out = {}
    for key, value in form.items():
        if isinstance(value, str):
            out[key] = value[:MAX_FORM_FIELD]
    await form.close()
    return out


async def json_or_form(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise Invalid("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Invalid("the JSON body must be an object")
        return data
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return await form_data(request)
    return {}


def session_cookie(response: Response, request: Request, token: str) -> None:
    settings = request.app.state.services.settings
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_days * 86400, **cookie_kwargs(settings))


def clear_session_cookie(response: Response, request: Request) -> None:
    settings = request.app.state.services.settings
    response.delete_cookie(SESSION_COOKIE, **cookie_kwargs(settings))


def _canonical(request: Request, raw: str) -> str:
    return request.app.state.papers.canonical_id(raw)


# -- sign-up, login, logout ---------------------------------------------------------------------------
async def signup_page(request: Request) -> Response:
    await current_user(request)
    return render(request, "signup.html", {"title": "Sign up", "form": {}})


async def signup(request: Request) -> Response:
    await current_user(request)
    form = await form_data(request)
    rate(request, "signup")
    community = _community(request)
    try:
        result = await run_in_threadpool(
            community.accounts.signup, form.get("email", ""), form.get("name", ""), form.get("password", "")
        )
    except Invalid as e:
        return render(request, "signup.html", {"title": "Sign up", "error": str(e),
                                               "form": {"email": form.get("email", ""), "name": form.get("name", "")}},
                      status=400)
    return render(request, "message.html", {"title": "Check your email", "heading": "Check your email",
                                            "message": result.message})


async def login_page(request: Request) -> Response:
    user = await current_user(request)
    return render(request, "login.html", {"title": "Log in", "next": safe_next(request.query_params.get("next")),
                                          "already": user})


async def login(request: Request) -> Response:
    form = await form_data(request)
    email = (form.get("email") or "").strip().lower()[:254]
    next_url = safe_next(form.get("next"))
    rate(request, "login", account=email or None)
    community = _community(request)
    old = request.cookies.get(SESSION_COOKIE)
    try:
        user, token = await run_in_threadpool(community.accounts.login, email, form.get("password", ""), old_token=old)
    except (Invalid, Forbidden) as e:
        return render(request, "login.html", {"title": "Log in", "error": str(e) or LOGIN_FAILED, "next": next_url,
                                              "email": form.get("email", "")}, status=400)
    response = redirect(next_url)
    session_cookie(response, request, token)
    return response


async def logout(request: Request) -> Response:
    community = _community(request)
    await run_in_threadpool(community.accounts.logout, request.cookies.get(SESSION_COOKIE))
    response = redirect("/")
    clear_session_cookie(response, request)
    return response


# -- verification ---------------------------------------------------------------------------------------
async def verify_page(request: Request) -> Response:
    """GET never changes state: it checks the link and shows a button that POSTs it."""
    await current_user(request)
    token = request.query_params.get("token", "")
    community = _community(request)
    try:
        user = await run_in_threadpool(community.accounts.check_verify_token, token)
    except Invalid as e:
        return render(request, "message.html", {"title": "Verify your email", "heading": "Verify your email",
                                                "message": str(e)}, status=400)
    return render(request, "verify.html", {"title": "Verify your email", "token": token, "user": user})


async def verify(request: Request) -> Response:
    form = await form_data(request)
    community = _community(request)
    try:
        user = await run_in_threadpool(community.accounts.verify, form.get("token", ""))
    except Invalid as e:
        return render(request, "message.html", {"title": "Verify your email", "heading": "Verify your email",
                                                "message": str(e)}, status=400)
    return render(request, "message.html", {"title": "Email verified", "heading": "Email verified",
                                            "message": f"Thank you, {user.name}: you can now upvote and submit papers."})


async def verify_resend(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    rate(request, "reset", account=user.id)
    if not user.verified:
        await run_in_threadpool(_community(request).accounts.send_verification, user)
    return render(request, "message.html", {"title": "Check your email", "heading": "Check your email",
                                            "message": f"We sent a new verification link to {user.email}."})


# -- password reset ---------------------------------------------------------------------------------------
async def reset_page(request: Request) -> Response:
    await current_user(request)
    return render(request, "reset.html", {"title": "Reset your password"})


async def reset(request: Request) -> Response:
    form = await form_data(request)
    email = (form.get("email") or "").strip().lower()[:254]
    rate(request, "reset", account=email or None)
    message = await run_in_threadpool(_community(request).accounts.request_reset, email)
    return render(request, "message.html", {"title": "Check your email", "heading": "Check your email",
                                            "message": message})


async def reset_confirm_page(request: Request) -> Response:
    await current_user(request)
    token = request.query_params.get("token", "")
    try:
        await run_in_threadpool(_community(request).accounts.check_reset_token, token)
    except Invalid as e:
        return render(request, "message.html", {"title": "Reset your password", "heading": "Reset your password",
                                                "message": str(e), "link": ("/reset", "Ask for a new link")},
                      status=400)
    return render(request, "reset_confirm.html", {"title": "Choose a new password", "token": token})


async def reset_confirm(request: Request) -> Response:
    form = await form_data(request)
    token = form.get("token", "")
    rate(request, "reset")
    try:
        await run_in_threadpool(_community(request).accounts.reset_password, token, form.get("password", ""))
    except Invalid as e:
        return render(request, "reset_confirm.html", {"title": "Choose a new password", "token": token,
                                                      "error": str(e)}, status=400)
    return render(request, "message.html", {"title": "Password changed", "heading": "Password changed",
                                            "message": "Your password was changed and every session was logged out. "
                                                       "Log in with the new password.", "link": ("/login", "Log in")})


# -- settings -------------------------------------------------------------------------------------------
async def settings_page(request: Request, *, extra: dict | None = None, status: int = 200) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    tokens = await run_in_threadpool(_community(request).accounts.store.list_api_tokens, user.id)
    ctx = {"title": "Settings", "user": user, "tokens": tokens, **(extra or {})}
    return render(request, "settings.html", ctx, status=status)


async def settings_profile(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    community = _community(request)
    await run_in_threadpool(community.accounts.set_visibility, user, form.get("show_upvotes") == "on",
                            form.get("show_submissions") == "on")
    return redirect("/settings?saved=profile")


async def settings_password(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    rate(request, "login", account=user.email.lower())
    community = _community(request)
    try:
        await run_in_threadpool(community.accounts.change_password, user, form.get("current", ""), form.get("password", ""))
    except Invalid as e:
        return await settings_page(request, extra={"password_error": str(e)}, status=400)
    token = await run_in_threadpool(community.accounts.start_session, user)
    response = redirect("/settings?saved=password")
    session_cookie(response, request, token)
    return response


async def token_create(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    try:
        token, raw = await run_in_threadpool(_community(request).accounts.create_api_token, user, form.get("name", ""))
    except Invalid as e:
        return await settings_page(request, extra={"token_error": str(e)}, status=400)
    return await settings_page(request, extra={"new_token": raw, "new_token_name": token.name})


async def token_revoke(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    token_id = _int(request.path_params["token_id"])
    await run_in_threadpool(_community(request).accounts.revoke_api_token, user, token_id)
    return redirect("/settings?saved=token")


def _int(raw: str) -> int:
    if not re.fullmatch(r"\d{1,12}", raw or ""):
        raise NotFound("no such item")
    return int(raw)


# -- profile --------------------------------------------------------------------------------------------
async def profile(request: Request) -> Response:
    viewer = await current_user(request)
    name = request.path_params["name"]
    store = request.app.state.services.store

    def load():
        user = store.user_by_name(name)
        if user is None or user.disabled:
            raise NotFound(f"no member called {name!r}")
        own = viewer is not None and viewer.id == user.id
        subs = store.user_submissions(user.id, 100) if (user.show_submissions or own) else None
        ups = store.user_upvotes(user.id, 100) if (user.show_upvotes or own) else None
        return user, own, subs, ups

    user, own, subs, ups = await run_in_threadpool(load)
    return render(request, "profile.html", {"title": user.name, "user": user, "own": own, "submissions": subs,
                                            "upvotes": ups})


# -- upvotes ----------------------------------------------------------------------------------------------
async def _do_vote(request: Request, want: bool | None) -> Any:
    user = await current_user(request)
    arxiv_id = _canonical(request, request.path_params["arxiv_id"])
    community = _community(request)
    require_member(user, what="upvote")
    rate(request, "vote", account=user.id)
    return await run_in_threadpool(community.votes.vote, user, arxiv_id, want)


def _want(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes", "up"):
        return True
    if text in ("0", "false", "off", "no", "down"):
        return False
    raise Invalid("vote must be true or false (or absent, to toggle)")


async def upvote(request: Request) -> Response:
    """Form POST (redirects back) or fetch() with Accept: application/json."""
    try:
        user = await current_user(request)
    except Unauthorized as e:
        return _unauthorized(str(e))
    data = await json_or_form(request)
    if user is None and not wants_json(request):
        return login_redirect(request, safe_next(data.get("next"), "/"))
    if user is None:
        raise Forbidden("Log in to upvote.")
    result = await _do_vote(request, _want(data.get("vote")))
    if wants_json(request):
        return JSONResponse(result.as_json(), headers={"Cache-Control": "no-store"})
    return redirect(safe_next(data.get("next"), f"/papers/{result.arxiv_id}"))


async def api_upvote(request: Request) -> Response:
    """The hot path for scripts and the bench: token look-up, limit and vote in one worker-thread hop."""
    if "authorization" not in request.headers:  # a browser: session cookie (the CSRF check already ran)
        user = await current_user(request)
        if user is None:
            return _unauthorized("Send Authorization: Bearer <token> (create one on your settings page).")
        data = await json_or_form(request)
        result = await _do_vote(request, _want(data.get("vote")))
        return JSONResponse(result.as_json(), headers={"Cache-Control": "no-store"})
    try:
        raw = _bearer(request)
    except Unauthorized as e:
        return _unauthorized(str(e))
    data = await json_or_form(request)
    want = _want(data.get("vote"))
    arxiv_id = _canonical(request, request.path_params["arxiv_id"])
    community = _community(request)
    limits = _limits(request)
    ip = client_ip(request)

    def work():
        user = community.accounts.token_user(raw)
        if user is None:
            return None
        require_member(user, what="upvote")
        limits.check("vote", ip=ip, account=user.id)
        return community.votes.vote(user, arxiv_id, want)

    result = await run_in_threadpool(work)
    if result is None:
        return _unauthorized("The API token is not valid (revoked, mistyped, or its account is disabled).")
    return JSONResponse(result.as_json(), headers={"Cache-Control": "no-store"})


# -- submissions ----------------------------------------------------------------------------------------------
async def submit_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    community = _community(request)
    used = await run_in_threadpool(community.accounts.store.count_submissions, user.id, community.today())
    return render(request, "submit.html", {"title": "Submit a paper", "user": user, "today": community.today(),
                                           "used": used, "cap": request.app.state.services.settings.submit_daily_cap,
                                           "max_age": request.app.state.services.settings.submit_max_age_days})


async def _submit(request: Request, user: User | None, text: str):
    community = _community(request)
    require_member(user, what="submit papers")
    rate(request, "submit", account=user.id)
    return await run_in_threadpool(community.submissions.submit, user, text)


async def submit(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/papers/submit")
    form = await form_data(request)
    try:
        done = await _submit(request, user, form.get("id", ""))
    except Invalid as e:
        community = _community(request)
        settings = request.app.state.services.settings
        used = await run_in_threadpool(community.accounts.store.count_submissions, user.id, community.today())
        return render(request, "submit.html", {"title": "Submit a paper", "user": user, "error": str(e),
                                               "value": form.get("id", ""), "today": community.today(), "used": used,
                                               "cap": settings.submit_daily_cap,
                                               "max_age": settings.submit_max_age_days}, status=400)
    return redirect(f"/papers/{done.paper.arxiv_id}?submitted={done.day.isoformat()}")


async def api_submit(request: Request) -> Response:
    try:
        user = await current_user(request)
    except Unauthorized as e:
        return _unauthorized(str(e))
    if user is None:
        return _unauthorized("Send Authorization: Bearer <token> (create one on your settings page).")
    data = await json_or_form(request)
    done = await _submit(request, user, str(data.get("id") or data.get("url") or ""))
    from dailypapers.web.api import paper_json

    return JSONResponse({"id": done.paper.arxiv_id, "day": done.day.isoformat(), "paper": paper_json(done.paper)},
                        status_code=201, headers={"Cache-Control": "no-store"})


# -- comments --------------------------------------------------------------------------------------------------
async def comment_add(request: Request) -> Response:
    user = await current_user(request)
    arxiv_id = _canonical(request, request.path_params["arxiv_id"])
    if user is None:
        return login_redirect(request, f"/papers/{arxiv_id}")
    form = await form_data(request)
    require_member(user, what="comment")
    rate(request, "comment", account=user.id)
    comment = await run_in_threadpool(_community(request).comments.add, user, arxiv_id, form.get("body", ""))
    return redirect(f"/papers/{arxiv_id}#comment-{comment.id}")


async def comment_page(request: Request) -> Response:
    user = await current_user(request)
    comment_id = _int(request.path_params["comment_id"])
    community = _community(request)
    comment = await run_in_threadpool(community.comments.get, comment_id)
    if comment.hidden_at is not None and not (user and (user.is_curator or user.id == comment.user_id)):
        raise NotFound("no such comment")
    return render(request, "comment.html", {"title": "Comment", "comment": comment, "user": user,
                                            "own": bool(user and user.id == comment.user_id),
                                            "curator": bool(user and user.is_curator and user.verified)})


async def _comment_action(request: Request, action: str) -> Response:
    user = await current_user(request)
    comment_id = _int(request.path_params["comment_id"])
    if user is None:
        return login_redirect(request, f"/comments/{comment_id}")
    form = await form_data(request)
    service = _community(request).comments
    if action == "edit":
        rate(request, "comment", account=user.id)
        comment = await run_in_threadpool(service.edit, user, comment_id, form.get("body", ""))
    elif action == "delete":
        comment = await run_in_threadpool(service.delete, user, comment_id)
    else:
        comment = await run_in_threadpool(service.hide, user, comment_id, action == "hide")
    return redirect(f"/papers/{comment.arxiv_id}#comments")


async def comment_edit(request: Request) -> Response:
    return await _comment_action(request, "edit")


async def comment_delete(request: Request) -> Response:
    return await _comment_action(request, "delete")


async def comment_hide(request: Request) -> Response:
    return await _comment_action(request, "hide")


async def comment_unhide(request: Request) -> Response:
    return await _comment_action(request, "unhide")


# -- curators ---------------------------------------------------------------------------------------------------
def _day_param(value: str | None, default: dt.date) -> dt.date:
    return days_mod.parse_day(value) if value else default


async def curate_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    require_curator(user)
    community = _community(request)
    day = _day_param(request.query_params.get("day"), community.today())
    rows = await run_in_threadpool(community.curation.day, user, day)
    return render(request, "curate.html", {"title": f"Curate {day.isoformat()}", "day": day, "rows": rows,
                                           "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
                                           "error": request.query_params.get("error")})


async def curate_action(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/curate")
    require_curator(user)
    action = request.path_params["action"]
    form = await form_data(request)
    community = _community(request)
    day = _day_param(form.get("day"), community.today())
    back = f"/curate?day={day.isoformat()}"
    service = community.curation
    try:
        if action == "add":
            await run_in_threadpool(service.add, user, form.get("id", ""), day)
        else:
            arxiv_id = _canonical(request, form.get("id", ""))
            if action in ("pin", "unpin"):
                await run_in_threadpool(service.pin, user, day, arxiv_id, action == "pin")
            elif action in ("hide", "unhide"):
                await run_in_threadpool(service.hide, user, day, arxiv_id, action == "hide")
            elif action == "remove":
                await run_in_threadpool(service.remove, user, day, arxiv_id)
            else:
                raise NotFound("no such action")
    except Invalid as e:
        return redirect(back + "&" + urlencode({"error": str(e)[:300]}))
    invalidate_pages(request)
    return redirect(back)


def invalidate_pages(request: Request) -> None:
    """Curators see their change at once: drop the rendered-page cache and the version token."""
    site = getattr(request.app.state, "site", None)
    if site is not None:
        site.cache.clear()
    papers = getattr(request.app.state, "papers", None)
    if papers is not None and hasattr(papers, "_version"):
        papers._version = None


async def curate_log(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    actions = await run_in_threadpool(_community(request).curation.log, user, 200)
    return render(request, "curate_log.html", {"title": "Curator log", "actions": actions})


# -- top of the week / month ---------------------------------------------------------------------------------
async def top_period(request: Request) -> Response:
    from dailypapers.trending import period_bounds

    kind = request.path_params["period"]
    if kind not in ("week", "month"):
        raise NotFound("use /papers/top/week or /papers/top/month")
    start, _ = period_bounds(kind, _community(request).today())
    label = days_mod.week_label(start) if kind == "week" else days_mod.month_label(start)
    return RedirectResponse(f"/papers/{kind}/{label}", status_code=302, headers={"Cache-Control": "no-cache"})


# -- template helpers used by the shared pages ------------------------------------------------------------------
def comments_for(request: Request, arxiv_id: str) -> list:
    """Visible comments of a paper, for the (shared, cached) paper page."""
    return request.app.state.services.store.paper_comments(arxiv_id)


def routes(services) -> list[Route]:
    get_community(services)
    site_env_globals(services)
    p, g = ["POST"], ["GET"]
    return [
        Route("/signup", signup_page, methods=g),
        Route("/signup", signup, methods=p),
        Route("/login", login_page, methods=g),
        Route("/login", login, methods=p),
        Route("/logout", logout, methods=p),
        Route("/verify", verify_page, methods=g),
        Route("/verify", verify, methods=p),
        Route("/verify/resend", verify_resend, methods=p),
        Route("/reset", reset_page, methods=g),
        Route("/reset", reset, methods=p),
        Route("/reset/confirm", reset_confirm_page, methods=g),
        Route("/reset/confirm", reset_confirm, methods=p),
        Route("/settings", settings_page, methods=g),
        Route("/settings/profile", settings_profile, methods=p),
        Route("/settings/password", settings_password, methods=p),
        Route("/settings/tokens", token_create, methods=p),
        Route("/settings/tokens/{token_id}/revoke", token_revoke, methods=p),
        Route("/u/{name}", profile, methods=g),
        Route("/papers/submit", submit_page, methods=g),
        Route("/papers/submit", submit, methods=p),
        Route("/api/papers/submit", api_submit, methods=p),
        Route("/papers/top/{period}", top_period, methods=g),
        Route("/api/papers/{arxiv_id:path}/upvote", api_upvote, methods=p),
        Route("/papers/{arxiv_id:path}/upvote", upvote, methods=p),
        Route("/papers/{arxiv_id:path}/comments", comment_add, methods=p),
        Route("/comments/{comment_id}", comment_page, methods=g),
        Route("/comments/{comment_id}/edit", comment_edit, methods=p),
        Route("/comments/{comment_id}/delete", comment_delete, methods=p),
        Route("/comments/{comment_id}/hide", comment_hide, methods=p),
        Route("/comments/{comment_id}/unhide", comment_unhide, methods=p),
        Route("/curate", curate_page, methods=g),
        Route("/curate/log", curate_log, methods=g),
        Route("/curate/{action}", curate_action, methods=p),
    ]


def site_env_globals(services) -> None:
    """Template helpers the shared templates (paper page, upvote box) may call."""
    # Registered on the Jinja environment lazily, by the first render (the Site is built before
    # routes() runs and is not handed to us); see _install_globals below.
    services.community_template_globals = {
        "render_comment": render_comment,
        "upvote_breakdown": breakdown,
        "comments_for": comments_for,
        "quote": quote,
    }


__all__ = ["routes", "get_community", "current_user", "CSRF_EXEMPT", "Community", "safe_next"]
