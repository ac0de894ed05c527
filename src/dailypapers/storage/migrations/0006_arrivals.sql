-- The daily list of the instance's own field: arXiv arrivals, their predicted interest, a
-- curator's triage of them, and the rules that list arrivals automatically.

-- The day arXiv first listed the paper as new ("YYYY-MM-DD"; see ingest/announce.py). Rows
-- stored before this migration get it when a source reports the paper again.
ALTER TABLE papers ADD COLUMN announced TEXT;
CREATE INDEX papers_announced ON papers(announced);

-- The ranker's latest score for each arrival, with the reasons shown beside it.
CREATE TABLE arrival_scores (
    arxiv_id        TEXT PRIMARY KEY REFERENCES papers(arxiv_id),
    day             TEXT NOT NULL,
    score           REAL NOT NULL,
    reasons         TEXT NOT NULL DEFAULT '[]',  -- JSON array of short sentences
    model           TEXT NOT NULL,               -- what scored it: "trained" or "seed"
    scored_at       TEXT NOT NULL
);
CREATE INDEX arrival_scores_day ON arrival_scores(day);

-- Automatic listing rules: the top K arrivals by predicted interest, or every arrival that a
-- saved search matches. Deleted rules stay, so the log can still name them.
CREATE TABLE arrival_rules (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('top', 'search')),
    top_k           INTEGER,
    query           TEXT,
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    deleted_at      TEXT
);

-- One decision per arrival: added or pinned to its day's list, skipped, or removed (a curator
-- took an automatic addition back, so no rule adds it again). `made_listing` and the previous_*
-- columns (the addition a pin followed) let the newest decision be undone exactly.
CREATE TABLE triage (
    arxiv_id        TEXT PRIMARY KEY REFERENCES papers(arxiv_id),
    day             TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('added', 'pinned', 'skipped', 'removed')),
    previous        TEXT,
    previous_seq    INTEGER,
    previous_user_id INTEGER REFERENCES users(id),
    previous_rule   TEXT,
    made_listing    INTEGER NOT NULL DEFAULT 0,
    user_id         INTEGER REFERENCES users(id),
    rule            TEXT,             -- the rule that decided, when no person did
    seq             INTEGER NOT NULL, -- order of decisions, for undo
    created_at      TEXT NOT NULL
);
CREATE INDEX triage_day ON triage(day, seq);

-- A rule acts with no user: the log names the rule instead.
ALTER TABLE curator_actions ADD COLUMN rule TEXT;
