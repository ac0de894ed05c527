"""A member's own view of shared pages: their upvotes pressed, their name and menu in the header,
the comment form, and a one-shot message (web/flash.py).

Cached pages are rendered once, as a visitor sees them, with stable markers:

* every upvote button ends its opening tag with
  ``data-vote="ID" aria-pressed="false"><span class="upvote-action visually-hidden">Upvote</span>``
  (templates/_upvote.html);
* a region ``<!--dp:NAME-->...<!--/dp:NAME-->`` (``<!--dp:NAME:ARG-->`` with an argument) wraps
  what depends on the reader: the account links, the comment form, the message slot.

A visitor without a message gets the cached bytes as they are (web.cache splices the CSRF token
into the stored gzip). For a member, or a reader with a message waiting, `personalize` flips the
buttons of the papers they upvoted in one regex pass over the cached body, renders the few regions
again from their small templates, and the result is gzipped at level 1. On a 65 KiB list of 15
papers that is ~0.3 ms of personalizing plus ~1 ms of gzip, against ~7-9 ms for rendering the
page again (bench/bench_web.py serves `/` to a signed-in member beside a visitor). Splicing
pre-deflated stretches instead of gzipping again was tried: no faster in Python, and 5-30% bigger.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.community.accounts import SESSION_COOKIE
from dailypapers.models import User
from dailypapers.web.auth import page_user
from dailypapers.web.cache import CacheEntry, etag_matches
from dailypapers.web.flash import Flash, clear_flash, take_flash
from dailypapers.web.requests import services
from dailypapers.web.security import CSRF_PLACEHOLDER, csrf_token

_VOTE = re.compile(rb'data-vote="([^"]+)" aria-pressed="false">'
                   rb'<span class="upvote-action visually-hidden">Upvote</span>')
_CSRF_BYTES = CSRF_PLACEHOLDER.encode()
_REGION = re.compile(rb"<!--dp:([a-z][a-z-]*)(?::([^>]*?))?-->.*?<!--/dp:\1-->", re.DOTALL)
# region name -> the template that renders it (context: request, me, notice, arg)
REGIONS = {"account": "_account.html", "comment-form": "community/_comment_form.html", "flash": "_flash.html"}
GZIP_LEVEL = 1  # per-member bodies are gzipped per request: fast beats small here


@dataclass
class Viewer:
    """Who reads this page: a member (or None) and their upvotes among its papers, and a message."""

    user: User | None
    voted: set[str] = field(default_factory=set)
    notice: Flash | None = None


def vote_ids(body: bytes) -> tuple[str, ...]:
    """The papers whose (unpressed) upvote buttons are on this page."""
    if b'data-vote="' not in body:
        return ()
    return tuple(dict.fromkeys(m.decode() for m in _VOTE.findall(body)))


async def viewer_of(request: Request, ids: tuple[str, ...]) -> Viewer | None:
    """The reader, when the shared page needs changing for them; None for a visitor with no message."""
    notice = take_flash(request)
    user = await page_user(request) if request.cookies.get(SESSION_COOKIE) else None
    if user is None:
        return Viewer(None, notice=notice) if notice else None
    voted = await run_in_threadpool(services(request).votes.voted, user, ids) if ids else set()
    return Viewer(user, voted, notice)


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

    def region(m: re.Match) -> bytes:
        name = m.group(1).decode()
        if viewer.user is None and name != "flash":
            return m.group(0)
        arg = (m.group(2) or b"").decode()
        html = env.get_template(REGIONS[name]).render(
            request=request, me=viewer.user, notice=viewer.notice, arg=arg, arxiv_id=arg)
        return b"<!--dp:" + m.group(1) + (b":" + m.group(2) if m.group(2) else b"") + b"-->" + html.encode() + \
            b"<!--/dp:" + m.group(1) + b"-->"

    return _REGION.sub(region, body)


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
        body = gzip.compress(body, GZIP_LEVEL, mtime=0)
    response = Response(body, status_code=status, media_type=media_type, headers=headers)
    return clear_flash(request, response)


__all__ = ["Viewer", "vote_ids", "viewer_of", "personalize", "personal_response", "REGIONS"]
