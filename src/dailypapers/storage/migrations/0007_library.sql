-- A reader's library (issue 15): collections (reading lists) with their papers, members and
-- private notes, reading states per member and paper, and the last visit per list kind.

-- A collection belongs to one member. visibility: 'private' (the owner alone), 'shared' (the
-- owner and the members below) or 'public' (anyone may read it at /c/<slug or id>; members may
-- still edit). A slug is optional and unique.
CREATE TABLE collections (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    slug            TEXT,
    description     TEXT NOT NULL DEFAULT '',
    visibility      TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'shared', 'public')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX collections_owner ON collections(owner_id);
CREATE UNIQUE INDEX collections_slug ON collections(slug) WHERE slug IS NOT NULL;

-- Other members of a shared (or public) collection: editors add and remove papers, viewers read.
CREATE TABLE collection_members (
    collection_id   INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    added_at        TEXT NOT NULL,
    PRIMARY KEY (collection_id, user_id)
);
CREATE INDEX collection_members_user ON collection_members(user_id);

-- The papers of a collection; id is the order they were added in (newest first on the page).
CREATE TABLE collection_papers (
    id              INTEGER PRIMARY KEY,
    collection_id   INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    added_by        INTEGER REFERENCES users(id) ON DELETE SET NULL,
    added_at        TEXT NOT NULL,
    UNIQUE (collection_id, arxiv_id)
);

-- A member's private note on a paper in a collection: only its writer ever reads it.
CREATE TABLE collection_notes (
    collection_id   INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (collection_id, arxiv_id, user_id)
);

-- Reading states: to read, read, or hidden ("not interested": off that member's lists, search,
-- For you and digests, and a negative for the For you ranking).
CREATE TABLE reading_states (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    arxiv_id        TEXT NOT NULL REFERENCES papers(arxiv_id),
    state           TEXT NOT NULL CHECK (state IN ('to_read', 'read', 'hidden')),
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, arxiv_id)
);
CREATE INDEX reading_states_user ON reading_states(user_id, state, updated_at);

-- "New since your last visit": per member and list kind (daily, week, month, trending), the
-- latest visit and the one before the current sitting (papers listed after it are new).
CREATE TABLE list_visits (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    seen_at         TEXT NOT NULL,
    previous_at     TEXT,
    PRIMARY KEY (user_id, kind)
);
