-- Saved searches (issue 15): a member's searches with their own feeds and email alerts, the
-- alert send log, the papers each member was sent by alerts, and the secret For-you feed token.

-- params: the search's query parameters as JSON (SearchRequest.params()). feed_key names the
-- search's feed (/feeds/saved/<feed_key>.xml): unguessable, so a feed reader needs no cookie.
-- alert: 'none', 'digest' (a section of the member's next digest), 'daily' or 'weekly'.
CREATE TABLE saved_searches (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    params      TEXT NOT NULL,
    feed_key    TEXT NOT NULL UNIQUE,
    alert       TEXT NOT NULL DEFAULT 'none' CHECK (alert IN ('none', 'digest', 'daily', 'weekly')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX saved_searches_user ON saved_searches(user_id, id);
CREATE INDEX saved_searches_alert ON saved_searches(alert, id);

-- One alert email per saved search and period ('daily:2026-08-21'), like digest_sends.
CREATE TABLE saved_search_sends (
    id              INTEGER PRIMARY KEY,
    saved_search_id INTEGER NOT NULL REFERENCES saved_searches(id) ON DELETE CASCADE,
    period_key      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'in_doubt')),
    message_id      TEXT NOT NULL,
    arxiv_ids       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (saved_search_id, period_key)
);
CREATE INDEX saved_search_sends_period ON saved_search_sends(period_key, status, id);

-- Papers a member was sent by any alert: never sent twice. Kept when the saved search goes
-- (send_id becomes NULL), released when its send fails for good.
CREATE TABLE alert_sent_papers (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    arxiv_id    TEXT NOT NULL,
    send_id     INTEGER REFERENCES saved_search_sends(id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, arxiv_id)
);
CREATE INDEX alert_sent_papers_send ON alert_sent_papers(send_id);

-- The member's For-you feed token is an HMAC of (user, nonce) under the site key: a new nonce
-- regenerates it, deleting the row revokes it. The database alone cannot forge one.
CREATE TABLE feed_tokens (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    nonce       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
