DROP TABLE idempotency_keys;
-- The journal snapshot without version and timestamps, as before.
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- Columns that are bookkeeping, derived or secret: never journaled.
    hidden  text[] := ARRAY['version', 'created_at', 'updated_at', 'deleted_at',
                            'search_text', 'token_hash', 'last_used_at'];
    old_doc jsonb;
    new_doc jsonb := to_jsonb(NEW) - hidden;
    op      text;
    changed text[];
    version bigint := coalesce((to_jsonb(NEW) ->> 'version')::bigint, 1);
BEGIN
    IF TG_OP = 'INSERT' THEN
        op := 'created';
        SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed
          FROM jsonb_object_keys(new_doc) AS k WHERE k <> 'id';
    ELSE
        old_doc := to_jsonb(OLD) - hidden;
        IF (to_jsonb(OLD) ->> 'deleted_at') IS NULL AND (to_jsonb(NEW) ->> 'deleted_at') IS NOT NULL THEN
            op := 'deleted';
            changed := '{}';
        ELSE
            op := 'updated';
            SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed
              FROM jsonb_object_keys(new_doc) AS k
             WHERE new_doc -> k IS DISTINCT FROM old_doc -> k;
            IF cardinality(changed) = 0 THEN
                RETURN NULL;  -- nothing a reader can see changed (e.g. last_used_at)
            END IF;
        END IF;
    END IF;
    INSERT INTO journal (entity_type, entity_id, op, version, key_id, changed, before, after)
    VALUES (TG_ARGV[0], NEW.id, op, version,
            nullif(current_setting('alliance.key_id', true), '')::uuid,
            changed, old_doc, CASE WHEN op = 'deleted' THEN NULL ELSE new_doc END);
    RETURN NULL;
END $$;

DROP TRIGGER journal_commit_order ON journal;
DROP FUNCTION journal_assign_commit_seq();
DROP INDEX journal_feed_idx;
DROP SEQUENCE journal_commit_seq;
ALTER TABLE journal DROP COLUMN commit_seq;
DROP TRIGGER events_external_ids ON events;
DROP TRIGGER roles_external_ids ON roles;
DROP TRIGGER people_external_ids ON people;
DROP TRIGGER organizations_external_ids ON organizations;
DROP FUNCTION external_ids_sync();
DROP TABLE external_ids;
ALTER TABLE events DROP COLUMN identifiers;
ALTER TABLE roles DROP COLUMN identifiers;
ALTER TABLE people DROP COLUMN identifiers;
ALTER TABLE organizations DROP COLUMN identifiers;
