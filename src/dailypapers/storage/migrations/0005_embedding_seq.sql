-- Each embedding write takes the next seq, so the vector index adds what is new without
-- scanning every vector (see VectorIndex.sync). Existing rows are numbered in insertion order.
ALTER TABLE embeddings ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE embeddings SET seq = rowid;
CREATE INDEX embeddings_seq ON embeddings(seq);
