-- Follows and For you corrections (issue 15).

-- A member follows an author (by name) or an organization. key is what papers are matched on
-- (community/follows.py: an author's surname and first initial, an organization's name
-- as in its /orgs/ address); name is what the member followed, shown in "you follow X".
CREATE TABLE follows (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('author', 'org')),
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, kind, name)
);
CREATE INDEX follows_key ON follows(kind, key);

-- What a member told For you (and their digests) to stop using, without undoing it: an upvote
-- that stays an upvote but no longer shapes their recommendations. Reset deletes their rows.
CREATE TABLE foryou_mutes (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('upvote')),
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);
