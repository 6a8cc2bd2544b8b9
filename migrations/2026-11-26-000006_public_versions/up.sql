-- Personal data (people's email, phone, birth_date) is invisible to keys
-- without the pii scope, and so must be its changes: such keys see a
-- person's public_version and public_updated_at, which only changes to
-- what they can see move. (version and updated_at move with every change,
-- for keys with pii.) The list of personal fields is the API's PII_FIELDS;
-- a test changes each of them alone and checks the public version stays.
ALTER TABLE people
    ADD COLUMN public_version bigint NOT NULL DEFAULT 1 CHECK (public_version > 0),
    ADD COLUMN public_updated_at timestamptz NOT NULL DEFAULT now();
UPDATE people SET public_version = version, public_updated_at = updated_at;
CREATE INDEX people_public_updated_at_idx ON people (public_updated_at);

CREATE FUNCTION people_public_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- Personal data, and bookkeeping that follows every change.
    private text[] := ARRAY['email', 'phone', 'birth_date', 'version', 'updated_at',
                            'public_version', 'public_updated_at', 'search_text'];
BEGIN
    IF (to_jsonb(NEW) - private) IS DISTINCT FROM (to_jsonb(OLD) - private) THEN
        NEW.public_version := OLD.public_version + 1;
        NEW.public_updated_at := NEW.updated_at;
    ELSE
        NEW.public_version := OLD.public_version;
        NEW.public_updated_at := OLD.public_updated_at;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER people_public_version BEFORE UPDATE ON people
    FOR EACH ROW EXECUTE FUNCTION people_public_version();

-- The bookkeeping columns are in snapshots, not changes by themselves.
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    -- Derived or secret columns: never journaled.
    hidden  text[] := ARRAY['deleted_at', 'search_text', 'token_hash', 'last_used_at'];
    -- Bookkeeping: in the snapshot, not a change by itself.
    kept    text[] := ARRAY['id', 'version', 'created_at', 'updated_at',
                            'public_version', 'public_updated_at'];
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


-- Snapshots written before carry the public version as it was then.
UPDATE journal
   SET after = after || jsonb_build_object('public_version', after -> 'version',
                                           'public_updated_at', after -> 'updated_at')
 WHERE entity_type = 'person' AND after IS NOT NULL;
UPDATE journal
   SET before = before || jsonb_build_object('public_version', before -> 'version',
                                             'public_updated_at', before -> 'updated_at')
 WHERE entity_type = 'person' AND before IS NOT NULL;
