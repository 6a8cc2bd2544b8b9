-- The change feed without a commit-order lock (issue 12).
--
-- Until now (migration `sync`) every writing transaction took one advisory
-- lock at COMMIT, in the deferred constraint trigger journal_commit_order,
-- and numbered its journal rows (`commit_seq`) under it: every commit of
-- the register waited for the one before it (POST throughput 0.13 of a
-- plain INSERT). Now each journal row gets its feed position when it is
-- written, with no lock:
--
--   feed_key = greatest(pg_snapshot_xmax(pg_current_snapshot()), pg_current_xact_id())
--
-- and the feed serves, in (feed_key, seq) order, only the rows whose
-- feed_key is below the xmin of the reader's snapshot. Why that is right:
--
-- Journal rows are inserted by the plpgsql trigger function journal_write.
-- In READ COMMITTED each SQL statement of a volatile plpgsql function runs
-- with a fresh snapshot (SPI pushes GetTransactionSnapshot() for it), and
-- pg_current_snapshot() returns the active snapshot: its xmax is the latest
-- completed transaction id + 1 at the moment the journal row is written.
--
-- (a) Order of dependent changes. If transaction A committed before B
--     wrote its journal row (B updated a row A changed, after waiting on
--     A's row lock; or B refers to a record A created), then B's snapshot
--     counts A as completed: feed_key(B) >= xid(A) + 1 > xid(A), and
--     feed_key(B) >= the xmax A saw (xmax only grows), so
--     feed_key(A) <= feed_key(B); on a tie seq(A) < seq(B), since A's row
--     was inserted first. A record's changes come in order, and a record
--     after the records it refers to as of its writing.
--
-- (b) A settled prefix. Every row has feed_key >= the id of its own
--     transaction. For a reader's snapshot S, every transaction still in
--     flight has an xid >= xmin(S), and a transaction that has not got an
--     xid yet will get one >= xmax(S) >= xmin(S). So every journal row with
--     feed_key < pg_snapshot_xmin(S) belongs to a transaction that has
--     ended: the set of such rows is final (committed and visible to S, or
--     rolled back and gone, and no later additions). A reader that has
--     passed a position never misses a row that commits later, and never
--     sees one twice.
--
-- The price: the feed's head waits for the oldest writing transaction in
-- flight in the whole PostgreSQL cluster (any database; read-only
-- transactions hold nothing back). Commit order between unrelated
-- transactions is no longer promised, only (a) and (b).
--
-- Rows inserted by a plain statement (not through journal_write) get the
-- snapshot of that statement: (b) holds all the same.
ALTER TABLE journal ADD COLUMN feed_key bigint;

-- Positions of changes made before: their commit_seq. Cursors issued
-- before this migration hold a commit_seq as their position, so they stay
-- valid positions in the new order, provided every later feed_key is
-- larger: every later feed_key is >= the xid of a transaction that begins
-- after this one, hence larger than this migration's own xid.
UPDATE journal SET feed_key = coalesce(commit_seq, 0);

DO $$
DECLARE
    last_position bigint := (SELECT max(commit_seq) FROM journal);
    own_xid       bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF last_position >= own_xid THEN
        RAISE EXCEPTION 'journal.commit_seq reaches % but this transaction''s id is %: '
                        'old feed positions would not all come before new ones',
                        last_position, own_xid;
    END IF;
END $$;

ALTER TABLE journal
    ALTER COLUMN feed_key SET DEFAULT
        greatest(pg_snapshot_xmax(pg_current_snapshot()), pg_current_xact_id())::text::bigint,
    ALTER COLUMN feed_key SET NOT NULL;

DROP TRIGGER journal_commit_order ON journal;
DROP FUNCTION journal_assign_commit_seq();
DROP SEQUENCE journal_commit_seq;
DROP INDEX journal_feed_idx;
ALTER TABLE journal DROP COLUMN commit_seq;

CREATE INDEX journal_feed_idx ON journal (feed_key, seq);
