"""The upvote box and the save and state buttons are macros (templates/_paper_controls.html) that the
search page calls for each result; the other pages include _upvote.html and _paper_actions.html,
which must render the very same markup, with the markers web/personal.py rewrites."""

from __future__ import annotations

import pytest

from dailypapers.models import StoredPaper

pytestmark = pytest.mark.sqlite_only  # templates only: no store is read

PAPER = StoredPaper("2608.19880", 'Attention & "quotes" <b>tags</b>', "abstract", ["Ada"], hf_upvotes=3, votes=2)


def test_the_upvote_include_renders_the_macro(app):
    env = app.state.site.env
    box = env.get_template("_paper_controls.html").module.upvote_box
    include = env.from_string('{% include "_upvote.html" %}')
    assert include.render(p=PAPER) == str(box(PAPER, False))
    for voted, pressed in ((set(), False), ({"2608.19880"}, True), ({"2401.00001"}, False)):
        html = include.render(p=PAPER, voted_ids=voted)
        assert html == str(box(PAPER, pressed))
        assert (f'data-vote="2608.19880" aria-pressed="{"true" if pressed else "false"}">'
                '<span class="upvote-action visually-hidden">Upvote</span>') in html
    assert "Attention &amp; &#34;quotes&#34; &lt;b&gt;tags&lt;/b&gt;" in html
    assert 'title="5 = 3 from HF + 2 here"' in html


def test_the_actions_include_renders_the_macro(app):
    env = app.state.site.env
    actions = env.get_template("_paper_controls.html").module.paper_actions
    include = env.from_string('{% include "_paper_actions.html" %}')
    assert include.render(p=PAPER) == str(actions(PAPER, None))
    for state in ("to_read", "read", "hidden", None):
        html = include.render(p=PAPER, reading_states={"2608.19880": state} if state else {})
        assert html == str(actions(PAPER, state))
        for value in ("to_read", "read", "hidden"):
            pressed = "true" if value == state else "false"
            assert f'data-state="2608.19880" data-value="{value}" aria-pressed="{pressed}">' in html
