"""Subscription pages and /for-you (issue 6). Mounted by web/routes.py through routes(services).

| route                               | what                                                      |
|-------------------------------------|-----------------------------------------------------------|
| GET  /subscribe                     | the form (members: their address, "papers like my upvotes") |
| POST /subscribe                     | validate, store pending, send the confirmation            |
| GET  /subscribe/confirm?token=      | check the link, show a Confirm button (link scanners GET) |
| POST /subscribe/confirm             | confirm (one-time)                                        |
| GET  /subscriptions/manage?token=   | change topics/frequency, or unsubscribe, without login    |
| POST /subscriptions/manage          | save or unsubscribe (CSRF-protected form)                 |
| POST /unsubscribe/one-click?token=  | RFC 8058 one-click: no cookie, no CSRF token; idempotent  |
| GET  /unsubscribe/one-click?token=  | a browser that opens the header's URL: the manage page    |
| GET  /for-you                       | a member's recent papers, ranked by topics and upvotes    |

Handlers are short: read the input, call the service (in a worker thread: it may talk SMTP),
render. Bad input re-renders the form with the message, status 400, and nothing stored or sent.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dailypapers.models import WEEKDAYS
from dailypapers.digests.foryou import FOR_YOU_DAYS, Profile, Ranker
from dailypapers.digests.subscriptions import (
    MAX_TOPIC_CHARS,
    MAX_TOPICS,
    SubscriptionService,
    topics_text,
)
from dailypapers.errors import Invalid, NotFound
from dailypapers.mail import MailError
from dailypapers.clock import utcnow

# The one-click endpoint is also in web.security's DEFAULT_CSRF_EXEMPT; stated here too so the
# exemption holds even if that default changes. It authenticates by its signed token.
CSRF_EXEMPT = [r"^/unsubscribe/one-click$"]
MAX_FIELD = 4000  # characters kept from any form field (topics: 10 x 250 + line breaks)
CHECK_INBOX = ("Check your inbox: we sent a link to {email}. Open it to confirm your subscription "
               "(or, if this address is already subscribed, to manage it). The link works for 48 hours.")


def _service(request: Request) -> SubscriptionService:
    state = request.app.state
    svc = getattr(state, "subscriptions", None)
    if svc is None:
        services = state.services
        svc = SubscriptionService(services.store, services.settings, services.mailer,
                                  clock=getattr(services, "clock", None) or utcnow)
        state.subscriptions = svc
    return svc



async def _user(request: Request):
    """The logged-in member, if the community module is installed."""
    try:
        from dailypapers.web.community import current_user
    except ImportError:
        return None
    try:
        return await current_user(request)
    except Exception:  # a bad bearer token on a page: treat as anonymous
        return None


def _rate(request: Request) -> None:
    try:
        from dailypapers.community.ratelimit import check_request
    except ImportError:
        return
    check_request(request, "subscribe")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    out: dict[str, str] = {}
    for key, value in form.items():
        if isinstance(value, str):
            out[key] = value[:MAX_FIELD]
    await form.close()
    return out


def _render(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    site = request.app.state.site
    ctx = {"noindex": True, "weekdays": list(enumerate(WEEKDAYS)), "max_topics": MAX_TOPICS,
           "max_topic_chars": MAX_TOPIC_CHARS, "me": request.scope.get("community_user"), **context}
    body = site.render(request, f"subscriptions/{template}", ctx)
    # Manage and confirm URLs carry signed tokens: no Referer leaves the site. Not "no-referrer":
    # under it browsers send "Origin: null" with the page's own forms, which the CSRF check refuses.
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"})


def _message(request: Request, heading: str, message: str, *, status: int = 200, link=None) -> Response:
    return _render(request, "message.html", {"title": heading, "heading": heading, "message": message,
                                             "link": link}, status=status)


def _values(form: dict) -> dict:
    return {
        "email": form.get("email", ""),
        "frequency": form.get("frequency", "daily"),
        "weekday": form.get("weekday", "0"),
        "skip_weekends": form.get("skip_weekends") in ("1", "on", "true"),
        "topics": form.get("topics", ""),
        "include_upvotes": form.get("include_upvotes") in ("1", "on", "true"),
    }


def _values_of(sub) -> dict:
    return {
        "email": sub.email, "frequency": sub.frequency, "weekday": str(sub.weekday or 0),
        "skip_weekends": sub.skip_weekends, "topics": topics_text(sub.topics), "include_upvotes": sub.include_upvotes,
    }


# -- subscribe --------------------------------------------------------------------------------
async def subscribe_page(request: Request) -> Response:
    user = await _user(request)
    values = _values({})
    existing = None
    if user is not None:
        existing = await run_in_threadpool(_service(request).for_member, user.id)
        values = _values_of(existing) if existing is not None and existing.active else {**values, "email": user.email}
    return _render(request, "subscribe.html", {"title": "Subscribe", "values": values, "user": user,
                                               "existing": existing})


async def subscribe_submit(request: Request) -> Response:
    user = await _user(request)
    form = await _form(request)
    values = _values(form)
    try:
        _rate(request)
        result = await run_in_threadpool(
            _service(request).request, values["email"], frequency=values["frequency"], weekday=values["weekday"],
            skip_weekends=values["skip_weekends"], topics=values["topics"], include_upvotes=values["include_upvotes"],
            user=user,
        )
    except Invalid as e:
        return _render(request, "subscribe.html", {"title": "Subscribe", "values": values, "user": user,
                                                   "error": str(e)}, status=400)
    except MailError:
        return _message(request, "Could not send the email",
                        "We could not send the confirmation email just now. Please try again in a few minutes.",
                        status=503)
    if result.status == "subscribed":
        return _message(request, "You are subscribed",
                        f"Your {result.subscription.schedule_label} digest goes to {result.subscription.email}.",
                        link=("/for-you", "See papers for you"))
    return _message(request, "Check your inbox", CHECK_INBOX.format(email=result.subscription.email))


async def confirm_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        sub = await run_in_threadpool(_service(request).check_confirm, token)
    except (Invalid, NotFound) as e:
        return _message(request, "This link does not work", str(e), status=400,
                        link=("/subscribe", "Subscribe"))
    return _render(request, "confirm.html", {"title": "Confirm your subscription", "sub": sub, "token": token})


async def confirm_submit(request: Request) -> Response:
    form = await _form(request)
    try:
        sub = await run_in_threadpool(_service(request).confirm, form.get("token", ""))
    except (Invalid, NotFound) as e:
        return _message(request, "This link does not work", str(e), status=400,
                        link=("/subscribe", "Subscribe"))
    manage = _service(request).manage_url(sub)
    return _message(request, "You are subscribed",
                    f"Your {sub.schedule_label} digest will go to {sub.email}. Every digest has a link to change "
                    "or cancel it.", link=(manage, "Manage your subscription"))


# -- manage ---------------------------------------------------------------------------------------
async def manage_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        sub = await run_in_threadpool(_service(request).from_manage_token, token)
    except Invalid as e:
        return _message(request, "This link does not work", str(e), status=400, link=("/subscribe", "Subscribe"))
    return _render(request, "manage.html", {
        "title": "Your subscription", "sub": sub, "token": token, "values": _values_of(sub),
        "confirm_unsubscribe": request.query_params.get("action") == "unsubscribe",
        "saved": request.query_params.get("saved") == "1",
    })


async def manage_submit(request: Request) -> Response:
    form = await _form(request)
    token = form.get("token", "")
    svc = _service(request)
    try:
        if form.get("action") == "unsubscribe":
            sub = await run_in_threadpool(svc.unsubscribe, token)
            return _message(request, "You are unsubscribed",
                            f"No more digests will go to {sub.email}.", link=("/subscribe", "Subscribe again"))
        values = _values(form)
        await run_in_threadpool(svc.update, token, frequency=values["frequency"], weekday=values["weekday"],
                                skip_weekends=values["skip_weekends"], topics=values["topics"],
                                include_upvotes=values["include_upvotes"])
    except Invalid as e:
        try:
            sub = await run_in_threadpool(svc.from_manage_token, token)
        except Invalid:
            return _message(request, "This link does not work", str(e), status=400)
        return _render(request, "manage.html", {"title": "Your subscription", "sub": sub, "token": token,
                                                "values": _values(form), "error": str(e)}, status=400)
    return RedirectResponse("/subscriptions/manage?" + urlencode({"token": token, "saved": "1"}), status_code=303,
                            headers={"Cache-Control": "no-store"})


async def one_click(request: Request) -> Response:
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click; no cookie, no CSRF token.
    The signed token is the authentication; repeating the POST changes nothing."""
    token = request.query_params.get("token", "")
    try:
        await run_in_threadpool(_service(request).unsubscribe, token)
    except Invalid as e:
        return PlainTextResponse(str(e), status_code=400, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("You are unsubscribed.", headers={"Cache-Control": "no-store"})


async def one_click_page(request: Request) -> Response:
    query = urlencode({"token": request.query_params.get("token", ""), "action": "unsubscribe"})
    return RedirectResponse(f"/subscriptions/manage?{query}", status_code=303)


# -- for you ------------------------------------------------------------------------------------
async def for_you(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return RedirectResponse("/login?" + urlencode({"next": "/for-you"}), status_code=303,
                                headers={"Cache-Control": "no-store"})
    services = request.app.state.services
    papers = request.app.state.papers

    def build():
        store = services.store
        sub = store.get_subscription_for_user(user.id)
        topics = list(sub.topics) if sub is not None else []
        profile = Profile(topics=topics, upvoted=store.user_upvoted_ids(user.id))
        ranker = Ranker(store, embedder=services.embedder)
        picks, personal = ranker.for_you(profile, papers.today(), papers.now())
        return sub, profile, picks, personal

    sub, profile, picks, personal = await run_in_threadpool(build)
    return _render(request, "for_you.html", {
        "title": "For you", "picks": picks, "personal": personal, "profile": profile, "sub": sub,
        "days": FOR_YOU_DAYS, "user": user,
    })


def routes(services) -> list[Route]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/subscribe", subscribe_page, methods=get, name="subscribe"),
        Route("/subscribe", subscribe_submit, methods=post),
        Route("/subscribe/confirm", confirm_page, methods=get, name="subscribe_confirm"),
        Route("/subscribe/confirm", confirm_submit, methods=post),
        Route("/subscriptions/manage", manage_page, methods=get, name="subscription_manage"),
        Route("/subscriptions/manage", manage_submit, methods=post),
        Route("/unsubscribe/one-click", one_click, methods=post, name="unsubscribe_one_click"),
        Route("/unsubscribe/one-click", one_click_page, methods=get),
        Route("/for-you", for_you, methods=get, name="for_you"),
    ]


__all__ = ["routes", "CSRF_EXEMPT"]
