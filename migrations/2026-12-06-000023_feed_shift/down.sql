ALTER TABLE journal
    ALTER COLUMN feed_key SET DEFAULT
        greatest(pg_snapshot_xmax(pg_current_snapshot()), pg_current_xact_id())::text::bigint;
DROP FUNCTION feed_shift();
DROP TABLE feed_shift;
