"""The query parser: syntax, normalisation, and hostile input (it must never raise)."""

from __future__ import annotations

import random
import string

import pytest

from dailypapers.search.query import MAX_CLAUSES, ParsedQuery, normalize_category, parse_query


def test_words_and_phrases():
    p = parse_query('diffusion  "large language models" transformer')
    assert p.terms == ("diffusion", "transformer")
    assert p.phrases == ("large language models",)
    assert p.text == "large language models diffusion transformer"
    assert p.has_text and not p.has_filters and not p.is_empty


def test_exclusions():
    p = parse_query('agents -survey -"reinforcement learning" - lone-dash')
    assert p.terms == ("agents", "lone-dash")
    assert p.excluded_terms == ("survey",)
    assert p.excluded_phrases == ("reinforcement learning",)


def test_single_quoted_word_is_a_required_phrase():
    p = parse_query('"mamba" -"vit"')
    assert p.phrases == ("mamba",)
    assert p.excluded_terms == ("vit",)


def test_fields():
    p = parse_query('author:"Yann LeCun" author:bengio cat:CS.cl cat:stat.ml cat:cs year:2024-2025 world models')
    assert p.authors == ("Yann LeCun", "bengio")
    assert p.categories == ("cs.CL", "stat.ML", "cs")
    assert (p.year_from, p.year_to) == (2024, 2025)
    assert p.terms == ("world", "models")


@pytest.mark.parametrize(
    "text, years",
    [
        ("year:2025", (2025, 2025)),
        ("year:2024-2025", (2024, 2025)),
        ("year:2025-2024", (2024, 2025)),
        ("year:2024..2025", (2024, 2025)),
        ("year:2020-", (2020, None)),
        ("year:-2019", (None, 2019)),
        ("YEAR:2023", (2023, 2023)),
    ],
)
def test_years(text, years):
    p = parse_query(text)
    assert (p.year_from, p.year_to) == years
    assert p.has_filters and not p.has_text


@pytest.mark.parametrize("text", ["year:banana", "year:99999", "year:1200", "year:-"])
def test_bad_years_are_notes_not_errors(text):
    p = parse_query(text + " llm")
    assert p.year_from is None and p.year_to is None
    assert p.terms == ("llm",)
    assert p.notes


def test_unknown_field_is_text():
    p = parse_query("title:attention foo:bar")
    assert p.terms == ("title:attention", "foo:bar")


def test_negated_fields_are_noted():
    p = parse_query("-author:smith -cat:cs.CV -year:2020 vision")
    assert p.authors == () and p.categories == () and p.year_from is None
    assert len(p.notes) == 3 and p.terms == ("vision",)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2405.15738", "2405.15738"),
        ("  2405.15738v3 ", "2405.15738"),
        ("arXiv:2405.15738", "2405.15738"),
        ("https://arxiv.org/abs/2405.15738v2", "2405.15738"),
        ("https://arxiv.org/pdf/2405.15738.pdf", "2405.15738"),
        ("https://huggingface.co/papers/2405.15738", "2405.15738"),
        ("hep-th/9901001", "hep-th/9901001"),
    ],
)
def test_arxiv_ids_and_urls(text, expected):
    p = parse_query(text)
    assert p.arxiv_id == expected
    assert not p.terms


def test_id_inside_a_longer_query_is_text():
    p = parse_query("2405.15738 convllava")
    assert p.arxiv_id is None
    assert p.terms == ("2405.15738", "convllava")


def test_normalize_category():
    assert normalize_category("CS.cv") == "cs.CV"
    assert normalize_category("cond-mat.Mes-Hall") == "cond-mat.mes-hall"
    assert normalize_category("math") == "math"
    for bad in ("", "cs.", "1cs", "cs.CL;DROP", "a" * 50, "<b>"):
        assert normalize_category(bad) is None


def test_unbalanced_quote_becomes_words():
    p = parse_query('"graph neural networks')
    assert p.phrases == ()
    assert p.terms == ("graph", "neural", "networks")
    p = parse_query('a "b c" "d e')
    assert p.phrases == ("b c",) and p.terms == ("a", "d", "e")


def test_empty_and_blank():
    for text in ("", "   ", None, '""', '" "', "-", "- -", "\x00\x01", "***", "😀 !!", "-- ::"):
        p = parse_query(text)
        assert p.is_empty, text


def test_only_exclusions_is_empty():
    assert parse_query("-foo -bar").is_empty


def test_control_characters_and_unicode():
    p = parse_query("lang\x00uage\tmodel\u200b\n\r  模型 😀 café")
    assert "\x00" not in "".join(p.terms)
    assert "模型" in p.terms and "café" in p.terms
    assert "😀" not in p.terms  # symbols alone match nothing


def test_nfkc_normalisation():
    assert parse_query("ｍｏｄｅｌ").terms == ("model",)  # full-width letters


def test_clause_cap_and_huge_input_is_fast():
    import time

    text = " ".join(f"w{i}" for i in range(5000))  # ~30 kB
    t = time.perf_counter()
    p = parse_query(text)
    assert time.perf_counter() - t < 0.5
    assert len(p.terms) == MAX_CLAUSES
    assert p.notes
    p = parse_query('"' * 10_000)
    assert isinstance(p, ParsedQuery)
    p = parse_query("a" * 10_000)
    assert len(p.terms[0]) <= 100


def test_duplicates_collapse():
    assert parse_query("llm llm LLM").terms == ("llm", "LLM")


def test_highlight_words():
    p = parse_query('rope "positional encoding" -bad')
    assert p.highlight_words == ("rope", "positional", "encoding")


HOSTILE = [
    "' OR 1=1; --",
    "Robert'); DROP TABLE papers;--",
    "title:(foo OR bar) AND NOT baz^3 ~2 [1 TO 5] {a TO b} field:*",
    "* ? + - && || ! ( ) { } [ ] ^ \" ~ * ? : \\ /",
    "\\\"escaped\\\" quotes",
    "<script>alert(1)</script>",
    "%00%27%22",
    "author: cat: year:",
    "author:\"\" cat:\"\"",
    "-\"\"",
    "--flag ---x",
    "::::",
    "\u202e reversed \u202c",
    "🏳️‍🌈👨‍👩‍👧",
    "ＳＥＬＥＣＴ",
    "\ud800" if False else "tab\tsep",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_parses(text):
    p = parse_query(text)
    assert isinstance(p, ParsedQuery)
    for part in p.terms + p.phrases + p.excluded_terms + p.excluded_phrases + p.authors:
        assert part and part == part.strip()


def test_random_fuzz_never_raises():
    rng = random.Random(1234)
    alphabet = string.printable + '"""---:::' + "éü漢字😀\u200b\x00\x7f"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        p = parse_query(text)
        assert len(p.terms) + len(p.phrases) + len(p.excluded_terms) + len(p.excluded_phrases) <= MAX_CLAUSES
