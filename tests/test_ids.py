import pytest

from dailypapers.ids import BadArxivId, parse_arxiv_id


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2608.19880", ("2608.19880", None)),
        ("2608.19880v3", ("2608.19880", 3)),
        ("arXiv:2608.19880v2", ("2608.19880", 2)),
        ("0704.0001", ("0704.0001", None)),
        ("hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        ("https://arxiv.org/abs/2608.19880v2", ("2608.19880", 2)),
        ("http://arxiv.org/pdf/2608.19880.pdf", ("2608.19880", None)),
        ("arxiv.org/pdf/2608.19880v1", ("2608.19880", 1)),
        ("https://huggingface.co/papers/2608.19880", ("2608.19880", None)),
        ("https://arxiv.org/abs/astro-ph/0601001", ("astro-ph/0601001", None)),
        ("  2608.19880  ", ("2608.19880", None)),
    ],
)
def test_parses_ids_versions_and_urls(text, expected):
    assert tuple(parse_arxiv_id(text)) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "2608.198", "2608.1988012", "https://example.com/abs/2608.19880", "2608.19880v", "../etc/passwd", "2608.19880; DROP TABLE papers"]
)
def test_rejects_malformed_ids(text):
    with pytest.raises(BadArxivId):
        parse_arxiv_id(text)


def test_str_round_trips_the_version():
    assert str(parse_arxiv_id("2608.19880v4")) == "2608.19880v4"
    assert str(parse_arxiv_id("2608.19880")) == "2608.19880"
