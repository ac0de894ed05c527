"""The paper page (with its citation_* meta tags and BibTeX entry) and its Markdown twin (/papers/{id}.md).

The citation downloads (/papers/{id}.bib, .ris, .csl.json) are in web/exports.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import citations
from dailypapers.web.cache import PAGE_TTL, CacheEntry, entry_response, make_entry
from dailypapers.web.site import export_links, paper_url, preview, site_of


async def paper_page(request: Request) -> Response:
    site = site_of(request)
    raw = request.path_params["arxiv_id"]
    if raw.endswith(".md"):
        return await paper_markdown_page(request, raw[:-3])
    arxiv_id = site.papers.canonical_id(raw)
    if raw != arxiv_id:
        return RedirectResponse(paper_url(arxiv_id), status_code=301)

    def build():
        detail = site.papers.paper(arxiv_id)
        p = detail.paper
        return "paper.html", {
            "title": p.title,
            "detail": detail,
            "paper": p,
            "bibtex": citations.bibtex([p]).rstrip("\n"),
            "citation_meta": citations.highwire(p, site.absolute(paper_url(p.arxiv_id))),
            "exports": export_links(paper_url(p.arxiv_id)),
            "description": preview(p.ai_summary or p.abstract, 200),
            "og": True,
        }

    return await site.cached(request, ("paper", arxiv_id), build, cache_control="public, max-age=300")


async def arxiv_path(request: Request) -> Response:
    """/abs/{id} and /pdf/{id}.pdf: an arXiv link with its host changed to this site's (the way
    people open a paper on alphaXiv) goes to the paper's page; not an id, a 404."""
    arxiv_id = site_of(request).papers.canonical_id("arxiv.org" + request.url.path)
    return RedirectResponse(paper_url(arxiv_id), status_code=301)


def paper_markdown(detail, base_url: str) -> str:
    """The paper page as Markdown (what Hugging Face serves at /papers/{id}.md, read by
    huggingface_hub's HfApi.read_paper). Plain text: served as text/markdown, never as HTML."""
    p = detail.paper
    lines = [f"# {' '.join(p.title.split())}", ""]
    facts = [f"arXiv: {p.arxiv_id}" + (f"v{p.version}" if p.version else "")]
    if p.published:
        facts.append(f"Published: {p.published.date().isoformat()}")
    if detail.first_listed:
        facts.append(f"Listed: {detail.first_listed.isoformat()}")
    facts.append(f"Upvotes: {p.upvotes}")
    lines += [" · ".join(facts), ""]
    if p.authors:
        lines += ["Authors: " + ", ".join(p.authors), ""]
    if p.organization:
        lines += [f"Organization: {p.organization.fullname or p.organization.name}", ""]
    lines += ["## Abstract", "", p.abstract.strip(), ""]
    if p.ai_summary:
        lines += ["## AI summary", "", p.ai_summary.strip(), ""]
    if p.ai_keywords:
        lines += ["AI keywords: " + ", ".join(p.ai_keywords), ""]
    links = [f"- Paper page: {base_url}{paper_url(p.arxiv_id)}", f"- arXiv: https://arxiv.org/abs/{p.arxiv_id}",
             f"- PDF: https://arxiv.org/pdf/{p.arxiv_id}"]
    if p.github_repo:
        stars = f" ({p.github_stars} stars)" if p.github_stars is not None else ""
        links.append(f"- Code: {p.github_repo}{stars}")
    if p.project_page:
        links.append(f"- Project page: {p.project_page}")
    lines += ["## Links", "", *links, ""]
    if detail.similar:
        lines += ["## Similar papers", ""]
        lines += [f"- [{' '.join(h.paper.title.split())}]({base_url}{paper_url(h.paper.arxiv_id)})"
                  for h in detail.similar]
        lines.append("")
    return "\n".join(lines)


async def paper_markdown_page(request: Request, raw: str) -> Response:
    site = site_of(request)
    arxiv_id = site.papers.canonical_id(raw)
    if raw != arxiv_id:
        return RedirectResponse(paper_url(arxiv_id) + ".md", status_code=301)

    def work() -> CacheEntry:
        text = paper_markdown(site.papers.paper(arxiv_id), site.base_url)
        return make_entry(text.encode(), ttl=PAGE_TTL)

    entry = await site.entry((("paper-md", arxiv_id), None, site.papers.version()), work)
    return entry_response(request, entry, "text/markdown; charset=utf-8", "public, max-age=300")


__all__ = ["paper_page", "paper_markdown_page", "paper_markdown"]
