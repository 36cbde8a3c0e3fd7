-- Spool segments already replayed into the database, so a replay cut short between its COMMIT
-- and the deletion of the local file is never applied twice (ingest/spool.py). Rows are small
-- and few; ingest deletes those older than a month.
CREATE TABLE ingest_spool_replays (
    segment_id  text PRIMARY KEY,
    messages    integer NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now()
);
