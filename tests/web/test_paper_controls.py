"""The parts of a paper card built in Python (web/cards.py: the upvote box, the save and state
buttons, the links, the organization badge, the search page's result rows and category menu) write
exactly what the Jinja macros and the search page's result loop wrote before them, kept below as
the reference, for papers with every kind of awkward value. The includes the other pages use
render the same, and on the shared cached search page a member's own upvotes and reading states
are pressed for them alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_member_pages import PASSWORD, logged_in
from webapp import Client, make_app

from dailypapers.models import Organization, StoredPaper
from dailypapers.search.engine import SearchHit
from dailypapers.web import cards

# The templates as they were (templates/_paper_controls.html, _macros.html and search.html's result
# loop), renamed ref_* so that they do not resolve to the Python functions of the same names.
REFERENCE = r"""
{% macro ref_upvote_box(p, pressed) %}
<div class="upvote" title="{{ upvote_breakdown(p.hf_upvotes, p.votes) }}">
  <button type="submit" form="upvote-form" formaction="/papers/{{ p.arxiv_id }}/upvote" class="upvote-button" data-vote="{{ p.arxiv_id }}" aria-pressed="{{ 'true' if pressed else 'false' }}"><span class="upvote-action visually-hidden">Upvote</span><span class="upvote-arrow" aria-hidden="true">▲</span>
  <span class="upvote-count">{{ p.upvotes }}</span><span class="visually-hidden"> upvotes, “{{ p.title }}”</span></button>
</div>
{%- endmacro %}

{% macro ref_paper_actions(p, st) %}
<div class="paper-actions" role="group" aria-label="Save or mark: {{ p.title }}">
<button type="submit" form="upvote-form" formaction="/papers/{{ p.arxiv_id }}/save" class="action save-button" data-save="{{ p.arxiv_id }}" data-shortcut="s">Save</button>
<button type="submit" form="upvote-form" formaction="/papers/{{ p.arxiv_id }}/state" name="state" value="to_read" class="action state-button" data-state="{{ p.arxiv_id }}" data-value="to_read" aria-pressed="{{ 'true' if st == 'to_read' else 'false' }}">To read</button>
<button type="submit" form="upvote-form" formaction="/papers/{{ p.arxiv_id }}/state" name="state" value="read" class="action state-button" data-state="{{ p.arxiv_id }}" data-value="read" aria-pressed="{{ 'true' if st == 'read' else 'false' }}">Read</button>
<button type="submit" form="upvote-form" formaction="/papers/{{ p.arxiv_id }}/state" name="state" value="hidden" class="action state-button hide-button" data-shortcut="x" data-state="{{ p.arxiv_id }}" data-value="hidden" aria-pressed="{{ 'true' if st == 'hidden' else 'false' }}">Not interested</button>
</div>
{%- endmacro %}

{% macro ref_paper_links(p, compact=True) %}
<ul class="links" aria-label="Links">
  {% set repo = p.github_repo|safe_url %}
  {% if repo %}<li><a class="link-code" href="{{ repo }}" rel="noopener">Code{% if not compact %}: {{ repo|repo_label }}{% endif %}</a>{% if p.github_stars is not none %} <span class="stars" title="{{ p.github_stars }} GitHub stars">★ {{ p.github_stars|kcount }}<span class="visually-hidden"> stars</span></span>{% endif %}</li>{% endif %}
  {% set project = p.project_page|safe_url %}
  {% if project %}<li><a href="{{ project }}" rel="noopener">Project page</a></li>{% endif %}
  <li><a href="https://arxiv.org/abs/{{ p.arxiv_id }}" rel="noopener">arXiv</a></li>
  <li><a href="https://arxiv.org/pdf/{{ p.arxiv_id }}" rel="noopener">PDF</a></li>
</ul>
{% endmacro %}

{% macro ref_org_badge(org) %}
{% if org %}<a class="org" href="/orgs/{{ org.name|urlencode }}">{% if org.avatar|safe_url %}<img src="{{ org.avatar }}" alt="" width="16" height="16" loading="lazy" referrerpolicy="no-referrer">{% endif %}{{ org.fullname or org.name }}</a>{% endif %}
{% endmacro %}

{% macro ref_rows(hits, voted_ids, reading_states) %}
    {% for h in hits %}
    {% set p = h.paper %}
    <li><!--row:{{ p.arxiv_id }}-->
    <article class="card" id="paper-{{ p.arxiv_id }}" aria-labelledby="r-{{ loop.index }}">
      {{ ref_upvote_box(p, p.arxiv_id in voted_ids) }}
      <div class="card-body">
        <h2 class="card-title" id="r-{{ loop.index }}"><a href="{{ paper_url(p.arxiv_id) }}">{{ h.title_html|safe }}</a></h2>
        <p class="meta">
          {% if p.organization %}{{ ref_org_badge(p.organization) }}<span class="sep" aria-hidden="true">·</span>{% endif %}
          {% if p.published %}<time datetime="{{ p.published.isoformat()[:10] }}">{{ p.published|fmt_date }}</time><span class="sep" aria-hidden="true">·</span>{% endif %}
          <span class="author-count">{{ p.authors|length }} author{{ '' if p.authors|length == 1 else 's' }}</span>
        </p>
        <p class="authors">{{ author_links(p.authors[:6]) }}{% if p.authors|length > 6 %}, et al.{% endif %}</p>
        <p class="snippet">{{ h.snippet_html|safe }}</p>
        {{ ref_paper_links(p) }}
        {{ ref_paper_actions(p, reading_states.get(p.arxiv_id)) }}
      </div>
    </article><!--/row-->
    </li>
    {% endfor %}
{% endmacro %}

{% macro ref_category_options(categories, selected) %}
<option value="">Any</option>{% for c in categories %}<option value="{{ c }}"{% if selected == c %} selected{% endif %}>{{ c }}</option>{% endfor %}{% if selected and selected not in categories %}<option value="{{ selected }}" selected>{{ selected }}</option>{% endif %}
{%- endmacro %}
"""

WHEN = dt.datetime(2026, 8, 3, 12, 0, tzinfo=dt.timezone.utc)
AWKWARD = "Attention & \"quotes\" 'apostrophes' <b>tags</b> — ünïcode"
PAPERS = [
    StoredPaper("2608.19880", AWKWARD, "Attention is <all> you & \"need\".", [f"A{i} O'Név <x>" for i in range(7)],
                hf_upvotes=3, votes=2, github_repo="https://github.com/a&b/c\"d.git", github_stars=1234,
                project_page="https://example.org/?a=1&b='2'", published=WHEN,
                organization=Organization("O'Brien & Co/Lab ü", None, "https://example.org/a.png?x=1&y=2")),
    StoredPaper("hep-th/9901001", "Plain title", "quotes here", ["Solo"], hf_upvotes=0, votes=1,
                project_page="javascript:alert(1)", github_repo="javascript:alert(2)",
                organization=Organization("org", "Full <Name>", "javascript:alert(3)")),
    StoredPaper("2401.00001", "No stars", "x", [], github_repo="http://gitlab.com/a/b.git", github_stars=0),
    StoredPaper("2401.00002", "Stars unknown", "x", ["A", "B", "C", "D", "E", "F"], hf_upvotes=1000,
                github_repo="https://www.github.com/x/y", github_stars=None, published=WHEN.date()),
    StoredPaper("2401.00003", "Thousands", "x", ["A", "B"], github_repo="https://github.com/x/y", github_stars=1000),
]
STATES = (None, "to_read", "read", "hidden", "other")


@pytest.fixture(scope="module")
def ref(app):
    return app.state.site.env.from_string(REFERENCE).module


@pytest.mark.sqlite_only  # templates only: no store is read
@pytest.mark.parametrize("p", PAPERS, ids=[p.arxiv_id for p in PAPERS])
def test_the_card_parts_write_what_the_macros_wrote(ref, p):
    for pressed in (False, True):
        assert str(cards.upvote_box(p, pressed)) == str(ref.ref_upvote_box(p, pressed))
    for st in STATES:
        assert str(cards.paper_actions(p, st)) == str(ref.ref_paper_actions(p, st))
    for compact in (True, False):
        assert str(cards.paper_links(p, compact)) == str(ref.ref_paper_links(p, compact))
    assert str(cards.org_badge(p.organization)) == str(ref.ref_org_badge(p.organization))


@pytest.mark.sqlite_only
def test_the_search_rows_are_the_loop_they_replace(ref):
    hits = [SearchHit(p, 1.0, words=("attention", "quotes", "stars")) for p in PAPERS]
    for voted, states in (((), {}), ({"2608.19880", "2401.00002"}, {"hep-th/9901001": "read", "2401.00001": "hidden"})):
        built = str(cards.search_rows(hits, voted, states)) + "\n"  # the template ends its line
        assert built == str(ref.ref_rows(hits, voted, states))
        assert built.count("<!--row:") == built.count("<!--/row-->") == len(hits)
    assert "&lt;b&gt;tags&lt;/b&gt;" in built and "<b>" not in built
    assert 'href="javascript:' not in built and 'src="javascript:' not in built
    assert str(cards.search_rows([])) == ""


@pytest.mark.sqlite_only
def test_the_category_menu_is_the_loop_it_replaces(ref):
    menus = [[], ["cs.AI", "cs.CL"], ["cs.AI", 'x"<y>&z']]
    for categories in menus:
        for selected in (None, "", "cs.AI", 'x"<y>&z', "math.CO", '"><script>'):
            assert str(cards.category_options(categories, selected)) == str(ref.ref_category_options(categories, selected))


@pytest.mark.sqlite_only
def test_the_includes_render_the_functions(app):
    env = app.state.site.env
    p = PAPERS[0]
    upvote = env.get_template("_upvote.html")
    assert upvote.render(p=p) == str(cards.upvote_box(p, False))
    for voted, pressed in ((set(), False), ({"2608.19880"}, True), ({"2401.00001"}, False)):
        html = upvote.render(p=p, voted_ids=voted)
        assert html == str(cards.upvote_box(p, pressed))
        assert (f'data-vote="2608.19880" aria-pressed="{"true" if pressed else "false"}">'
                '<span class="upvote-action visually-hidden">Upvote</span>') in html
    assert 'title="5 = 3 from HF + 2 here"' in html
    actions = env.get_template("_paper_actions.html")
    assert actions.render(p=p) == str(cards.paper_actions(p, None))
    for state in ("to_read", "read", "hidden", None):
        html = actions.render(p=p, reading_states={"2608.19880": state} if state else {})
        assert html == str(cards.paper_actions(p, state))
        for value in ("to_read", "read", "hidden"):
            pressed = "true" if value == state else "false"
            assert f'data-state="2608.19880" data-value="{value}" aria-pressed="{pressed}">' in html


PRESSED_VOTE = re.compile(r'data-vote="([^"]+)" aria-pressed="true"><span class="upvote-action visually-hidden">')
PRESSED_STATE = re.compile(r'data-state="([^"]+)" data-value="([a-z_]+)" aria-pressed="true">')
ROW = re.compile(r"<li><!--row:([^>]+)-->")


def test_a_members_marks_are_pressed_on_the_shared_search_page_for_them_alone(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    for name in ("ada", "bob"):
        services.accounts.create_user(f"{name}@example.org", name, PASSWORD, role="member", verified=True)
    ada, bob, visitor = logged_in(app, "ada"), logged_in(app, "bob"), Client(app)
    try:
        page = "/papers/search?q=language+models"
        shared = visitor.get(page).text
        rows = ROW.findall(shared)
        assert len(rows) >= 3 and not PRESSED_VOTE.findall(shared) and not PRESSED_STATE.findall(shared)
        voted, read, hidden = rows[:3]
        token = ada.csrf(ada.get(page))
        assert ada.post(f"/papers/{voted}/upvote", data={"csrf_token": token, "next": page}).status_code == 303
        for arxiv_id, value in ((read, "read"), (hidden, "hidden")):
            r = ada.post(f"/papers/{arxiv_id}/state", data={"csrf_token": token, "state": value, "next": page})
            assert r.status_code == 303
        for _ in range(2):  # rendered once, then from the page cache
            mine = ada.get(page).text
            assert PRESSED_VOTE.findall(mine) == [voted]
            assert PRESSED_STATE.findall(mine) == [(read, "read")]
            assert ROW.findall(mine) == [i for i in ROW.findall(visitor.get(page).text) if i != hidden]
            assert f'id="paper-{hidden}"' not in mine and "<li>\n</li>" not in mine
            for other in (bob.get(page).text, visitor.get(page).text):
                assert not PRESSED_VOTE.findall(other) and not PRESSED_STATE.findall(other)
                assert f'id="paper-{hidden}"' in other
    finally:
        for c in (ada, bob, visitor):
            c.close()
        services.store.close()
