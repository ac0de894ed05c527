"""The parts every paper card repeats, built in Python: the upvote box, the save and reading-state
buttons, the links, the organization badge; the search page's result rows and category menu.

They were Jinja macros and template loops. A search page shows 20 results, and a macro call per
part per result (each call a new context, each value escaped through the template runtime) was
most of the page's render; these functions write the same bytes (tests/web/test_paper_controls.py
renders both) at a fraction of the CPU. Every value from a paper goes through markupsafe's
`escape`, as the template's autoescape does, so the output is the same, entity for entity.

web/personal.py rewrites some of this markup on cached pages by exact text: keep
``data-vote="ID" aria-pressed="false"><span class="upvote-action visually-hidden">Upvote</span>``
and ``data-state="ID" data-value="STATE" aria-pressed="false">`` as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Mapping, Sequence
from urllib.parse import quote

from markupsafe import Markup, escape

from dailypapers.community.votes import breakdown
from dailypapers.models import Organization, StoredPaper
from dailypapers.search.engine import SearchHit
from dailypapers.web.lists import author_links
from dailypapers.web.site import fmt_date, kcount, repo_label, safe_url

# the reading-state buttons in page order: value, label, class, attributes before data-state
STATE_BUTTONS = (("to_read", "To read", "action state-button", ""),
                 ("read", "Read", "action state-button", ""),
                 ("hidden", "Not interested", "action state-button hide-button", ' data-shortcut="x"'))
CARD_AUTHORS = 6  # authors named on a card before "et al."
SEP = '<span class="sep" aria-hidden="true">·</span>'
CATEGORY_MENUS = 64  # category menus kept (one per menu offered and category chosen)


def upvote_box(p: StoredPaper, pressed: bool) -> Markup:
    """The upvote box: a button submitting the page's shared form (templates/_upvote_form.html)."""
    i = escape(p.arxiv_id)
    return Markup(
        f'<div class="upvote" title="{escape(breakdown(p.hf_upvotes, p.votes))}">\n'
        f'  <button type="submit" form="upvote-form" formaction="/papers/{i}/upvote" class="upvote-button" '
        f'data-vote="{i}" aria-pressed="{"true" if pressed else "false"}">'
        '<span class="upvote-action visually-hidden">Upvote</span>'
        '<span class="upvote-arrow" aria-hidden="true">▲</span>\n'
        f'  <span class="upvote-count">{escape(p.upvotes)}</span>'
        f'<span class="visually-hidden"> upvotes, “{escape(p.title)}”</span></button>\n</div>')


def paper_actions(p: StoredPaper, state: str | None) -> Markup:
    """Save, and the reader's state of the paper (`state` pressed), as buttons of the shared form."""
    i = escape(p.arxiv_id)
    out = [f'<div class="paper-actions" role="group" aria-label="Save or mark: {escape(p.title)}">\n'
           f'<button type="submit" form="upvote-form" formaction="/papers/{i}/save" class="action save-button" '
           f'data-save="{i}" data-shortcut="s">Save</button>\n']
    for value, label, cls, extra in STATE_BUTTONS:
        out.append(f'<button type="submit" form="upvote-form" formaction="/papers/{i}/state" name="state" '
                   f'value="{value}" class="{cls}"{extra} data-state="{i}" data-value="{value}" '
                   f'aria-pressed="{"true" if state == value else "false"}">{label}</button>\n')
    out.append("</div>")
    return Markup("".join(out))


def paper_links(p: StoredPaper, compact: bool = True) -> Markup:
    """Code (with its stars), project page, arXiv and PDF; `compact=False` names the repository."""
    out = ['<ul class="links" aria-label="Links">\n']
    repo = safe_url(p.github_repo)
    if repo:
        named = "" if compact else f": {escape(repo_label(repo))}"
        out.append(f'<li><a class="link-code" href="{escape(repo)}" rel="noopener">Code{named}</a>')
        if p.github_stars is not None:
            out.append(f' <span class="stars" title="{escape(p.github_stars)} GitHub stars">'
                       f'★ {escape(kcount(p.github_stars))}<span class="visually-hidden"> stars</span></span>')
        out.append("</li>")
    project = safe_url(p.project_page)
    if project:
        out.append(f'<li><a href="{escape(project)}" rel="noopener">Project page</a></li>')
    i = escape(p.arxiv_id)
    out.append(f'  <li><a href="https://arxiv.org/abs/{i}" rel="noopener">arXiv</a></li>\n'
               f'  <li><a href="https://arxiv.org/pdf/{i}" rel="noopener">PDF</a></li>\n</ul>\n')
    return Markup("".join(out))


def org_badge(org: Organization | None) -> Markup:
    """The organization's name (and avatar) linking to its page; nothing without one."""
    if not org:
        return Markup("")
    # Jinja's urlencode filter on a string: quote() keeping "/"
    avatar = (f'<img src="{escape(org.avatar)}" alt="" width="16" height="16" loading="lazy" '
              'referrerpolicy="no-referrer">' if safe_url(org.avatar) else "")
    return Markup(f'<a class="org" href="/orgs/{escape(quote(org.name, safe="/"))}">{avatar}'
                  f'{escape(org.fullname or org.name)}</a>')


def search_rows(hits: Sequence[SearchHit], voted: Container[str] = (),
                states: Mapping[str, str] | None = None) -> Markup:
    """The search page's result rows, an <li> each, a line apart, their headings numbered from 1.
    `voted`: the papers whose upvote is pressed; `states`: the reader's states. Cached pages pass
    neither (web/personal.py presses them, and cuts hidden papers out by the row markers)."""
    states = states or {}
    return Markup("\n".join(_search_row(h, n, h.paper.arxiv_id in voted, states.get(h.paper.arxiv_id))
                            for n, h in enumerate(hits, 1)))


def _search_row(hit: SearchHit, n: int, pressed: bool, state: str | None) -> str:
    p = hit.paper
    i = escape(p.arxiv_id)
    meta = f"{org_badge(p.organization)}{SEP}" if p.organization else ""
    if p.published:
        meta += (f'<time datetime="{escape(p.published.isoformat()[:10])}">{escape(fmt_date(p.published))}</time>'
                 f"{SEP}")
    k = len(p.authors)
    more = ", et al." if k > CARD_AUTHORS else ""
    # title_html and snippet_html are the engine's highlighting: escaped text with <mark> around the words
    return (f'    <li><!--row:{i}-->\n'
            f'    <article class="card" id="paper-{i}" aria-labelledby="r-{n}">\n'
            f"      {upvote_box(p, pressed)}\n"
            '      <div class="card-body">\n'
            f'        <h2 class="card-title" id="r-{n}"><a href="/papers/{i}">{hit.title_html}</a></h2>\n'
            '        <p class="meta">\n'
            f'{meta}          <span class="author-count">{k} author{"" if k == 1 else "s"}</span>\n'
            "        </p>\n"
            f'        <p class="authors">{author_links(p.authors[:CARD_AUTHORS])}{more}</p>\n'
            f'        <p class="snippet">{hit.snippet_html}</p>\n'
            f"        {paper_links(p)}\n"
            f"        {paper_actions(p, state)}\n"
            "      </div>\n"
            "    </article><!--/row-->\n"
            "    </li>")


def category_options(categories: Sequence[str], selected: str | None) -> Markup:
    """The options of the search form's category menu: "Any", the categories offered, and the one
    chosen when it is not among them. Made once per menu and choice (the list changes when the
    index does), not for every page."""
    return _category_options(tuple(categories), selected or "")


@functools.lru_cache(maxsize=CATEGORY_MENUS)
def _category_options(categories: tuple[str, ...], selected: str) -> Markup:
    out = ['<option value="">Any</option>']
    for c in categories:
        e = escape(c)
        out.append(f'<option value="{e}"{" selected" if c == selected else ""}>{e}</option>')
    if selected and selected not in categories:
        e = escape(selected)
        out.append(f'<option value="{e}" selected>{e}</option>')
    return Markup("".join(out))


__all__ = ["upvote_box", "paper_actions", "paper_links", "org_badge", "search_rows", "category_options",
           "STATE_BUTTONS"]
