UPDATE journal SET after = after - 'public_version' - 'public_updated_at',
                   before = before - 'public_version' - 'public_updated_at'
 WHERE entity_type = 'person';
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    -- Derived or secret columns: never journaled.
    hidden  text[] := ARRAY['deleted_at', 'search_text', 'token_hash', 'last_used_at'];
    -- Bookkeeping: in the snapshot, not a change by itself.
    kept    text[] := ARRAY['id', 'version', 'created_at', 'updated_at'];
    old_doc jsonb;
    new_doc jsonb := to_jsonb(NEW) - hidden;
    op      text;
    changed text[];
    version bigint := coalesce((to_jsonb(NEW) ->> 'version')::bigint, 1);
BEGIN
    IF TG_OP = 'INSERT' THEN
        op := 'created';
        SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed
          FROM jsonb_object_keys(new_doc - kept) AS k;
    ELSE
        old_doc := to_jsonb(OLD) - hidden;
        IF (to_jsonb(OLD) ->> 'deleted_at') IS NULL AND (to_jsonb(NEW) ->> 'deleted_at') IS NOT NULL THEN
            op := 'deleted';
            changed := '{}';
        ELSE
            op := 'updated';
            SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed
              FROM jsonb_object_keys(new_doc - kept) AS k
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

DROP TRIGGER people_public_version ON people;
DROP FUNCTION people_public_version();
ALTER TABLE people DROP COLUMN public_version, DROP COLUMN public_updated_at;
