-- Feed keys that survive a restore on another server.
--
-- A feed key is a transaction id of the server that wrote the row (see
-- `feed_without_lock`), and the feed serves the rows whose key is below
-- the xmin of the reader's snapshot. A register restored (pg_dump,
-- pg_restore) on a server whose transaction ids are behind those of the
-- server it came from kept keys that are ahead of every id of its new
-- server: the feed served none of the restored changes, and the changes
-- written after the restore got smaller keys than the restored ones, so a
-- consumer's cursor from before the restore passed over them.
--
-- Now every key, and the bound a reader compares keys with, is this
-- server's transaction id plus `feed_shift.shift` (0 until a restore needs
-- more). The service checks it whenever it prepares the database
-- (`db::migrate::run_migrations`, under the migration lock): where the
-- largest key is beyond the current transaction id plus the shift, which
-- no row written on this server can be, it raises the shift so that every
-- later key is larger than every restored one. Rows written on this
-- server keep (a) and (b) of `feed_without_lock`, all shifted alike.
CREATE TABLE feed_shift (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    shift    bigint  NOT NULL
);
INSERT INTO feed_shift (shift) VALUES (0);

CREATE FUNCTION feed_shift() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS 'SELECT shift FROM feed_shift';

ALTER TABLE journal
    ALTER COLUMN feed_key SET DEFAULT
        greatest(pg_snapshot_xmax(pg_current_snapshot()), pg_current_xact_id())::text::bigint
        + feed_shift();
