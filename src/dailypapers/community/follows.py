"""Follows: a member follows an author (by name) or an organization, and their new papers come to
For you ("you follow X") and to their digests (digests/foryou.py ranks them).

An author is followed by name, and one person's name is spelled many ways on papers. The rule
that merges the variants is pure (``author_parts``, ``author_key``, ``same_author``):

1. **Fold.** Unicode NFKD with the accents dropped ("José" is "Jose"), the letters NFKD leaves
   alone spelled out (ø o, ł l, đ d, æ ae, œ oe, ß ss, ı i), case folded.
2. **Order.** "Surname, Given names" is turned around to "Given names Surname".
3. **Words** are runs of letters: spaces, dots, hyphens and apostrophes only separate them
   ("J.-P. Dupont" is j p dupont). A trailing Jr, Sr, II, III or IV is dropped.
4. **Surname** is the last word; the **given names** are the words before it.
5. Two names are **the same author** when their surnames are equal and their given names agree
   as far as both go: word by word, equal, or one of the two an initial of the other. So
   "G. E. Hinton", "Geoffrey Hinton", "geoffrey  e. HINTON" and "Hinton, Geoffrey" are one
   author; "Yi Wang" and "Yu Wang" are two, and "Y. Wang" is both. A name of one word matches
   only that word alone.

``author_key`` (surname and first initial) is equal for any two names the rule merges, so a
paper's authors are looked up by key and only the few hits compared in full. What the rule cannot
tell apart: two people with the same surname and first initial when one of the spellings is just
the initial, and a surname written first without a comma ("Wang Yi" is not "Yi Wang").

An organization is followed by its name, as in its page's address (``/orgs/{name}``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence

from dailypapers.clock import Clock, utcnow
from dailypapers.community.accounts import require_member
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import FOLLOW_KINDS, Follow, User
from dailypapers.storage import FollowServiceStore

NAME_CHARS = 200
MAX_FOLLOWS = 500  # per member
ORG_NAME = re.compile(r"^[\w.\-]{1,96}$")  # what /orgs/{name} accepts
_SPELLED = str.maketrans({"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae", "Æ": "ae",
                          "œ": "oe", "Œ": "oe", "ß": "ss", "ı": "i", "þ": "th", "Þ": "th"})
_WORD = re.compile(r"[^\W\d_]+")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def fold(text: str) -> str:
    """Lower case without accents: the form names are compared in."""
    text = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def clean_name(name: str) -> str:
    """A name as typed, with its whitespace collapsed: what a follow keeps and shows."""
    return " ".join((name or "").split())


def author_parts(name: str) -> tuple[str, tuple[str, ...]]:
    """(surname, given names) of an author's name, folded; ("", ()) when it has no letters."""
    name = clean_name(name)
    if name.count(",") == 1:
        surname, given = name.split(",")
        if _WORD.search(given) and fold(given).strip(" .") not in _SUFFIXES:
            name = f"{given} {surname}"
    words = _WORD.findall(fold(name))
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    if not words:
        return "", ()
    return words[-1], tuple(words[:-1])


def author_key(name: str) -> str:
    """Surname and first initial ("hinton g"); the surname alone for a name of one word."""
    surname, given = author_parts(name)
    return f"{surname} {given[0][0]}" if given else surname


def _given_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    if bool(a) != bool(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        if (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y)):
            continue
        return False
    return True


def same_parts(a: tuple[str, tuple[str, ...]], b: tuple[str, tuple[str, ...]]) -> bool:
    return bool(a[0]) and a[0] == b[0] and _given_agree(a[1], b[1])


def same_author(a: str, b: str) -> bool:
    """Whether two spellings name the same author, by the rule above."""
    return same_parts(author_parts(a), author_parts(b))


def follow_key(kind: str, name: str) -> str:
    return author_key(name) if kind == "author" else name


def matching(follows: Iterable[Follow], kind: str, name: str) -> list[Follow]:
    """The follows of this kind that name this author (any spelling) or this organization."""
    if kind == "author":
        parts = author_parts(name)
        return [f for f in follows if f.kind == "author" and same_parts(author_parts(f.name), parts)]
    return [f for f in follows if f.kind == kind and f.name == name]


def is_followed(follows: Iterable[Follow], kind: str, name: str) -> bool:
    return bool(matching(follows, kind, name))


def check_kind(kind: str | None) -> str:
    if kind not in FOLLOW_KINDS:
        raise Invalid("kind must be author or org", field="kind")
    return kind


class FollowService:
    """A member's follows: add (merging spellings), remove, list."""

    def __init__(self, store: FollowServiceStore, *, clock: Clock = utcnow):
        self.store = store
        self.clock = clock

    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    def mine(self, user: User | None) -> list[Follow]:
        user = require_member(user, what="follow authors")
        return self.store.follows(user.id)

    def of(self, user: User | None) -> list[Follow]:
        """A reader's follows, none for a visitor (the follow buttons of shared pages)."""
        return self.store.follows(user.id) if user is not None else []

    def follow(self, user: User | None, kind: str | None, name: str | None) -> tuple[Follow, bool]:
        """(the follow, whether it is new). An author already followed under another spelling
        keeps that follow; an organization must have papers here."""
        user = require_member(user, what="follow authors")
        kind = check_kind(kind)
        name = clean_name(name or "")
        if not name:
            raise Invalid("Name the author or organization to follow.", field="name")
        if len(name) > NAME_CHARS:
            raise Invalid(f"A name has at most {NAME_CHARS} characters.", field="name")
        mine = self.store.follows(user.id)
        if kind == "author":
            if not author_parts(name)[0]:
                raise Invalid("An author's name needs letters.", field="name")
        else:
            if not ORG_NAME.match(name):
                raise Invalid("An organization is named as in its /orgs/ address.", field="name")
            if self.store.papers_by_org(name, 1, 0)[1] == 0:
                raise NotFound(f"no papers from an organization called {name!r}")
        already = matching(mine, kind, name)
        if already:
            return already[0], False
        if len(mine) >= MAX_FOLLOWS:
            raise Invalid(f"You follow {MAX_FOLLOWS} authors and organizations already: unfollow some first.")
        return self.store.add_follow(user.id, kind, name, follow_key(kind, name), self.now()), True

    def unfollow(self, user: User | None, kind: str | None, name: str | None) -> int:
        """Stop following this author (every spelling of them followed) or organization."""
        user = require_member(user, what="follow authors")
        kind = check_kind(kind)
        gone = matching(self.store.follows(user.id), kind, clean_name(name or ""))
        return self.store.remove_follows(user.id, [f.id for f in gone]) if gone else 0

    def unfollow_id(self, user: User | None, follow_id: int) -> None:
        user = require_member(user, what="follow authors")
        if not self.store.remove_follows(user.id, [follow_id]):
            raise NotFound("you do not follow that")


__all__ = [
    "FollowService", "author_parts", "author_key", "same_author", "same_parts", "fold", "clean_name", "follow_key",
    "matching", "is_followed", "check_kind", "MAX_FOLLOWS", "NAME_CHARS", "ORG_NAME",
]
