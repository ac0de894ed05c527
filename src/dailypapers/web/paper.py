"""The paper page, its Markdown twin (/papers/{id}.md) and its BibTeX entry."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers.web.cache import PAGE_TTL, CacheEntry, entry_response, make_entry
from dailypapers.web.site import paper_url, preview, site_of


def bibtex(paper) -> str:
    first = (paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon")
    key_author = re.sub(r"[^A-Za-z]", "", first).lower() or "paper"
    year = paper.published.year if paper.published else ""
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", paper.title)), "paper").lower()
    key = f"{key_author}{year}{word}"

    def clean(s: str) -> str:
        return s.replace("{", "\\{").replace("}", "\\}")

    lines = [
        f"@misc{{{key},",
        f"  title = {{{clean(paper.title)}}},",
        f"  author = {{{clean(' and '.join(paper.authors))}}},",
    ]
    if year:
        lines.append(f"  year = {{{year}}},")
    lines += [
        f"  eprint = {{{paper.arxiv_id}}},",
        "  archivePrefix = {arXiv},",
    ]
    if paper.primary_category:
        lines.append(f"  primaryClass = {{{paper.primary_category}}},")
    lines.append(f"  url = {{https://arxiv.org/abs/{paper.arxiv_id}}}")
    lines.append("}")
    return "\n".join(lines)


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
            "bibtex": bibtex(p),
            "description": preview(p.ai_summary or p.abstract, 200),
            "og": True,
        }

    return await site.cached(request, ("paper", arxiv_id), build, cache_control="public, max-age=300")


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


__all__ = ["paper_page", "paper_markdown_page", "paper_markdown", "bibtex"]
