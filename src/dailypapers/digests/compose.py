"""What goes into one digest, and rendering it into an email.

A digest covers its period (``Period``): first the top ``digest_top_n`` papers of the period
(trending for a daily digest, most upvoted for a weekly one), then up to ``digest_max_matches``
papers that match the reader's topics, follows (a member's authors and organizations: "you follow
X") or upvote profile and are not already in it. A member's For you corrections hold here too:
upvotes they stopped For you using leave the upvote profile, and hidden papers never go out. Papers the
reader was sent before (``digest_sent_papers``) are never included again. A digest with no
papers is not sent.

Rendering uses the template folder ``templates/digest`` (subject.txt, body.txt, body.html) with
absolute links to the site, a visible unsubscribe link, and the RFC 8058 headers.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

from dailypapers.digests import Period
from dailypapers.digests.foryou import REASON_TOP_WEEK, REASON_TRENDING, Pick, Profile, Ranker
from dailypapers.mail import TemplateMail, check_header_value
from dailypapers.models import DigestEntry, Follow, Subscription
from dailypapers.storage import ComposerStore

TEMPLATES = Path(__file__).parent / "templates"
SUMMARY_CHARS = 300


@dataclass
class ComposedDigest:
    subscription: Subscription
    period: Period
    trending: list[Pick] = field(default_factory=list)
    for_you: list[Pick] = field(default_factory=list)
    saved: list[Pick] = field(default_factory=list)  # the member's saved searches with alert "digest"

    @property
    def empty(self) -> bool:
        return not self.trending and not self.for_you and not self.saved

    @property
    def entries(self) -> list[DigestEntry]:
        return [DigestEntry(p.paper.arxiv_id, p.reasons, "trending") for p in self.trending] + [
            DigestEntry(p.paper.arxiv_id, p.reasons, "for_you") for p in self.for_you
        ] + [DigestEntry(p.paper.arxiv_id, p.reasons, "saved") for p in self.saved]

    @property
    def papers(self) -> dict:
        return {p.paper.arxiv_id: p.paper for p in self.trending + self.for_you + self.saved}


class Composer:
    def __init__(self, store: ComposerStore, settings, ranker: Ranker | None = None, saved=None):
        self.store = store
        self.settings = settings
        self.ranker = ranker or Ranker(store)
        self.saved = saved  # SavedSearchService: saved searches mailed "with the next digest"

    def profile(self, sub: Subscription, upvoted: list[str] | None = None,
                hidden: list[str] | None = None, follows: list[Follow] | None = None,
                muted: set[str] | None = None) -> Profile:
        ups: list[str] = []
        if sub.include_upvotes and sub.user_id is not None:
            ups = upvoted if upvoted is not None else self.store.user_upvoted_ids(sub.user_id)
            if muted is None:
                muted = set(self.store.foryou_mutes(sub.user_id, "upvote"))
        # a member's "not interested" papers never go out, whatever the subscription's options
        if hidden is None:
            hidden = self.store.hidden_ids(sub.user_id) if sub.user_id is not None else []
        if follows is None:
            follows = self.store.follows(sub.user_id) if sub.user_id is not None else []
        return Profile(topics=list(sub.topics), upvoted=ups, hidden=hidden, follows=follows,
                       muted=sorted(muted or ()))

    def compose(
        self, sub: Subscription, period: Period, *, sent: set[str] | None = None, upvoted: list[str] | None = None,
        hidden: list[str] | None = None, follows: list[Follow] | None = None, muted: set[str] | None = None,
    ) -> ComposedDigest:
        if sent is None:
            sent = self.store.sent_paper_ids([sub.id]).get(sub.id, set()) if sub.id is not None else set()
        start, end = period.range_for(sub)
        by = "upvotes" if period.kind == "weekly" else "trending"
        pool = self.ranker.pool(start, end, by=by)
        profile = self.profile(sub, upvoted, hidden, follows, muted)
        label = REASON_TOP_WEEK if period.kind == "weekly" else REASON_TRENDING
        top = self.ranker.top(pool, self.settings.digest_top_n, exclude=sent, profile=profile, label=label)
        taken = set(sent) | {p.paper.arxiv_id for p in top}
        matches = self.ranker.rank(pool, profile, exclude=taken, limit=self.settings.digest_max_matches)
        digest = ComposedDigest(sub, period, top, matches)
        if self.saved is not None and sub.user_id is not None:
            taken |= {p.paper.arxiv_id for p in matches}
            digest.saved = self._saved_section(sub.user_id, start, end, taken)
        return digest

    def _saved_section(self, user_id: int, start: dt.date, end: dt.date, taken: set[str]) -> list[Pick]:
        """New matches of the member's saved searches mailed with the digest: never a paper they
        were sent before (by a digest or an alert), nor one already in this digest."""
        searches = self.saved.store.users_saved_searches([user_id], "digest").get(user_id, [])
        if not searches:
            return []
        exclude = set(taken) | self.saved.store.reader_sent_ids(user_id)
        picks = []
        for s in searches:
            for paper in self.saved.new_matches(s, start, end, exclude):
                exclude.add(paper.arxiv_id)
                picks.append(Pick(paper, None, 0.0, [f"matches your saved search “{s.name}”"]))
        return picks

    def compose_many(self, subs: Sequence[Subscription], period: Period) -> list[ComposedDigest]:
        """Compose a batch with one query each for sent papers, upvotes and their embeddings."""
        sent = self.store.sent_paper_ids([s.id for s in subs if s.id is not None])  # unsaved: nothing sent
        members = [s.user_id for s in subs if s.include_upvotes and s.user_id is not None]
        upvotes = self.store.users_upvoted_ids(members) if members else {}
        users = [s.user_id for s in subs if s.user_id is not None]
        hidden = self.store.users_hidden_ids(users) if users else {}
        follows = self.store.users_follows(users) if users else {}
        muted = self.store.users_foryou_mutes(members, "upvote") if members else {}
        wanted = {a for ids in upvotes.values() for a in ids} | {a for ids in hidden.values() for a in ids}
        if wanted:
            self.ranker.prefetch_vectors(wanted)
        by_pool: dict = {}
        for s in subs:
            if s.topics:
                by_pool.setdefault(period.range_for(s), set()).update(s.topics)
        by = "upvotes" if period.kind == "weekly" else "trending"
        for (start, end), topics in by_pool.items():
            self.ranker.prefetch_topics(self.ranker.pool(start, end, by=by), topics)
        return [
            self.compose(s, period, sent=sent.get(s.id, set()) if s.id is not None else set(),
                         upvoted=upvotes.get(s.user_id, []) if s.user_id is not None else [],
                         hidden=hidden.get(s.user_id, []) if s.user_id is not None else [],
                         follows=follows.get(s.user_id, []) if s.user_id is not None else [],
                         muted=muted.get(s.user_id, set()) if s.user_id is not None else set())
            for s in subs
        ]


def _preview(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(",;:. ") + "…"


def _authors(names: list[str]) -> str:
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} more"


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


class DigestRenderer:
    """Turns a digest (entries + papers) into an EmailMessage with the list headers."""

    def __init__(self, settings, tokens):
        self.settings = settings
        self.tokens = tokens
        self.base_url = settings.public_url
        self.mail = TemplateMail(TEMPLATES)
        name, addr = parseaddr(settings.mail_from)
        addr = addr or "papers@localhost"
        self.domain = addr.rpartition("@")[2] or "localhost"
        self._envelope_from = addr
        self._from_header = formataddr((name, addr), charset="utf-8") if name else addr
        self.unsubscribe_mailto = f"mailto:unsubscribe@{self.domain}"

    def message_id(self, sub_id: int, period: Period) -> str:
        """Stable per (subscriber, period): a resent copy is recognisably the same message."""
        return f"<digest.{period.kind}.{period.day:%Y%m%d}.{sub_id}@{self.domain}>"

    def _message_id_for(self, sub: Subscription, period: Period, given: str | None) -> str:
        if given:
            return given
        assert sub.id is not None  # digests are rendered for stored subscriptions only
        return self.message_id(sub.id, period)

    def _item(self, paper, reasons: list[str]) -> dict:
        return {
            "arxiv_id": paper.arxiv_id,
            "title": " ".join(paper.title.split()),
            "url": f"{self.base_url}/papers/{paper.arxiv_id}",
            "arxiv_url": f"https://arxiv.org/abs/{paper.arxiv_id}",
            "authors": _authors(paper.authors),
            "organization": (paper.organization.fullname or paper.organization.name) if paper.organization else None,
            "summary": _preview(paper.ai_summary or paper.abstract),
            "upvotes": paper.upvotes,
            "code_url": _safe_url(paper.github_repo),
            "reasons": reasons,
            "why": ", ".join(reasons),
        }

    def context(self, sub: Subscription, period: Period, entries: Sequence[DigestEntry], papers: dict) -> dict:
        token = self.tokens.manage(sub)
        trending = [self._item(papers[e.arxiv_id], e.reasons) for e in entries
                    if e.section == "trending" and e.arxiv_id in papers]
        for_you = [self._item(papers[e.arxiv_id], e.reasons) for e in entries
                   if e.section == "for_you" and e.arxiv_id in papers]
        saved = [self._item(papers[e.arxiv_id], e.reasons) for e in entries
                 if e.section == "saved" and e.arxiv_id in papers]
        return {
            "site_name": "Daily Papers",
            "base_url": self.base_url,
            "email": sub.email,
            "period": period,
            "period_label": period.label,
            "weekly": period.kind == "weekly",
            "trending": trending,
            "for_you": for_you,
            "saved": saved,
            "count": len(trending) + len(for_you) + len(saved),
            "topics": sub.topics,
            "schedule": sub.schedule_label,
            "manage_url": f"{self.base_url}/subscriptions/manage?token={token}",
            "unsubscribe_url": f"{self.base_url}/subscriptions/manage?token={token}&action=unsubscribe",
            "one_click_url": f"{self.base_url}/unsubscribe/one-click?token={token}",
            "list_url": f"{self.base_url}/papers/date/{period.day.isoformat()}",
        }

    def _list_headers(self, ctx: dict, period: Period) -> dict[str, str]:
        return {
            "List-Unsubscribe": f"<{ctx['one_click_url']}>, <{self.unsubscribe_mailto}?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Daily Papers digest <digest.{self.domain}>",
            "Precedence": "bulk",
            "X-Digest-Period": period.key,
        }

    def render(self, sub: Subscription, period: Period, entries: Sequence[DigestEntry], papers: dict,
               *, message_id: str | None = None) -> EmailMessage:
        """The digest as an EmailMessage (preview, tests)."""
        ctx = self.context(sub, period, entries, papers)
        headers = self._list_headers(ctx, period)
        msg = self.mail.render("digest", ctx, to=sub.email, sender=self.settings.mail_from, headers=headers)
        del msg["Message-ID"]
        msg["Message-ID"] = self._message_id_for(sub, period, message_id)
        # Long header values (List-Unsubscribe's signed URL) must stay plain URLs: no RFC 2047
        # encoded words, which the default 78-column folding would produce.
        msg.policy = msg.policy.clone(max_line_length=998)
        return msg

    def render_bytes(self, sub: Subscription, period: Period, entries: Sequence[DigestEntry], papers: dict,
                     *, message_id: str | None = None) -> tuple[str, list[str], bytes]:
        """The same message as render(), as (envelope sender, recipients, MIME bytes), built
        directly: the email package's header registry and generator cost ~5 ms a message,
        which at 10,000 digests is most of the run. Parts are UTF-8, base64."""
        ctx = self.context(sub, period, entries, papers)
        subject = " ".join(self.mail.text_env.get_template("digest/subject.txt").render(ctx).split())
        text = self.mail.text_env.get_template("digest/body.txt").render(ctx)
        html = self.mail.html_env.get_template("digest/body.html").render(ctx)
        headers = {
            "From": self._from_header,
            "To": sub.email,
            "Subject": subject,
            "Date": formatdate(localtime=False),
            "Message-ID": self._message_id_for(sub, period, message_id),
            **self._list_headers(ctx, period),
            "MIME-Version": "1.0",
        }
        boundary = "=_dp_" + secrets.token_hex(12)
        lines = []
        for name, value in headers.items():
            check_header_value(value, name)
            if not value.isascii():
                value = Header(value, "utf-8").encode()
            lines.append(f"{name}: {value}")
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        head = "\r\n".join(lines).encode("ascii")
        out = [head, b"\r\n\r\n"]
        for subtype, body in (("plain", text), ("html", html)):
            out.append(f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n".encode())
            out.append(base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n"))
        out.append(f"--{boundary}--\r\n".encode())
        return self._envelope_from, [sub.email], b"".join(out)

    def render_composed(self, digest: ComposedDigest, *, message_id: str | None = None) -> EmailMessage:
        return self.render(digest.subscription, digest.period, digest.entries, digest.papers,
                           message_id=message_id)


def period_for(kind: str, day: dt.date) -> Period:
    return Period(kind, day)


__all__ = ["Composer", "ComposedDigest", "DigestRenderer", "period_for"]
