-- Issue 13: the vectors of a paper's title and abstract sentences beside the paper's own
-- (search/sentences.py), as one blob of int8 rows. NULL: not embedded yet (the embedding job fills it); empty: nothing to embed.
ALTER TABLE embeddings ADD COLUMN sentences BLOB;
