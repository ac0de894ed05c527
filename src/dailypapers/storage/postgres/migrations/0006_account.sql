-- Issue 15 (SQLite's 0010): the index a collection page reads its papers in, newest first.
-- Deleting an account needs no schema change (storage/account_rows.py).
CREATE INDEX collection_papers_order ON collection_papers (collection_id, id);
