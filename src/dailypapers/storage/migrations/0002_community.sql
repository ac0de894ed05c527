-- Community (issue 5): sessions, API tokens, comments, curator audit log, rate-limit events,
-- profile visibility, listing pins/hides, and the denormalized trending key.
-- Timestamps are ISO 8601 UTC text, as in 0001.

-- Profiles: a member chooses whether /u/{name} lists their upvotes and submissions.
ALTER TABLE users ADD COLUMN show_upvotes INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN show_submissions INTEGER NOT NULL DEFAULT 1;
-- Bumped whenever the password changes; a reset link names the value it was issued under,
-- so each link works once and dies with the next password change.
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

-- Server-side sessions. Only the SHA-256 of the 128-bit cookie token is stored.
CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL     -- absolute timeout: created_at + session_max_days
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- Personal API tokens (Authorization: Bearer ...). Only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,    -- first characters, shown in the settings list
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Comments: plain text. Deleted (by the author) and hidden (by a curator) comments stay in the
-- table but leave papers.num_comments, which always counts the visible ones.
CREATE TABLE comments (
    id              INTEGER PRIMARY KEY,
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    edited_at       TEXT,
    deleted_at      TEXT,
    hidden_at       TEXT,
    hidden_by       INTEGER REFERENCES users(id)
);
CREATE INDEX comments_paper ON comments(arxiv_id, id);
CREATE INDEX comments_user ON comments(user_id);

-- Every curator action, with who and when.
CREATE TABLE curator_actions (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER REFERENCES users(id),
    action          TEXT NOT NULL,    -- add | pin | unpin | hide | unhide | remove | hide_comment | unhide_comment | role | disable | enable
    arxiv_id        TEXT,
    day             TEXT,
    detail          TEXT,             -- JSON: what changed (e.g. the removed listing row)
    created_at      TEXT NOT NULL
);
CREATE INDEX curator_actions_time ON curator_actions(created_at);

-- Listings: curator pins and hides; the local member who submitted (submitted_by stays the
-- display name, which for imported lists is a Hugging Face user name).
ALTER TABLE listings ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN submitter_id INTEGER REFERENCES users(id);
CREATE INDEX listings_submitter_day ON listings(submitter_id, day);

-- Trending (see dailypapers.trending): a time-invariant key, so ORDER BY needs no rescoring.
ALTER TABLE papers ADD COLUMN trending_score REAL;   -- NULL: never listed, not trending
ALTER TABLE papers ADD COLUMN listed_at TEXT;        -- first time the paper went on a list
CREATE INDEX papers_trending ON papers(trending_score DESC);

-- Store-backed rate limiting (used when several server processes share the database).
CREATE TABLE rate_events (
    key             TEXT NOT NULL,
    at              REAL NOT NULL      -- unix time
);
CREATE INDEX rate_events_key ON rate_events(key, at);
