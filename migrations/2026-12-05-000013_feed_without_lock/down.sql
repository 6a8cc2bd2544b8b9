-- Back to the commit-order lock of the migration `sync`. Each row keeps
-- its feed_key as its commit_seq (the same order), and later commits are
-- numbered after the largest, so cursors issued in between, whose position
-- is a feed_key, stay valid. (The ALTER TABLE waits for every transaction
-- writing the journal: every row here is committed.)
ALTER TABLE journal ADD COLUMN commit_seq bigint;
UPDATE journal SET commit_seq = feed_key;
CREATE SEQUENCE journal_commit_seq;
SELECT setval('journal_commit_seq', coalesce(max(commit_seq), 0) + 1, false) FROM journal;

DROP INDEX journal_feed_idx;
ALTER TABLE journal DROP COLUMN feed_key;
CREATE INDEX journal_feed_idx ON journal (commit_seq, seq) WHERE commit_seq IS NOT NULL;

CREATE FUNCTION journal_assign_commit_seq() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    position bigint := nullif(current_setting('alliance.commit_seq', true), '')::bigint;
BEGIN
    IF position IS NULL THEN
        PERFORM pg_advisory_xact_lock(7310413);
        position := nextval('journal_commit_seq');
        PERFORM set_config('alliance.commit_seq', position::text, true);
    END IF;
    UPDATE journal SET commit_seq = position WHERE seq = NEW.seq;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_commit_order AFTER INSERT ON journal
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION journal_assign_commit_seq();
