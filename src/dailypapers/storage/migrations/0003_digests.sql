-- Email digests (issue 6): subscription state for double opt-in, signed links and failures;
-- a send log that makes sending idempotent; the papers each reader has been sent.

ALTER TABLE subscriptions ADD COLUMN include_upvotes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN confirm_nonce TEXT;        -- one-time; the confirmation link carries it
ALTER TABLE subscriptions ADD COLUMN confirm_sent_at TEXT;      -- at most one confirmation email an hour
ALTER TABLE subscriptions ADD COLUMN manage_key TEXT;           -- manage/unsubscribe links carry it
ALTER TABLE subscriptions ADD COLUMN notice_sent_at TEXT;       -- last "manage your subscription" email
ALTER TABLE subscriptions ADD COLUMN fail_count INTEGER NOT NULL DEFAULT 0;  -- consecutive 5xx replies
ALTER TABLE subscriptions ADD COLUMN last_failure_at TEXT;
ALTER TABLE subscriptions ADD COLUMN last_error TEXT;
ALTER TABLE subscriptions ADD COLUMN updated_at TEXT;
CREATE UNIQUE INDEX subscriptions_user ON subscriptions(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX subscriptions_active ON subscriptions(frequency, id)
    WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL;

-- One row per (subscriber, period): written before the SMTP transaction, so a rerun never
-- composes or sends a second digest for the same period.
CREATE TABLE digest_sends (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    period_key      TEXT NOT NULL,            -- "daily:2026-08-21", "weekly:2026-08-21"
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'in_doubt')),
    message_id      TEXT NOT NULL,            -- stable per (subscriber, period): a resent copy has the same id
    entries         TEXT NOT NULL,            -- JSON [[arxiv_id, section, [reasons...]], ...], fixed at planning
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                     -- after a 4xx
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscription_id, period_key)
);
CREATE INDEX digest_sends_period ON digest_sends(period_key, status, id);

-- Papers already sent (or reserved for a planned digest) to each subscriber: never sent twice.
CREATE TABLE digest_sent_papers (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    arxiv_id        TEXT NOT NULL,
    send_id         INTEGER NOT NULL REFERENCES digest_sends(id),
    PRIMARY KEY (subscription_id, arxiv_id)
);
CREATE INDEX digest_sent_papers_send ON digest_sent_papers(send_id);
