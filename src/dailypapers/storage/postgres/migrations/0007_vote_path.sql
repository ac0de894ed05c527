-- Issue 14, the vote path (the first part is SQLite's 0011).
--
-- A paper's text_seq is the seq of its last change that a search index
-- shows as text (any column but the counts). A vote or a new Hugging Face count moves seq alone,
-- so a node's follower updates the upvote filters without re-indexing the text
-- (search/lexical.py). NULL (a new row, or one from before this migration): the text counts as
-- changed. Any column not named here as a count is text, so a new column is safe by default.
ALTER TABLE papers ADD COLUMN text_seq bigint;
CREATE FUNCTION papers_text_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counts text[] := ARRAY['hf_upvotes', 'votes', 'num_comments', 'trending_score', 'listed_at', 'added_at',
                           'modified_at', 'observed_at', 'seq', 'text_seq'];
BEGIN
    IF NEW.seq IS DISTINCT FROM OLD.seq THEN
        IF (to_jsonb(NEW) - counts) IS DISTINCT FROM (to_jsonb(OLD) - counts) THEN
            NEW.text_seq := NEW.seq;
        ELSE
            NEW.text_seq := COALESCE(OLD.text_seq, OLD.seq);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER papers_text_seq BEFORE UPDATE ON papers FOR EACH ROW EXECUTE FUNCTION papers_text_seq();

-- A rate-limit check in one statement (storage/postgres/ratelog.py): the per-key locks are held
-- only while the server runs it, never across the client's sends (votes from one address all
-- share a key: 4 ms mean wait per check at 32 voters when each statement was sent on its own).
-- Each statement in the function reads what was committed before it, so the check stays exact.
CREATE FUNCTION dp_rate_hit(keys text[], skip integer, win double precision, now_ double precision,
                            sweep_before double precision) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    latest double precision;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 1)) FROM unnest(keys) AS k ORDER BY k;
    DELETE FROM rate_events WHERE key = ANY(keys) AND at <= now_ - win;
    -- per key, the skip-th newest event in the window (NULL while fewer): a full key waits for it
    SELECT MAX(f.at) INTO latest FROM (
        SELECT (SELECT at FROM rate_events WHERE key = k ORDER BY at DESC OFFSET skip LIMIT 1) AS at
        FROM unnest(keys) AS k) AS f;
    IF latest IS NULL THEN
        INSERT INTO rate_events (key, at) SELECT k, now_ FROM unnest(keys) AS k;
    END IF;
    IF sweep_before IS NOT NULL THEN
        DELETE FROM rate_events WHERE at <= sweep_before;
    END IF;
    RETURN latest;
END
$$;
