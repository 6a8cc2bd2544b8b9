-- Back to whole days (a partial date becomes its first day) and timed
-- events only (events dated by day start at local midnight; undated ones
-- are removed).
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    hidden  text[] := ARRAY['deleted_at', 'search_text', 'token_hash', 'last_used_at'];
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
                RETURN NULL;
            END IF;
        END IF;
    END IF;
    INSERT INTO journal (entity_type, entity_id, op, version, key_id, changed, before, after)
    VALUES (TG_ARGV[0], NEW.id, op, version,
            nullif(current_setting('alliance.key_id', true), '')::uuid,
            changed, old_doc, CASE WHEN op = 'deleted' THEN NULL ELSE new_doc END);
    RETURN NULL;
END $$;

DELETE FROM imports WHERE format = 'popolo';
ALTER TABLE imports DROP CONSTRAINT imports_format_check,
    ADD CONSTRAINT imports_format_check CHECK (format IN ('json', 'ndjson', 'csv'));

DELETE FROM event_participants p USING events e
 WHERE p.event_id = e.id AND e.starts_at IS NULL AND e.start_date IS NULL;
DELETE FROM events WHERE starts_at IS NULL AND start_date IS NULL;
UPDATE events SET starts_at = begins_at WHERE starts_at IS NULL;
ALTER TABLE events
    DROP COLUMN begins_at, DROP COLUMN finishes_at, DROP COLUMN first_day, DROP COLUMN last_day,
    DROP CONSTRAINT events_dated, DROP CONSTRAINT events_end_of_its_start,
    DROP CONSTRAINT events_end_date_after_start,
    DROP COLUMN start_date, DROP COLUMN end_date, DROP COLUMN timezone, DROP COLUMN recurrence,
    DROP COLUMN links,
    ALTER COLUMN starts_at SET NOT NULL,
    DROP CONSTRAINT events_status_check;
UPDATE events SET status = 'planned' WHERE status = 'recurring';
ALTER TABLE events ADD CONSTRAINT events_status_check
    CHECK (status IN ('planned', 'held', 'cancelled', 'postponed'));
CREATE INDEX events_starts_at_id_idx ON events (starts_at, id) WHERE deleted_at IS NULL;

ALTER TABLE event_participants DROP COLUMN links;

ALTER TABLE roles
    DROP COLUMN links, DROP COLUMN on_behalf_of_id, DROP COLUMN role,
    DROP CONSTRAINT roles_end_after_start, DROP CONSTRAINT roles_start_date_domain,
    DROP CONSTRAINT roles_end_date_domain,
    ALTER COLUMN start_date TYPE date USING partial_date_first(start_date),
    ALTER COLUMN end_date TYPE date USING partial_date_last(end_date),
    ADD CONSTRAINT roles_check2 CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date),
    ADD CONSTRAINT roles_start_date_domain CHECK (start_date BETWEEN '0001-01-01' AND '9999-12-31'),
    ADD CONSTRAINT roles_end_date_domain CHECK (end_date BETWEEN '0001-01-01' AND '9999-12-31');

ALTER TABLE people
    DROP COLUMN links,
    DROP CONSTRAINT people_birth_date_domain, DROP CONSTRAINT people_death_date_domain,
    ALTER COLUMN birth_date TYPE date USING partial_date_first(birth_date),
    ALTER COLUMN death_date TYPE date USING partial_date_first(death_date),
    ADD CONSTRAINT people_birth_date_domain CHECK (birth_date BETWEEN '0001-01-01' AND '9999-12-31'),
    ADD CONSTRAINT people_death_date_domain CHECK (death_date BETWEEN '0001-01-01' AND '9999-12-31');

UPDATE organizations SET kind = 'government_department' WHERE kind IN ('government', 'party_department');
ALTER TABLE organizations
    DROP COLUMN links, DROP COLUMN classification,
    DROP CONSTRAINT organizations_kind_check,
    ADD CONSTRAINT organizations_kind_check CHECK (kind IN (
        'alliance', 'party_committee', 'party_general_branch', 'party_branch',
        'party_working_committee', 'enterprise', 'science_park',
        'government_department', 'school', 'street_office', 'other')),
    DROP CONSTRAINT organizations_dissolution_after_founding,
    DROP CONSTRAINT organizations_founding_date_domain,
    DROP CONSTRAINT organizations_dissolution_date_domain,
    ALTER COLUMN founding_date TYPE date USING partial_date_first(founding_date),
    ALTER COLUMN dissolution_date TYPE date USING partial_date_first(dissolution_date),
    ADD CONSTRAINT organizations_check1
        CHECK (dissolution_date IS NULL OR founding_date IS NULL OR dissolution_date >= founding_date),
    ADD CONSTRAINT organizations_founding_date_domain
        CHECK (founding_date BETWEEN '0001-01-01' AND '9999-12-31'),
    ADD CONSTRAINT organizations_dissolution_date_domain
        CHECK (dissolution_date BETWEEN '0001-01-01' AND '9999-12-31');

DROP FUNCTION is_partial_date(text);
DROP FUNCTION partial_date_last(text);
DROP FUNCTION partial_date_first(text);
