"""Comments on papers: plain text, links made clickable, never raw HTML.

``render_comment`` escapes the text first and only then turns http(s) URLs into links with
rel="nofollow ugc noopener", so nothing a member types can become markup. Members edit and
delete their own comments; curators hide anyone's. ``papers.num_comments`` counts visible
comments and changes in the same transaction as the comment (the API's ``numComments``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from markupsafe import Markup, escape

from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_curator, require_member
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.models import Comment, User
from dailypapers.storage import CommentingStore

MAX_COMMENT = 5000
# On escaped text: a URL runs until whitespace or an escaped quote / angle bracket.
_URL = re.compile(r"https?://(?:(?!&#39;|&#34;|&quot;|&lt;|&gt;)[^\s<>\"'])+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides and isolates


def clean_body(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and not ("\x7f" <= ch <= "\x9f")))
    text = "".join(ch for ch in text if not ("\ud800" <= ch <= "\udfff"))
    text = _BIDI.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise Invalid("The comment is empty.")
    if len(text) > MAX_COMMENT:
        raise Invalid(f"The comment is too long: at most {MAX_COMMENT} characters.")
    return text


def linkify_escaped(escaped: str) -> str:
    """Turn http(s) URLs in already-escaped text into links (URLs cannot contain < > or quotes there)."""

    def link(m: re.Match) -> str:
        url = m.group(0)
        trail = ""
        while url and url[-1] in _TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            trail = url[-1] + trail
            url = url[:-1]
        # '&amp;' stays as is: it is the correct encoding of '&' inside an attribute.
        return f'<a href="{url}" rel="nofollow ugc noopener">{url}</a>{trail}'

    return _URL.sub(link, escaped)


def render_comment(text: str) -> Markup:
    """Escape, then linkify, then keep paragraphs and line breaks. Bidirectional overrides are dropped
    first (comments stored before input lost them too): in a link they make it read as another URL."""
    html = linkify_escaped(str(escape(_BIDI.sub("", text))))
    paragraphs = [p.replace("\n", "<br>\n") for p in html.split("\n\n")]
    return Markup("".join(f"<p>{p}</p>" for p in paragraphs))


class CommentService:
    def __init__(self, store: CommentingStore, *, clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.clock = clock or utcnow

    def list(self, arxiv_id: str, *, viewer: User | None = None) -> list[Comment]:
        return self.store.paper_comments(arxiv_id, include_hidden=bool(viewer and viewer.is_curator))

    def add(self, user: User | None, arxiv_id: str, body: str) -> Comment:
        user = require_member(user, what="comment")
        body = clean_body(body)
        if self.store.get_paper(arxiv_id) is None:
            raise NotFound(f"no paper {arxiv_id} here")
        return self.store.add_comment(arxiv_id, user.id, body, self.clock())

    def get(self, comment_id: int) -> Comment:
        comment = self.store.get_comment(comment_id)
        if comment is None or comment.deleted_at is not None:
            raise NotFound("no such comment")
        return comment

    def _own(self, user: User | None, comment_id: int) -> Comment:
        user = require_member(user, verified=False, what="change comments")
        comment = self.get(comment_id)
        if comment.user_id != user.id:
            raise Forbidden("You can only change your own comments.")
        return comment

    def edit(self, user: User | None, comment_id: int, body: str) -> Comment:
        comment = self._own(user, comment_id)
        if comment.hidden_at is not None:
            raise Forbidden("A curator hid this comment; it cannot be edited.")
        self.store.edit_comment(comment.id, clean_body(body), self.clock())
        return self._reload(comment.id)

    def delete(self, user: User | None, comment_id: int) -> Comment:
        comment = self._own(user, comment_id)
        self.store.delete_comment(comment.id, self.clock())
        return comment

    def hide(self, curator: User | None, comment_id: int, hidden: bool = True) -> Comment:
        curator = require_curator(curator)
        comment = self.get(comment_id)
        self.store.set_comment_hidden(comment.id, hidden, actor_id=curator.id, at=self.clock())
        return self._reload(comment.id)

    def _reload(self, comment_id: int) -> Comment:
        """The comment as stored now, after changing it."""
        comment = self.store.get_comment(comment_id)
        assert comment is not None  # deleting a comment only marks it: the row stays
        return comment


__all__ = ["CommentService", "render_comment", "linkify_escaped", "clean_body", "MAX_COMMENT"]
