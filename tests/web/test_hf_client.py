"""Hugging Face's own client, huggingface_hub.HfApi(endpoint=...), against a real server."""

from __future__ import annotations

import datetime as dt

import pytest
from webapp import ServerThread, make_app

hf = pytest.importorskip("huggingface_hub")


@pytest.fixture(scope="module")
def api(web_data_dir):
    app, services = make_app(web_data_dir)
    with ServerThread(app) as server:
        # the real app builds absolute links from base_url; point it at this server
        app.state.site.base_url = server.url
        yield hf.HfApi(endpoint=server.url, token=False)
    services.store.close()


def test_list_daily_papers(api):
    papers = list(api.list_daily_papers(date="2026-08-21"))
    assert len(papers) == 17
    first = papers[0]
    assert first.id == "2608.19880"
    assert first.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert first.upvotes == 163
    assert [a.name for a in first.authors][:2] == ["Chengsong Huang", "Zifeng Wang"]
    assert first.published_at == dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc)
    assert first.submitted_at is not None
    # As with huggingface.co itself, the client reads repo, stars, project page and AI fields of a daily
    # item only from the top level, where HF (and we) do not put them; paper_info() has them.
    assert first.organization.name == "google" and first.organization.fullname == "Google"
    assert first.summary.startswith("LLM agents learn")
    assert first.submitted_by is not None


def test_list_daily_papers_with_week_month_sort_and_paging(api):
    week = list(api.list_daily_papers(week="2026-W34", limit=100))
    assert len(week) == 100
    page1 = list(api.list_daily_papers(week="2026-W34", limit=100, p=1))
    assert len(page1) == 10
    month = list(api.list_daily_papers(month="2025-01"))
    assert len(month) == 9
    trending = list(api.list_daily_papers(date="2026-08-20", sort="trending"))
    assert {p.id for p in trending} == {p.id for p in api.list_daily_papers(date="2026-08-20")}


def test_bad_date_raises_a_client_error(api):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as e:
        list(api.list_daily_papers(date="2026-02-30"))
    assert e.value.response.status_code == 400


def test_paper_info(api):
    info = api.paper_info("2608.19880")
    assert info.id == "2608.19880"
    assert info.title.startswith("EnvHarness")
    assert len(info.authors) == 17
    assert info.upvotes == 163
    assert info.github_stars == 8
    assert info.github_repo == "https://github.com/google-research/envharness"
    assert info.project_page == "https://envharness.com/"
    assert info.organization.name == "google"
    assert "EnvRigger" in info.ai_summary and "co-evolution" in info.ai_keywords
    assert info.published_at == dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc)


def test_paper_info_404(api):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as e:
        api.paper_info("2101.99999")
    assert e.value.response.status_code == 404


def test_read_paper_returns_the_page_as_markdown(api):
    from huggingface_hub.errors import HfHubHTTPError

    md = api.read_paper("2608.19880")
    assert md.startswith("# EnvHarness")
    assert "## Abstract" in md and "Authors: " in md
    assert "Upvotes: 163" in md
    assert "- Code: https://github.com/google-research/envharness (8 stars)" in md
    assert "- arXiv: https://arxiv.org/abs/2608.19880" in md
    with pytest.raises(HfHubHTTPError) as e:
        api.read_paper("2101.99999")
    assert e.value.response.status_code == 404


def test_list_papers_search(api):
    results = list(api.list_papers(query="agent environments", limit=5))
    assert 0 < len(results) <= 5
    assert all(r.id and r.title for r in results)
    assert list(api.list_papers(query="2608.19880"))[0].id == "2608.19880"
