"""Subscription pages and /for-you. The one-click endpoint is CSRF-exempt in web/routes.py.

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

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from dailypapers.digests.foryou import FOR_YOU_DAYS
from dailypapers.digests.subscriptions import MAX_TOPIC_CHARS, MAX_TOPICS, topics_text
from dailypapers.errors import Invalid, NotFound
from dailypapers.mail import MailError
from dailypapers.models import WEEKDAYS
from dailypapers.web.auth import page_user
from dailypapers.web.requests import form_data, private_page, rate_limit, services

MAX_FIELD = 4000  # characters kept from any form field (topics: 10 x 250 + line breaks)
CHECK_INBOX = ("Check your inbox: we sent a link to {email}. Open it to confirm your subscription "
               "(or, if this address is already subscribed, to manage it). The link works for 48 hours.")
CHANGE_OR_UNSUBSCRIBE = "Change or unsubscribe"


async def _form(request: Request) -> dict[str, str]:
    return await form_data(request, max_field=MAX_FIELD)


def _render(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    ctx = {"weekdays": list(enumerate(WEEKDAYS)), "max_topics": MAX_TOPICS, "max_topic_chars": MAX_TOPIC_CHARS,
           **context}
    # Manage and confirm URLs carry signed tokens: no Referer leaves the site. Not "no-referrer":
    # under it browsers send "Origin: null" with the page's own forms, which the CSRF check refuses.
    return private_page(request, f"subscriptions/{template}", ctx, status=status,
                        headers={"Referrer-Policy": "same-origin"})


def _message(request: Request, heading: str, message: str, *, status: int = 200, link=None,
             links: tuple = ()) -> Response:
    """`link` (or `links`, several): (href, text) pairs shown under the message."""
    return _render(request, "message.html", {"title": heading, "heading": heading, "message": message,
                                             "links": ([link] if link else []) + list(links)}, status=status)


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
    user = await page_user(request)
    values = _values({})
    existing = manage_url = None
    if user is not None:
        svc = services(request).subscriptions
        existing, manage_url = await run_in_threadpool(lambda u: (svc.for_member(u.id), svc.member_manage_url(u)), user)
        values = _values_of(existing) if existing is not None and existing.active else {**values, "email": user.email}
    return _render(request, "subscribe.html", {"title": "Subscribe", "values": values, "user": user,
                                               "existing": existing, "manage_url": manage_url})


async def subscribe_submit(request: Request) -> Response:
    user = await page_user(request)
    form = await _form(request)
    values = _values(form)
    try:
        await rate_limit(request, "subscribe")
        result = await run_in_threadpool(
            services(request).subscriptions.request, values["email"], frequency=values["frequency"],
            weekday=values["weekday"],
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
        # A verified member's own address: subscribed at once, no email, so the manage link is here.
        sub = result.subscription
        assert user is not None  # only a member's own address is subscribed at once
        manage_url = await run_in_threadpool(services(request).subscriptions.member_manage_url, user)
        links = ([(manage_url, CHANGE_OR_UNSUBSCRIBE)] if manage_url else []) + [("/for-you", "See papers for you")]
        return _message(request, "You are subscribed", f"Your digest goes to {sub.email} {sub.schedule_label}.",
                        links=tuple(links))
    return _message(request, "Check your inbox", CHECK_INBOX.format(email=result.subscription.email))


async def confirm_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        sub = await run_in_threadpool(services(request).subscriptions.check_confirm, token)
    except (Invalid, NotFound) as e:
        return _message(request, "This link does not work", str(e), status=400,
                        link=("/subscribe", "Subscribe"))
    return _render(request, "confirm.html", {"title": "Confirm your subscription", "sub": sub, "token": token})


async def confirm_submit(request: Request) -> Response:
    form = await _form(request)
    try:
        sub = await run_in_threadpool(services(request).subscriptions.confirm, form.get("token", ""))
    except (Invalid, NotFound) as e:
        return _message(request, "This link does not work", str(e), status=400,
                        link=("/subscribe", "Subscribe"))
    manage = services(request).subscriptions.manage_url(sub)
    return _message(request, "You are subscribed",
                    f"Your digest will go to {sub.email} {sub.schedule_label}. Every digest has a link to change "
                    "or cancel it.", link=(manage, CHANGE_OR_UNSUBSCRIBE))


# -- manage ---------------------------------------------------------------------------------------
async def manage_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        sub = await run_in_threadpool(services(request).subscriptions.from_manage_token, token)
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
    svc = services(request).subscriptions
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
        await run_in_threadpool(services(request).subscriptions.unsubscribe, token)
    except Invalid as e:
        return PlainTextResponse(str(e), status_code=400, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("You are unsubscribed.", headers={"Cache-Control": "no-store"})


async def one_click_page(request: Request) -> Response:
    query = urlencode({"token": request.query_params.get("token", ""), "action": "unsubscribe"})
    return RedirectResponse(f"/subscriptions/manage?{query}", status_code=303)


# -- for you ------------------------------------------------------------------------------------
async def for_you(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse("/login?" + urlencode({"next": "/for-you"}), status_code=303,
                                headers={"Cache-Control": "no-store"})
    svc = services(request)

    def work():
        page = svc.foryou.for_member(user.id, svc.papers.today(), svc.papers.now())
        ids = [pick.paper.arxiv_id for pick in page.picks]
        return page, svc.votes.voted(user, ids), svc.library.states(user, ids), svc.saved.feed_token(user)

    page, voted, states, token = await run_in_threadpool(work)
    return _render(request, "for_you.html", {
        "title": "For you", "picks": page.picks, "personal": page.personal, "profile": page.profile,
        "sub": page.subscription, "days": FOR_YOU_DAYS, "user": user, "voted_ids": voted,
        "reading_states": states,
        # the member's secret For-you feed, when they made one (web/saved.py, /settings/feeds)
        "feed": f"/feeds/for-you/{token}.xml" if token else None,
    })


__all__ = ["subscribe_page", "subscribe_submit", "confirm_page", "confirm_submit", "manage_page", "manage_submit",
           "one_click", "one_click_page", "for_you"]
