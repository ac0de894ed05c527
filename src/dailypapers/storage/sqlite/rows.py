"""Row mappers and SQL fragments: shared with the PostgreSQL store, so they live in storage/rows.py."""

from dailypapers.storage.rows import (
    LP_COLUMNS,
    P_COLUMNS,
    P_WIDTH,
    PAPER_COLUMNS,
    SELECT_LP,
    SELECT_PAPER,
    chunks,
    format_ts,
    inserted,
    listing_row,
    paper_row,
    parse_ts,
    row_listing,
    row_lp,
    row_paper,
)

__all__ = [
    "LP_COLUMNS", "P_COLUMNS", "P_WIDTH", "PAPER_COLUMNS", "SELECT_LP", "SELECT_PAPER", "chunks", "format_ts",
    "inserted", "listing_row", "paper_row", "parse_ts", "row_listing", "row_lp", "row_paper",
]
