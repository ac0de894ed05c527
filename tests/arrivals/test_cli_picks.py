"""`dailypapers eval picks` on the real slice, through the real command."""

from __future__ import annotations

import json

import pytest

# The replay reads the arrivals and lists from files, not from a database: one run is enough.
pytestmark = pytest.mark.sqlite_only


def test_eval_picks_prints_a_table_and_json(cli, fixtures):
    args = ["eval", "picks", "--arrivals", str(fixtures / "arrivals" / "arrivals.jsonl.gz"),
            "--lists", str(fixtures / "arrivals" / "lists"), "--test-from", "2025-10-29", "--test-until", "2025-10-31"]
    result = json.loads(cli(*args, "--json", check=True).stdout)
    assert set(result["methods"]) == {"ranker", "tfidf_lr", "tfidf_lr_text", "random"}
    assert result["test_from"] == "2025-10-29" and result["test_until"] == "2025-10-31"
    table = cli(*args, check=True).stdout.splitlines()
    assert table[1].split() == ["method", "nDCG@20", "recall@20", "P@10", "days"]
    assert [line.split()[0] for line in table[2:]] == ["ranker", "tfidf_lr", "tfidf_lr_text", "random"]


def test_eval_picks_refuses_an_empty_replay(cli, fixtures, tmp_path):
    (tmp_path / "lists").mkdir()
    result = cli("eval", "picks", "--arrivals", str(fixtures / "arrivals" / "arrivals.jsonl.gz"),
                 "--lists", str(tmp_path / "lists"), "--test-from", "2025-10-29")
    assert result.returncode == 1
    assert result.stderr.startswith("error: nothing to replay")
