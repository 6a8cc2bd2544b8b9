-- External identifiers: district systems name records by their own ids,
-- e.g. {"scheme": "yangpu-party-org", "value": "310110-0042"}. Each record
-- keeps its list in `identifiers`; `external_ids` indexes the identifiers
-- of live records, one owner per (entity type, scheme, value).
ALTER TABLE organizations ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(identifiers) = 'array');
ALTER TABLE people ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(identifiers) = 'array');
ALTER TABLE roles ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(identifiers) = 'array');
ALTER TABLE events ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(identifiers) = 'array');

CREATE INDEX organizations_identifiers_idx ON organizations USING gin (identifiers jsonb_path_ops);
CREATE INDEX people_identifiers_idx ON people USING gin (identifiers jsonb_path_ops);
CREATE INDEX roles_identifiers_idx ON roles USING gin (identifiers jsonb_path_ops);
CREATE INDEX events_identifiers_idx ON events USING gin (identifiers jsonb_path_ops);

CREATE TABLE external_ids (
    entity_type text NOT NULL,
    scheme      text NOT NULL,
    value       text NOT NULL,
    entity_id   uuid NOT NULL,
    PRIMARY KEY (entity_type, scheme, value)
);
CREATE INDEX external_ids_entity_idx ON external_ids (entity_id);

-- Keeps `external_ids` equal to the identifiers of live records; a clash
-- is a unique violation that rolls the write back.
CREATE FUNCTION external_ids_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM external_ids WHERE entity_id = NEW.id;
    IF NEW.deleted_at IS NULL THEN
        INSERT INTO external_ids (entity_type, scheme, value, entity_id)
        SELECT TG_ARGV[0], i ->> 'scheme', i ->> 'value', NEW.id
          FROM jsonb_array_elements(NEW.identifiers) AS i;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER organizations_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON organizations FOR EACH ROW EXECUTE FUNCTION external_ids_sync('organization');
CREATE TRIGGER people_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON people FOR EACH ROW EXECUTE FUNCTION external_ids_sync('person');
CREATE TRIGGER roles_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON roles FOR EACH ROW EXECUTE FUNCTION external_ids_sync('role');
CREATE TRIGGER events_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON events FOR EACH ROW EXECUTE FUNCTION external_ids_sync('event');

-- The journal snapshot now carries version and timestamps (the change feed
-- hands out records as a GET returns them); they still do not count as
-- changed fields.
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql AS $$
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

-- Commit order for the change feed. A sequence number taken at insert is
-- not commit order: a transaction can take number 7, then commit after the
-- one holding 8, and a reader that already moved past 8 would never see 7.
-- So each transaction takes its feed position at COMMIT time (a deferred
-- constraint trigger), under an advisory lock held until the commit ends:
-- a position is handed out only after every lower position's transaction
-- has committed (and become visible) or rolled back. Readers page through
-- (commit_seq, seq) and can never miss a row or see it twice.
ALTER TABLE journal ADD COLUMN commit_seq bigint;
CREATE SEQUENCE journal_commit_seq;
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

-- Changes made before this migration join the feed in journal order.
UPDATE journal AS j SET commit_seq = earlier.position
  FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS position FROM journal) AS earlier
 WHERE j.seq = earlier.seq;
SELECT setval('journal_commit_seq', coalesce(max(commit_seq), 0) + 1, false) FROM journal;

-- Idempotency keys of POST requests: the first response, replayed for a
-- retry with the same key and body. Scoped by API key.
CREATE TABLE idempotency_keys (
    key_id       uuid NOT NULL REFERENCES api_keys (id),
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       smallint NOT NULL,
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
