"""SQLite's text_seq trigger names the columns it compares (PostgreSQL's compares every column
but the counts): a new papers column must be one or the other, or the search index would miss
a change to it (search/lexical.py re-indexes a paper only when its text_seq moves)."""

import re
from importlib import resources

# Not text: a change to these alone is a change of counts (the follower does not re-index it), and
# the key, which never changes.
COUNTS = {"hf_upvotes", "votes", "num_comments", "trending_score", "listed_at", "added_at", "modified_at",
          "observed_at", "seq", "text_seq", "arxiv_id"}


def test_every_papers_column_is_text_or_a_count(store):
    columns = {r[1] for r in store.read("PRAGMA table_info(papers)")}
    trigger = store.read("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'papers_text_seq'")[0][0]
    compared = set(re.findall(r"NEW\.(\w+) IS NOT OLD\.\1", trigger.split("CASE WHEN", 1)[1]))
    assert columns - COUNTS == compared
    postgres = (resources.files("dailypapers.storage.postgres.migrations") / "0007_vote_path.sql").read_text()
    counts = re.search(r"counts text\[\] := ARRAY\[([^\]]*)\]", postgres).group(1)
    assert set(re.findall(r"'(\w+)'", counts)) == COUNTS - {"arxiv_id"}
