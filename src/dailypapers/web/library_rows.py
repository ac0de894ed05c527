"""The rows of a collection page, built in Python: a collection may hold thousands of papers, and a
Jinja row (about 18 escaped outputs) costs 2-3 times what this does (bench/bench_collections.py).
Every value is escaped here (html.escape, quotes included); the markup matches the site's other lists.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from dailypapers.web.site import fmt_date


def collection_rows(view, notes: bool = True) -> Markup:
    """`view` is a community.library.CollectionView. Notes, note links and the Remove button only for
    its members (`notes=False` on the public page); Remove submits the page's #collection-form."""
    cid = view.collection.id
    member = notes and view.role is not None
    edit = member and view.can_edit
    out = ['<ol class="collection-papers">\n']
    add = out.append
    dates: dict = {}  # papers share days: each day is formatted once

    def day(value) -> str:
        d = value.date()
        text = dates.get(d)
        if text is None:
            text = dates[d] = f'<time datetime="{d.isoformat()}">{fmt_date(d)}</time>'
        return text

    for cp in view.papers:
        p = cp.paper
        pid, title = escape(p.arxiv_id), escape(p.title)
        meta = escape(", ".join(p.authors[:3])) + (", et al." if len(p.authors) > 3 else "")
        if p.published:
            meta += " · " + day(p.published)
        meta += f" · {p.upvotes} upvote{'' if p.upvotes == 1 else 's'} · added "
        if cp.added_by:
            meta += f"by {escape(cp.added_by)} "
        meta += day(cp.added_at)
        # the actions name their paper through aria-describedby: the title once per row, not three times
        add(f'<li id="paper-{pid}"><a class="cp-title" id="t-{pid}" href="/papers/{pid}">{title}</a>\n'
            f'<p class="meta">{meta}</p>\n')
        if member:
            if cp.note:
                add(f'<p class="cp-note"><span class="visually-hidden">Your note: </span>{escape(cp.note)}</p>\n')
            label = "Edit your note" if cp.note else "Add a note"
            add(f'<p class="cp-actions"><a href="/collections/{cid}/note?paper={pid}" aria-describedby="t-{pid}">'
                f'{label}</a>')
            if edit:
                add(f' <button type="submit" form="collection-form" formaction="/collections/{cid}/papers/remove" '
                    f'name="arxiv_id" value="{pid}" class="link-button" aria-describedby="t-{pid}">Remove</button>')
            add("</p>\n")
        add("</li>\n")
    add("</ol>\n")
    return Markup("".join(out))


__all__ = ["collection_rows"]
