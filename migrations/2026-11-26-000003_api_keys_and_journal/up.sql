-- API keys. The token is shown once at creation; only its SHA-256 hash is
-- stored. `prefix` (random, not secret) finds the key; the hash is then
-- compared in constant time.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    prefix       text NOT NULL UNIQUE,
    token_hash   bytea NOT NULL CHECK (octet_length(token_hash) = 32),
    scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'pii', 'admin']::text[]),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_keys_created_at_id_idx ON api_keys (created_at, id);

-- The journal: one row per change of a record, written by triggers in the
-- same transaction as the change, so a change never exists without its row
-- and a rolled-back change leaves none. It serves the audit trail (who, and
-- the fields that changed) and the change feed for syncing systems.
--
-- `before` / `after` are the record without bookkeeping columns; `after` is
-- null for deletions. `key_id` is the API key that made the change, taken
-- from the transaction-local setting `alliance.key_id`.
CREATE TABLE journal (
    seq         bigserial PRIMARY KEY,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    op          text NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    version     bigint NOT NULL,
    key_id      uuid REFERENCES api_keys (id),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed     text[] NOT NULL,
    before      jsonb,
    after       jsonb
);

CREATE INDEX journal_entity_idx ON journal (entity_type, entity_id, seq);
CREATE INDEX journal_key_id_idx ON journal (key_id, seq);
CREATE INDEX journal_changed_at_idx ON journal (changed_at);

CREATE FUNCTION journal_write() RETURNS trigger
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

CREATE TRIGGER organizations_journal AFTER INSERT OR UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION journal_write('organization');
CREATE TRIGGER people_journal AFTER INSERT OR UPDATE ON people
    FOR EACH ROW EXECUTE FUNCTION journal_write('person');
CREATE TRIGGER roles_journal AFTER INSERT OR UPDATE ON roles
    FOR EACH ROW EXECUTE FUNCTION journal_write('role');
CREATE TRIGGER events_journal AFTER INSERT OR UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION journal_write('event');
CREATE TRIGGER event_participants_journal AFTER INSERT OR UPDATE ON event_participants
    FOR EACH ROW EXECUTE FUNCTION journal_write('participant');
CREATE TRIGGER api_keys_journal AFTER INSERT OR UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION journal_write('api_key');
