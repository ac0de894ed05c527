"""Citation formats (dailypapers.citations): BibTeX, RIS and CSL-JSON out, BibTeX and RIS in.

Every BibTeX document is read back with bibtexparser (and its BibTeX name splitter) and every RIS
document with rispy, two parsers we did not write, so "well-formed" means what a reader's tools see.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser import middlewares

from dailypapers import citations
from dailypapers.citations import (
    bibtex,
    cite_keys,
    csl_json,
    export,
    highwire,
    parse,
    parse_bibtex,
    parse_ris,
    ris,
    split_name,
    tex,
)
from dailypapers.errors import Invalid
from dailypapers.ingest import hf_daily
from dailypapers.ingest.pipeline import Item
from dailypapers.models import Paper

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).parent.parent / "demo" / "hf-daily"
UTC = dt.timezone.utc


def paper(arxiv_id="2608.00001", title="Attention Is All You Need", authors=("Ada Lovelace",), **kw) -> Paper:
    kw.setdefault("published", dt.datetime(2026, 8, 20, 17, 3, tzinfo=UTC))
    kw.setdefault("categories", ["cs.CL", "cs.LG"])
    return Paper(arxiv_id=arxiv_id, title=title, abstract=kw.pop("abstract", "An abstract."),
                 authors=list(authors), **kw)


def read_bib(text: str) -> bibtexparser.Library:
    """Our BibTeX through bibtexparser, names split by its BibTeX rules; nothing may fail."""
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()])
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    return library


def sample_papers() -> list[Paper]:
    """Real papers: the arXiv sample of the ingest tests (names, comments, categories)."""
    out = []
    for line in (FIXTURES / "arxiv_daily_sample.jsonl").read_text().splitlines():
        row = json.loads(line)
        out.append(Paper(arxiv_id=row["id"], title=row["title"], abstract=row["abstract"], authors=row["authors"],
                         categories=row["categories"], comment=row.get("comment"),
                         published=dt.datetime(2025, 3, 14, tzinfo=UTC)))
    return out


def tricky_demo_papers() -> list[Paper]:
    """The bundled demo papers (real Hugging Face data) whose titles hold TeX or special characters,
    or whose authors have particles, suffixes, one name, or are teams."""
    out = []
    for item in hf_daily.read(DEMO):
        if not isinstance(item, Item):
            continue
        p = item.paper
        special = any(ch in p.title for ch in "{}$\\%&_#^~")
        odd_names = any(len(n.split()) == 1 or any(w[:1].islower() for w in n.split()[1:-1])
                        or n.endswith(("Jr", "Jr.", "III", "Team")) for n in p.authors)
        if special or odd_names:
            out.append(p)
    return _unique(out)


def _unique(papers: list[Paper]) -> list[Paper]:
    return list({p.arxiv_id: p for p in papers}.values())


# -- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize("display, given, particle, family, suffix", [
    ("Chengsong Huang", "Chengsong", "", "Huang", ""),
    ("Aäron van den Oord", "Aäron", "van den", "Oord", ""),
    ("Eric de la Clergerie", "Eric", "de la", "Clergerie", ""),
    ("Christian Schroeder de Witt", "Christian Schroeder", "de", "Witt", ""),
    ("Ronan Le Bras", "Ronan", "", "Le Bras", ""),
    ("Max Van Puyvelde", "Max", "", "Van Puyvelde", ""),
    ("Hal Daumé III", "Hal", "", "Daumé", "III"),
    ("Antonio Laverghetta Jr.", "Antonio", "", "Laverghetta", "Jr."),
    ("Di Wu", "Di", "", "Wu", ""),  # a Chinese given name, not the Italian particle
    ("Yifan Du", "Yifan", "", "Du", ""),
    ("Qingyao Ai", "Qingyao", "", "Ai", ""),  # a person, not a company
    ("Jorge Carrillo-de-Albornoz", "Jorge", "", "Carrillo-de-Albornoz", ""),
    ("Linus", "", "", "Linus", ""),
    ("Huang, Chengsong", "Chengsong", "", "Huang", ""),
    ("van Beethoven, Ludwig", "Ludwig", "van", "Beethoven", ""),
])
def test_split_name(display, given, particle, family, suffix):
    name = split_name(display)
    assert (name.given, name.particle, name.family, name.suffix, name.literal) == (given, particle, family, suffix, "")


@pytest.mark.parametrize("display", ["Gemma Team", "OpenAI", "NVIDIA", "DeepSeek-AI", "The Soofi-Team", "MOSI. AI",
                                     "ATLAS Collaboration"])
def test_teams_are_kept_whole(display):
    assert split_name(display).literal == display


AUTHORS = ["Aäron van den Oord", "Hal Daumé III", "Gemma Team", "Ronan Le Bras", "Linus", "Di Wu", "Ada Lovelace"]


def test_bibtex_authors_in_order_with_particles_and_suffixes():
    text = bibtex([paper(authors=AUTHORS)])
    assert "author = {van den Oord, Aäron and Daumé, III, Hal and {Gemma Team} and Le Bras, Ronan and Linus and " \
           "Wu, Di and Lovelace, Ada}" in text
    # BibTeX's own name rules (bibtexparser implements them) read the same people back, in order.
    names = read_bib(text).entries[0]["author"]
    got = [(n.first, n.von, n.last, n.jr) for n in names]
    assert got == [
        (["Aäron"], ["van", "den"], ["Oord"], []),
        (["Hal"], [], ["Daumé"], ["III"]),
        ([], [], ["{Gemma Team}"], []),
        (["Ronan"], [], ["Le", "Bras"], []),
        ([], [], ["Linus"], []),
        (["Di"], [], ["Wu"], []),
        (["Ada"], [], ["Lovelace"], []),
    ]


def test_ris_and_csl_authors_in_order():
    p = paper(authors=AUTHORS)
    au = [line[6:] for line in ris([p]).splitlines() if line.startswith("AU  - ")]
    assert au == ["van den Oord, Aäron", "Daumé, Hal, III", "Gemma Team", "Le Bras, Ronan", "Linus", "Wu, Di",
                  "Lovelace, Ada"]
    assert rispy.loads(ris([p]))[0]["authors"] == au
    assert csl_json([p])[0]["author"] == [
        {"family": "Oord", "given": "Aäron", "non-dropping-particle": "van den"},
        {"family": "Daumé", "given": "Hal", "suffix": "III"},
        {"literal": "Gemma Team"},
        {"family": "Le Bras", "given": "Ronan"},
        {"family": "Linus"},
        {"family": "Wu", "given": "Di"},
        {"family": "Lovelace", "given": "Ada"},
    ]


# -- escaping and TeX -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("Q&A at 100% for #1 in snake_case", r"{Q}\&{A} at 100\% for \#1 in snake\_case"),
    ("Serving LLaMA-70B on $60 GPUs", r"Serving {LLaMA-70B} on \$60 {GPUs}"),  # one dollar: money
    ("From $5 to $10", r"From \$5 to \$10"),  # not math: "$5 to $" ends on a space
    (r"Complexity $\mathcal{O}(n^{2})$ of $k$-means", r"Complexity {$\mathcal{O}(n^{2})$} of {$k$}-means"),
    (r"G\"odel and \emph{Escher} \& Bach", r"G\"odel and \emph{Escher} \& Bach"),  # TeX kept
    (r"\$OneMillion-Bench", r"\${OneMillion-Bench}"),  # already escaped: not twice
    ("X^{2}-Gaussian", r"{X}\textasciicircum{}\{2\}-Gaussian"),  # braces of plain text are printed
    ("a } stray { brace", r"a \textbraceright{} stray \textbraceleft{} brace"),  # unbalanced: still valid
    ("GPT-4o beats LLMs on iPhone", "{GPT-4o} beats {LLMs} on {iPhone}"),
    ("Vision-Language Models", "Vision-Language Models"),  # plain capitals: a style may lower-case them
])
def test_title_escaping(raw, expected):
    assert tex(raw, protect_case=True) == expected
    # and the field is well-formed BibTeX that reads back as exactly that
    entry = read_bib(bibtex([paper(title=raw)])).entries[0]
    assert entry["title"] == expected


def test_note_and_fields_of_an_entry():
    p = paper(arxiv_id="2608.19880", comment="12 pages, 5% of {ICLR} & more", version=3)
    entry = read_bib(bibtex([p])).entries[0]
    assert entry.entry_type == "misc"
    assert entry["eprint"] == "2608.19880"
    assert entry["archivePrefix"] == "arXiv"
    assert entry["primaryClass"] == "cs.CL"
    assert entry["year"] == "2026" and entry["month"] == "aug"  # the first version's date
    assert entry["doi"] == "10.48550/arXiv.2608.19880"
    assert entry["url"] == "https://arxiv.org/abs/2608.19880"
    assert entry["note"] == r"12 pages, 5\% of \{ICLR\} \& more"


def test_no_date_no_year_and_old_style_ids():
    p = paper(arxiv_id="hep-th/9901001", published=None, categories=[])
    entry = read_bib(bibtex([p])).entries[0]
    assert "year" not in entry and "primaryClass" not in entry
    assert entry["eprint"] == "hep-th/9901001" and entry["doi"] == "10.48550/arXiv.hep-th/9901001"


# -- keys -----------------------------------------------------------------------------------------
def test_keys_are_stable_and_unique():
    same = [paper(arxiv_id=f"2608.0000{i}", title="Attention Is All You Need") for i in range(1, 4)]
    other = paper(arxiv_id="2608.00009", title="The Annotated Transformer", authors=["Aäron van den Oord"])
    keys = cite_keys([*same, other])
    assert keys == ["lovelace2026attention", "lovelace2026attentionb", "lovelace2026attentionc", "oord2026annotated"]
    assert cite_keys([*same, other]) == keys  # the same list gives the same keys
    assert cite_keys([same[2]]) == ["lovelace2026attention"]  # a paper alone has its plain key
    library = read_bib(bibtex([*same, other]))
    assert [e.key for e in library.entries] == keys
    # a paper listed twice is one entry
    assert bibtex([same[0], same[0]]).count("@misc{") == 1


def test_key_of_a_team_and_of_an_untitled_year():
    p = paper(authors=["Gemma Team"], title="On the $\\alpha$ of Gemma 3", published=None)
    assert cite_keys([p]) == ["gemmagemma"]


# -- round trips -------------------------------------------------------------------------------
def test_round_trip_on_real_papers():
    papers = _unique(sample_papers() + tricky_demo_papers())
    assert len(papers) > 150
    ids = [p.arxiv_id for p in papers]
    text = bibtex(papers)
    library = read_bib(text)  # every entry well-formed
    assert len(library.entries) == len(papers)
    for p, entry in zip(papers, library.entries):
        assert len(entry["author"]) == len(p.authors), p.authors
    parsed = parse_bibtex(text)
    assert parsed.ids == ids and parsed.without_id == [] and parsed.problems == []
    parsed = parse_ris(ris(papers))
    assert parsed.ids == ids and parsed.without_id == [] and parsed.problems == []
    assert [e.title for e in parsed.entries] == [" ".join(p.title.split()) for p in papers]
    records = rispy.loads(ris(papers))
    assert [r["doi"] for r in records] == [f"10.48550/arXiv.{i}" for i in ids]
    assert [len(r["authors"]) for r in records] == [len(p.authors) for p in papers]
    assert [item["DOI"] for item in json.loads(export(papers, "csl", "x").body)] == [r["doi"] for r in records]


# -- import -----------------------------------------------------------------------------------------
FOREIGN_BIB = r"""
% exported from elsewhere
@string{corr = "CoRR"}

@misc{vaswani2017attention,
  title={Attention Is All You Need},
  author={Vaswani, Ashish and Shazeer, Noam},
  year={2017},
  eprint={1706.03762v7},
  archivePrefix={arXiv},
  primaryClass={cs.CL}
}

@article{devlin2018bert,
  title={{BERT}: Pre-training of Deep Bidirectional Transformers},
  journal={arXiv preprint arXiv:1810.04805},
  year={2018}
}

@article{DBLP:journals/corr/HeZRS15,
  title = {Deep Residual Learning for Image Recognition},
  journal = corr,
  volume = {abs/1512.03385},
  eprinttype = {arXiv}
}

@inproceedings{kingma2014adam,
  title = {Adam: A Method for Stochastic Optimization},
  url = {https://arxiv.org/pdf/1412.6980v9.pdf}
}

@misc{maldacena,
  title = {The Large N Limit of Superconformal Field Theories},
  doi = {10.48550/arXiv.hep-th/9711200}
}

@book{knuth1984texbook,
  title = {The {\TeX}book},
  author = {Knuth, Donald E.},
  publisher = {Addison-Wesley},
  year = {1984}
}

@article{pubmed1,
  title = {A clinical trial},
  eprint = {12345678},
  eprinttype = {pubmed}
}

@misc{vaswani2017attention,
  title = {Attention Is All You Need (a second copy under the same key)},
  url = {http://arxiv.org/abs/1706.03762}
}

@article{broken,
  title = {Never Closed},
  note = {arXiv:2401.00001

@misc{after, title = {After the Broken One}, howpublished = {\url{https://arxiv.org/abs/2402.00002}}}
"""


def test_parse_bibtex_from_other_tools():
    parsed = parse_bibtex(FOREIGN_BIB)
    by_key = {e.key: e for e in parsed.entries}
    assert by_key["vaswani2017attention"].arxiv_id == "1706.03762"  # eprint + archivePrefix, version dropped
    assert by_key["devlin2018bert"].arxiv_id == "1810.04805"  # Google Scholar's journal field
    assert by_key["devlin2018bert"].title == "BERT: Pre-training of Deep Bidirectional Transformers"
    assert by_key["DBLP:journals/corr/HeZRS15"].arxiv_id == "1512.03385"  # DBLP: CoRR abs/...
    assert by_key["kingma2014adam"].arxiv_id == "1412.6980"  # a PDF URL
    assert by_key["maldacena"].arxiv_id == "hep-th/9711200"  # arXiv's DOI, old-style id
    assert by_key["after"].arxiv_id == "2402.00002"
    # the ones without an arXiv id are reported, by title and key
    missing = [(e.key, e.title) for e in parsed.without_id]
    assert ("knuth1984texbook", r"The \TeXbook") in missing
    assert ("pubmed1", "A clinical trial") in missing  # a PubMed eprint is not an arXiv id
    # a repeated key is still an entry (and still found); a broken entry is reported with its problem
    assert [e.arxiv_id for e in parsed.entries if e.key == "vaswani2017attention"] == ["1706.03762", "1706.03762"]
    broken = next(e for e in parsed.entries if e.key == "broken")
    assert broken.line == 55 and "Unexpected block start" in broken.problem
    assert broken.arxiv_id == "2401.00001"  # found in its raw text all the same
    assert parsed.ids[:5] == ["1706.03762", "1810.04805", "1512.03385", "1412.6980", "hep-th/9711200"]


FOREIGN_RIS = """\ufeffTY  - PREPRINT
TI  - Attention Is All You Need
AU  - Vaswani, Ashish
DO  - 10.48550/arXiv.1706.03762
UR  - http://arxiv.org/abs/1706.03762
ER  -

TY  - JOUR
ID  - bert
T1  - BERT: Pre-training of Deep Bidirectional
      Transformers for Language Understanding
M1  - arXiv:1810.04805 [cs.CL]
ER  -

TY  - JOUR
TI  - A Paper in a Journal
JO  - Nature
DO  - 10.1038/nature14539
ER  -

TY  - GEN
TI  - Notes only
N1  - see arXiv preprint arXiv:1512.03385v1
"""


def test_parse_ris_from_other_tools():
    parsed = parse_ris(FOREIGN_RIS)
    assert [e.arxiv_id for e in parsed.entries] == ["1706.03762", "1810.04805", None, "1512.03385"]
    assert parsed.entries[1].key == "bert"
    assert parsed.entries[1].title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert [e.label for e in parsed.without_id] == ["A Paper in a Journal"]
    assert parsed.ids == ["1706.03762", "1810.04805", "1512.03385"]
    assert parse(FOREIGN_RIS).ids == parsed.ids  # told apart from BibTeX by its content
    assert parse(FOREIGN_BIB).ids == parse_bibtex(FOREIGN_BIB).ids


def test_parse_reports_what_is_not_a_file_of_entries():
    assert parse_ris("hello\nworld\n").problems[-1] == "no RIS records (TY  - ...) in the file"
    assert parse_bibtex("").entries == []
    with pytest.raises(Invalid):
        parse_bibtex("x" * (citations.MAX_IMPORT_CHARS + 1))


# -- Highwire meta and the export wrapper ----------------------------------------------------------
def test_highwire_tags():
    p = paper(arxiv_id="2608.19880", authors=["Aäron van den Oord", "Ada Lovelace"],
              updated=dt.datetime(2026, 9, 1, tzinfo=UTC))
    tags = highwire(p, "https://papers.example/papers/2608.19880")
    assert tags[:3] == [("citation_title", "Attention Is All You Need"),
                        ("citation_author", "van den Oord, Aäron"), ("citation_author", "Lovelace, Ada")]
    d = dict(tags)
    assert d["citation_publication_date"] == "2026/08/20" and d["citation_online_date"] == "2026/09/01"
    assert d["citation_pdf_url"] == "https://arxiv.org/pdf/2608.19880"
    assert d["citation_doi"] == "10.48550/arXiv.2608.19880"
    assert d["citation_abstract_html_url"] == "https://papers.example/papers/2608.19880"


def test_export_names_and_formats():
    p = paper(arxiv_id="hep-th/9901001")
    e = export([p], "bibtex", "hep-th/9901001")
    assert e.filename == "hep-th-9901001.bib" and e.format.media_type.startswith("application/x-bibtex")
    assert export([p], "csl", "Ünïcode search: a/b").filename == "Unicode-search-a-b.csl.json"
    assert export([], "ris", "empty").body == b""
    with pytest.raises(Invalid):
        export([p], "endnote", "x")
