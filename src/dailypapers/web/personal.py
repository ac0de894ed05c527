"""A member's own view of shared pages: their upvotes pressed, their name and menu in the header,
the comment form, and a one-shot message (web/flash.py).

Cached pages are rendered once, as a visitor sees them, with stable markers:

* every upvote button ends its opening tag with
  ``data-vote="ID" aria-pressed="false"><span class="upvote-action visually-hidden">Upvote</span>``
  (templates/_upvote.html);
* a region ``<!--dp:NAME-->...<!--/dp:NAME-->`` (``<!--dp:NAME:ARG-->`` with an argument) wraps
  what depends on the reader: the account links, the comment form, the message slot, the "new
  since your last visit" line, the follow button of an organization or author
  (``dp:follow:org:NAME``, ``dp:follow:author:NAME``);
* every paper row of a list or search page is wrapped in ``<!--row:ID-->...<!--/row-->``
  (templates/_macros.html card, search.html), and a list row's meta line holds
  ``<!--new:ID:LISTED_AT-->`` (Unix time);
* every reading-state button (templates/_paper_actions.html) ends its opening tag with
  ``data-state="ID" data-value="STATE" aria-pressed="false">``.

The member's reading states (community/library.py) are applied here, because the cached page is
shared: rows of papers they hid ("not interested") are cut out with their ``<li>``, their state
buttons are pressed, and on a list page (``visit=`` the list kind) the rows listed since their
previous visit get a "New" badge.

A visitor without a message gets the cached bytes as they are (web.cache splices the CSRF token
into the stored gzip). For a member, or a reader with a message waiting, `personalize` flips the
buttons of the papers they upvoted in one regex pass over the cached body, renders the few regions
again from their small templates, and the result is gzipped at level 1 (ISA-L's, by
web.cache.gzip_bytes). On a 65 KiB list of 15 papers that is ~0.3 ms of personalizing plus ~0.15 ms
of gzip (~1 ms with zlib's level 1), against ~7-9 ms for rendering the page again
(bench/bench_web.py serves `/` to a signed-in member beside a visitor). Splicing pre-deflated
stretches instead of gzipping again was tried: no faster in Python, and 5-30% bigger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_mod
import re
from dataclasses import dataclass, field

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.community.accounts import SESSION_COOKIE
from dailypapers.community.follows import is_followed
from dailypapers.models import Follow, User
from dailypapers.web.auth import page_user
from dailypapers.web.cache import CacheEntry, etag_matches, gzip_bytes
from dailypapers.web.flash import Flash, clear_flash, take_flash
from dailypapers.web.requests import services
from dailypapers.web.security import CSRF_PLACEHOLDER, csrf_token

_VOTE = re.compile(rb'data-vote="([^"]+)" aria-pressed="false">'
                   rb'<span class="upvote-action visually-hidden">Upvote</span>')
_CSRF_BYTES = CSRF_PLACEHOLDER.encode()
_REGION = re.compile(rb"<!--dp:([a-z][a-z-]*)(?::([^>]*?))?-->.*?<!--/dp:\1-->", re.DOTALL)
_ROW = re.compile(rb"(<li>\s*)?<!--row:([^>]+?)-->.*?<!--/row-->(\s*</li>)?", re.DOTALL)
_STATE = re.compile(rb'data-state="([^"]+)" data-value="([a-z_]+)" aria-pressed="false">')
_NEW = re.compile(rb"<!--new:([^>]+?):(\d+)-->")
_NEW_BADGE = (b'<span class="badge badge-new">New<span class="visually-hidden"> since your last visit</span></span>'
              b'<span class="sep" aria-hidden="true">\xc2\xb7</span>')
# region name -> the template that renders it (context: request, me, notice, arg, viewer)
REGIONS = {"account": "_account.html", "comment-form": "community/_comment_form.html", "flash": "_flash.html",
           "since": "_since.html", "follow": "_follow.html"}
GZIP_LEVEL = 1  # per-member bodies are gzipped per request: fast beats small here


@dataclass
class Viewer:
    """Who reads this page: a member (or None) and their upvotes among its papers, and a message."""

    user: User | None
    voted: set[str] = field(default_factory=set)
    notice: Flash | None = None
    states: dict[str, str] = field(default_factory=dict)  # reading states of the page's papers
    since: dt.datetime | None = None  # a list page: rows listed after this are new to them
    new_count: int = 0  # set by personalize
    follows: list[Follow] = field(default_factory=list)  # a page with follow buttons: the member's follows

    def following(self, kind: str, name: str) -> bool:
        return is_followed(self.follows, kind, name)


def vote_ids(body: bytes) -> tuple[str, ...]:
    """The papers whose (unpressed) upvote buttons are on this page."""
    if b'data-vote="' not in body:
        return ()
    return tuple(dict.fromkeys(m.decode() for m in _VOTE.findall(body)))


async def viewer_of(request: Request, ids: tuple[str, ...], visit: str | None = None, *,
                    follows: bool = False) -> Viewer | None:
    """The reader, when the shared page needs changing for them; None for a visitor with no message.
    `visit` names the list kind a list page records the member's visit under; `follows`: the page
    has follow buttons (``<!--dp:follow:KIND:NAME-->``), so the member's follows are read too."""
    notice = take_flash(request)
    user = await page_user(request) if request.cookies.get(SESSION_COOKIE) else None
    if user is None:
        return Viewer(None, notice=notice) if notice else None
    svc = services(request)

    def look() -> tuple[set[str], dict[str, str], dt.datetime | None, list[Follow]]:
        # one worker-thread hop for the member's marks on this page
        voted = svc.votes.voted(user, ids) if ids else set()
        states = svc.library.states(user, ids) if ids else {}
        mine = svc.follows.of(user) if follows else []
        return voted, states, svc.library.visit(user, visit) if visit else None, mine

    voted, states, since, mine = await run_in_threadpool(look)
    return Viewer(user, voted, notice, states, since, follows=mine)


def personalize(env: Environment, request: Request, body: bytes, viewer: Viewer) -> bytes:
    """The shared page as this viewer sees it (the CSRF placeholder is left for the caller)."""
    if viewer.voted:
        voted = {v.encode() for v in viewer.voted}

        def press(m: re.Match) -> bytes:
            if m.group(1) not in voted:
                return m.group(0)
            return (b'data-vote="' + m.group(1) + b'" aria-pressed="true">'
                    b'<span class="upvote-action visually-hidden">Upvote</span>')

        body = _VOTE.sub(press, body)
    if viewer.states:
        body = _apply_states(body, viewer.states)
    if viewer.since is not None and b"<!--new:" in body:
        body = _mark_new(body, viewer)

    def region(m: re.Match) -> bytes:
        name = m.group(1).decode()
        if viewer.user is None and name != "flash":
            return m.group(0)
        arg = html_mod.unescape((m.group(2) or b"").decode())  # the marker holds it escaped (O&#39;Brien)
        html = env.get_template(REGIONS[name]).render(
            request=request, me=viewer.user, notice=viewer.notice, arg=arg, arxiv_id=arg, viewer=viewer)
        return b"<!--dp:" + m.group(1) + (b":" + m.group(2) if m.group(2) else b"") + b"-->" + html.encode() + \
            b"<!--/dp:" + m.group(1) + b"-->"

    return _REGION.sub(region, body)


def _apply_states(body: bytes, states: dict[str, str]) -> bytes:
    """Cut the rows of hidden papers out (with their <li>), and press the other state buttons."""
    hidden = {k.encode() for k, v in states.items() if v == "hidden"}
    if hidden and b"<!--row:" in body:
        body = _ROW.sub(lambda m: b"" if m.group(2) in hidden else m.group(0), body)
    pressed = {(k.encode(), v.encode()) for k, v in states.items()}

    def press(m: re.Match) -> bytes:
        if (m.group(1), m.group(2)) not in pressed:
            return m.group(0)
        return b'data-state="' + m.group(1) + b'" data-value="' + m.group(2) + b'" aria-pressed="true">'

    return _STATE.sub(press, body)


def _mark_new(body: bytes, viewer: Viewer) -> bytes:
    """A "New" badge on the rows listed after the member's previous visit; counts them."""
    assert viewer.since is not None
    cut = int(viewer.since.timestamp())
    count = 0

    def mark(m: re.Match) -> bytes:
        nonlocal count
        if int(m.group(2)) <= cut:
            return b""
        count += 1
        return _NEW_BADGE

    body = _NEW.sub(mark, body)
    viewer.new_count = count
    return body


def personal_response(request: Request, env: Environment, entry: CacheEntry, viewer: Viewer, *,
                      media_type: str = "text/html; charset=utf-8") -> Response:
    """A cached page made this viewer's own: never shared, revalidated by its ETag."""
    body = personalize(env, request, entry.body, viewer).replace(_CSRF_BYTES, csrf_token(request).encode())
    status = entry.status
    etag = 'W/"m' + hashlib.sha1(body).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate", "Vary": "Accept-Encoding"}
    if status == 200 and etag_matches(request, etag) and viewer.notice is None:
        return Response(status_code=304, headers=headers)
    if len(body) > 1024 and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzip_bytes(body, GZIP_LEVEL)
    response = Response(body, status_code=status, media_type=media_type, headers=headers)
    return clear_flash(request, response)


__all__ = ["Viewer", "vote_ids", "viewer_of", "personalize", "personal_response", "REGIONS"]
