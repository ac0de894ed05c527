-- Rate-limit events moved to a file of their own beside the database (<db>.ratelimits, created
-- on first use): a rate check writes on every search, and here it waited for the one write lock
-- behind ingest batches and votes. Nothing in it needs keeping.
DROP INDEX rate_events_key;
DROP TABLE rate_events;
