"""Saved searches on the site, their feeds, a member's For-you feed, and the OPML of all their feeds.
The rules are in digests/saved.py; these handlers parse the form, call the service once and render.

* POST /saved-searches                      save a search (the search page's "Save this search" form)
* GET  /saved-searches                      the member's saved searches: feeds, rename, alert, delete
* POST /saved-searches/{id}                 rename and set the alert;  POST /saved-searches/{id}/delete
* GET  /settings/feeds                      every feed of the member, the For-you feed's secret URL
* POST /settings/feeds/for-you              action=new (make or regenerate the token) | revoke
* GET  /feeds/saved/{key}.xml|.atom|.json   a saved search's feed (the key is its secret)
* GET  /feeds/for-you/{token}.xml|.atom|.json   the member's For you (the token is its secret)
* POST /unsubscribe/alert?token=            RFC 8058 one-click "stop this alert": no cookie, no CSRF token
                                            (the signed token authenticates it); idempotent
* GET  /unsubscribe/alert?token=            a browser that opens the link: a page with that button
* GET  /feeds.opml                          OPML 2.0 of all the member's feeds (signed in): the site's, their
                                            saved searches', public collections', follows' (authors,
                                            organizations) and For you

Every change is a POST with the CSRF token, then a 303 back with a one-shot message. The secret
feeds are never cached by shared caches (``private``), and a wrong key is a 404 like any other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.digests.saved import ALERT_LABELS, FEED_LIMIT, SAVED_PARAMS
from dailypapers.errors import Invalid
from dailypapers.models import SavedSearch
from dailypapers.web.auth import current_user
from dailypapers.web.feeds import FeedItem, alternates, feed_format, feed_response, rfc822, x
from dailypapers.web.flash import Flash, clear_flash, flash_redirect, take_flash
from dailypapers.web.guard import MAX_LOCATION
from dailypapers.web.requests import form_data, login_redirect, path_int, private_page, rate_limit, services
from dailypapers.web.site import site_of

SECRET_FEED_CACHE = "private, max-age=300"
NO_STORE = {"Cache-Control": "no-store"}
HERE = "/saved-searches"


def search_url(saved: SavedSearch) -> str:
    return "/papers/search?" + urlencode(saved.params)


def saved_feed_url(saved: SavedSearch) -> str:
    return f"/feeds/saved/{saved.feed_key}.xml"


def foryou_feed_url(token: str) -> str:
    return f"/feeds/for-you/{token}.xml"


def _page(request: Request, template: str, context: dict) -> Response:
    flash = take_flash(request)
    extra: dict[str, Any] = {"notice": None, "error": None, "error_field": None, "error_id": None}
    if flash is not None and flash.kind == "error":
        form, _, field = (flash.field or "").partition(":")
        extra.update(error=flash.text, error_id=form or None, error_field=field or None)
    else:
        extra["notice"] = flash
    ctx = {"alert_labels": ALERT_LABELS, "search_url": search_url, "saved_feed_url": saved_feed_url,
           "alternates": alternates, **extra, **context}
    return clear_flash(request, private_page(request, template, ctx))


# -- saved searches -------------------------------------------------------------------------
async def save(request: Request) -> Response:
    """The search page's "Save this search": the search's own parameters, hidden in the form."""
    form = await form_data(request)
    back = "/papers/search?" + urlencode({k: form[k] for k in SAVED_PARAMS if form.get(k)})
    user = await current_user(request)
    if user is None:
        return login_redirect(request, back)
    await rate_limit(request, "vote", account=user.id)
    svc = services(request).saved
    try:
        saved = await run_in_threadpool(svc.save, user, form, name=form.get("name", ""),
                                        alert=form.get("alert", "none"))
    except Invalid as e:
        # back to the search, unless it is too long to carry (a 10 KB query): then this member's list
        return flash_redirect(request, back if len(back) <= MAX_LOCATION else HERE, Flash(str(e), "error"))
    return flash_redirect(request, f"{HERE}#saved-{saved.id}",
                          Flash(f"Saved “{saved.name}”. Its feed and alert are below."))


async def saved_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    svc = services(request)

    def work():
        return svc.saved.mine(user), svc.subscriptions.for_member(user.id)

    searches, sub = await run_in_threadpool(work)
    return _page(request, "saved/searches.html", {
        "title": "Saved searches", "searches": searches, "has_digest": bool(sub and sub.active)})


async def saved_update(request: Request) -> Response:
    saved_id = path_int(request.path_params["sid"])
    user = await current_user(request)
    if user is None:
        return login_redirect(request, HERE)
    form = await form_data(request)
    await rate_limit(request, "vote", account=user.id)
    try:
        saved = await run_in_threadpool(services(request).saved.update, user, saved_id,
                                        name=form.get("name"), alert=form.get("alert"))
    except Invalid as e:
        return flash_redirect(request, f"{HERE}#saved-{saved_id}",
                              Flash(str(e), "error", f"saved-{saved_id}:{e.field or ''}"))
    return flash_redirect(request, f"{HERE}#saved-{saved_id}",
                          Flash(f"Saved “{saved.name}”: {ALERT_LABELS[saved.alert].lower()}."))


async def saved_delete(request: Request) -> Response:
    saved_id = path_int(request.path_params["sid"])
    user = await current_user(request)
    if user is None:
        return login_redirect(request, HERE)
    await form_data(request)
    await rate_limit(request, "vote", account=user.id)
    saved = await run_in_threadpool(services(request).saved.delete, user, saved_id)
    return flash_redirect(request, HERE, Flash(f"Deleted “{saved.name}” and its feed."))


# -- the member's feeds -------------------------------------------------------------------------
def member_feeds(request: Request, user) -> dict:
    """Every feed of this member, grouped, as (title, RSS URL) pairs; the For-you one if any."""
    svc = services(request)
    searches = svc.saved.mine(user)
    collections = [c for c in svc.library.mine(user) if c.visibility == "public"]
    follows = svc.follows.of(user)
    token = svc.saved.feed_token(user)
    return {
        "site": [("Daily Papers: the latest day", "/feeds/daily.xml"),
                 ("Daily Papers: trending", "/feeds/trending.xml"),
                 ("Daily Papers: new arXiv arrivals", "/feeds/new.xml")],
        "saved": [(f"Saved search: {s.name}", saved_feed_url(s)) for s in searches],
        "collections": [(f"Collection: {c.name}", f"/c/{c.ref}/feed.xml") for c in collections],
        "follows": [(f"Author: {f.name}", "/feeds/authors/" + quote(f.name, safe="") + ".xml") if f.kind == "author"
                    else (f"Organization: {f.name}", "/feeds/orgs/" + quote(f.name, safe="") + ".xml")
                    for f in follows],
        "foryou": [("For you", foryou_feed_url(token))] if token else [],
        "token": token,
    }


async def feeds_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    feeds = await run_in_threadpool(member_feeds, request, user)
    return _page(request, "saved/feeds.html", {"title": "Your feeds", "feeds": feeds,
                                               "base_url": site_of(request).base_url})


async def foryou_token(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings/feeds")
    form = await form_data(request)
    await rate_limit(request, "vote", account=user.id)
    svc = services(request).saved
    if form.get("action") == "revoke":
        await run_in_threadpool(svc.revoke_feed_token, user)
        return flash_redirect(request, "/settings/feeds", Flash("Your For-you feed link no longer works."))
    await run_in_threadpool(svc.new_feed_token, user)
    return flash_redirect(request, "/settings/feeds#for-you",
                          Flash("Your For-you feed has a new secret link; the old one no longer works."))


async def opml(request: Request) -> Response:
    """OPML 2.0: every feed of the signed-in member, for a feed reader's import."""
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    feeds = await run_in_threadpool(member_feeds, request, user)
    base = site_of(request).base_url
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = x(f"Daily Papers feeds of {user.name}")
    etree.SubElement(head, "dateCreated").text = rfc822(services(request).clock())
    body = etree.SubElement(root, "body")
    for group, label in (("site", "Daily Papers"), ("saved", "Saved searches"), ("collections", "Collections"),
                         ("follows", "Follows"), ("foryou", "For you")):
        if not feeds[group]:
            continue
        outline = etree.SubElement(body, "outline", text=label, title=label)
        for title, url in feeds[group]:
            etree.SubElement(outline, "outline", type="rss", text=x(title), title=x(title), xmlUrl=x(base + url),
                             htmlUrl=x(base + "/"))
    data = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return Response(data, media_type="text/x-opml; charset=utf-8", headers={
        "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="dailypapers-feeds.opml"'})


# -- "stop this alert" from the email ---------------------------------------------------------
def _alert_message(request: Request, heading: str, message: str, status: int = 200) -> Response:
    return private_page(request, "message.html", {"title": heading, "heading": heading, "message": message,
                                                  "links": [(HERE, "Your saved searches")]},
                        status=status, headers={"Referrer-Policy": "same-origin"})


async def alert_one_click(request: Request) -> Response:
    """The mail provider POSTs List-Unsubscribe=One-Click (RFC 8058), or a reader presses the
    button of alert_off_page; the signed token in the URL is the authentication."""
    try:
        saved = await run_in_threadpool(services(request).saved.stop_alert, request.query_params.get("token", ""))
    except Invalid as e:
        return _alert_message(request, "This link does not work", str(e), status=400)
    return _alert_message(request, "Alert stopped",
                          f"No more emails for “{saved.name}”. The saved search and its feed stay.")


async def alert_off_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        saved = await run_in_threadpool(services(request).saved.from_alert_token, token)
    except Invalid as e:
        return _alert_message(request, "This link does not work", str(e), status=400)
    return private_page(request, "saved/alert_off.html", {"title": "Stop this alert", "saved": saved,
                                                          "alert_labels": ALERT_LABELS, "token": token},
                        headers={"Referrer-Policy": "same-origin"})


# -- the secret feeds ---------------------------------------------------------------------------
async def saved_feed(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request)
    svc = site.services.saved
    saved = await run_in_threadpool(svc.by_feed_key, request.path_params["key"])
    base = site.base_url

    def build():
        papers = svc.matches(saved, limit=FEED_LIMIT)
        items = [FeedItem(p, p.published, base) for p in papers]
        return (f"Daily Papers: {saved.name}", base + search_url(saved), base + saved_feed_url(saved),
                f"Papers matching your saved search “{saved.q}”, newest first", items)

    # keyed by the owner's state too: hiding a paper is bookkeeping and does not move the content version
    hidden = await run_in_threadpool(svc.owner_hidden, saved)
    key = ("saved", saved.id, saved.name, tuple(sorted(saved.params.items())), hash(tuple(hidden)),
           site.services.search.position())
    return await feed_response(request, key, build, fmt, SECRET_FEED_CACHE)


async def foryou_feed(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request)
    svc = site.services
    token = request.path_params["token"]
    user_id = await run_in_threadpool(svc.saved.feed_token_user, token)
    base = site.base_url

    def build():
        page = svc.foryou.for_member(user_id, svc.papers.today(), svc.papers.now())
        items = [FeedItem(p.paper, p.paper.published, base, "Why: " + ", ".join(p.reasons))
                 for p in page.picks[:FEED_LIMIT]]
        return ("Daily Papers: for you", base + "/for-you", base + foryou_feed_url(token),
                "Papers picked for you from your topics, upvotes and follows", items)

    # personal and quick to change (votes, hides, follows): a short-lived entry per token
    key = ("for-you", token, svc.papers.today(), int(svc.clock().timestamp() // 300))
    return await feed_response(request, key, build, fmt, SECRET_FEED_CACHE)


__all__ = ["save", "saved_page", "saved_update", "saved_delete", "feeds_page", "foryou_token", "opml", "saved_feed",
           "foryou_feed", "member_feeds", "search_url", "saved_feed_url", "foryou_feed_url", "alert_one_click",
           "alert_off_page"]
