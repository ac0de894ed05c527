-- Papers, daily listings, and the community tables later work builds on.
-- Timestamps are ISO 8601 UTC text ("2026-08-21T00:00:00Z"); days are "YYYY-MM-DD".

CREATE TABLE papers (
    arxiv_id        TEXT PRIMARY KEY,
    version         INTEGER,                    -- latest arXiv version seen; NULL when unknown
    title           TEXT NOT NULL,
    abstract        TEXT NOT NULL,
    authors         TEXT NOT NULL,              -- JSON array of names, in order
    categories      TEXT NOT NULL DEFAULT '[]', -- JSON array, primary first
    primary_category TEXT,
    published       TEXT,
    updated         TEXT,
    comment         TEXT,
    github_repo     TEXT,
    github_stars    INTEGER,
    project_page    TEXT,
    org_name        TEXT,
    org_fullname    TEXT,
    org_avatar      TEXT,
    ai_summary      TEXT,
    ai_keywords     TEXT NOT NULL DEFAULT '[]',
    withdrawn       INTEGER NOT NULL DEFAULT 0,
    observed_at     TEXT,                       -- time of the snapshot the enrichment came from
    hf_upvotes      INTEGER NOT NULL DEFAULT 0, -- base count imported from Hugging Face
    votes           INTEGER NOT NULL DEFAULT 0, -- member votes here, kept equal to COUNT(votes)
    num_comments    INTEGER NOT NULL DEFAULT 0,
    added_at        TEXT NOT NULL,
    modified_at     TEXT NOT NULL,
    seq             INTEGER NOT NULL            -- bumped on every change; search indexes follow it
);
CREATE INDEX papers_seq ON papers(seq);
CREATE INDEX papers_published ON papers(published);
CREATE INDEX papers_org ON papers(org_name);

CREATE TABLE listings (
    day             TEXT NOT NULL,
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    rank            INTEGER,
    submitted_by    TEXT,
    submitted_at    TEXT,
    upvotes         INTEGER NOT NULL DEFAULT 0, -- upvotes at import
    num_comments    INTEGER NOT NULL DEFAULT 0,
    source          TEXT NOT NULL DEFAULT 'manual',
    PRIMARY KEY (day, arxiv_id)
);
CREATE INDEX listings_paper ON listings(arxiv_id);
CREATE INDEX listings_submitter ON listings(submitted_by);

CREATE TABLE embeddings (
    arxiv_id        TEXT PRIMARY KEY REFERENCES papers(arxiv_id),
    model_id        TEXT NOT NULL,
    text_hash       TEXT NOT NULL,  -- sha1 of the embedded text, so an edit re-embeds
    vector          BLOB NOT NULL   -- float32 little-endian, L2-normalized
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT,
    role            TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'curator', 'admin')),
    verified_at     TEXT,
    disabled_at     TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE votes (
    user_id         INTEGER NOT NULL REFERENCES users(id),
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, arxiv_id)
);
CREATE INDEX votes_paper ON votes(arxiv_id);

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    user_id         INTEGER REFERENCES users(id),
    frequency       TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    weekday         INTEGER,
    skip_weekends   INTEGER NOT NULL DEFAULT 0,
    topics          TEXT NOT NULL DEFAULT '[]',
    confirmed_at    TEXT,
    unsubscribed_at TEXT,
    created_at      TEXT NOT NULL
);

-- Small key/value state: harvest checkpoints, index positions.
CREATE TABLE state (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
