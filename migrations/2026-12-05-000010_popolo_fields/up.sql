-- Popolo's shapes: partial dates (YYYY, YYYY-MM, YYYY-MM-DD), links on
-- every record, an open classification beside an organization's kind, a
-- membership's role and the organization it is held on behalf of, and
-- events that take a day (in their time zone), an instant, or no date yet.

-- The first and last day a partial date stands for: a start is read from
-- its first day, an end through its last.
CREATE FUNCTION partial_date_first(value text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE length(value)
    WHEN 4 THEN make_date(value::int, 1, 1)
    WHEN 7 THEN make_date(left(value, 4)::int, substr(value, 6, 2)::int, 1)
    ELSE make_date(left(value, 4)::int, substr(value, 6, 2)::int, substr(value, 9, 2)::int)
  END $$;

CREATE FUNCTION partial_date_last(value text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE length(value)
    WHEN 4 THEN make_date(value::int, 12, 31)
    WHEN 7 THEN (make_date(left(value, 4)::int, substr(value, 6, 2)::int, 1)
                 + interval '1 month' - interval '1 day')::date
    ELSE make_date(left(value, 4)::int, substr(value, 6, 2)::int, substr(value, 9, 2)::int)
  END $$;

-- The domain of a partial date column (the calendar check is
-- partial_date_first's: an impossible day fails it).
CREATE FUNCTION is_partial_date(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT value ~ '^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$'
     AND left(value, 4) <> '0000' $$;

ALTER TABLE organizations
    DROP CONSTRAINT organizations_check1,
    DROP CONSTRAINT organizations_founding_date_domain,
    DROP CONSTRAINT organizations_dissolution_date_domain,
    ALTER COLUMN founding_date TYPE text USING to_char(founding_date, 'YYYY-MM-DD'),
    ALTER COLUMN dissolution_date TYPE text USING to_char(dissolution_date, 'YYYY-MM-DD'),
    ADD CONSTRAINT organizations_founding_date_domain CHECK (is_partial_date(founding_date)),
    ADD CONSTRAINT organizations_dissolution_date_domain CHECK (is_partial_date(dissolution_date)),
    ADD CONSTRAINT organizations_dissolution_after_founding
        CHECK (partial_date_last(dissolution_date) >= partial_date_first(founding_date)),
    DROP CONSTRAINT organizations_kind_check,
    ADD CONSTRAINT organizations_kind_check CHECK (kind IN (
        'alliance', 'party_committee', 'party_general_branch', 'party_branch',
        'party_working_committee', 'party_department', 'enterprise', 'science_park',
        'government', 'government_department', 'school', 'street_office', 'other')),
    ADD COLUMN classification text CHECK (char_length(classification) BETWEEN 1 AND 200),
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array');

ALTER TABLE people
    DROP CONSTRAINT people_birth_date_domain,
    DROP CONSTRAINT people_death_date_domain,
    ALTER COLUMN birth_date TYPE text USING to_char(birth_date, 'YYYY-MM-DD'),
    ALTER COLUMN death_date TYPE text USING to_char(death_date, 'YYYY-MM-DD'),
    ADD CONSTRAINT people_birth_date_domain CHECK (is_partial_date(birth_date)),
    ADD CONSTRAINT people_death_date_domain CHECK (is_partial_date(death_date)),
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array');

ALTER TABLE roles
    DROP CONSTRAINT roles_check2,
    DROP CONSTRAINT roles_start_date_domain,
    DROP CONSTRAINT roles_end_date_domain,
    ALTER COLUMN start_date TYPE text USING to_char(start_date, 'YYYY-MM-DD'),
    ALTER COLUMN end_date TYPE text USING to_char(end_date, 'YYYY-MM-DD'),
    ADD CONSTRAINT roles_start_date_domain CHECK (is_partial_date(start_date)),
    ADD CONSTRAINT roles_end_date_domain CHECK (is_partial_date(end_date)),
    ADD CONSTRAINT roles_end_after_start
        CHECK (partial_date_last(end_date) >= partial_date_first(start_date)),
    ADD COLUMN role text CHECK (char_length(role) BETWEEN 1 AND 100),
    ADD COLUMN on_behalf_of_id uuid REFERENCES organizations (id),
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array');

CREATE INDEX roles_on_behalf_of_id_idx ON roles (on_behalf_of_id) WHERE deleted_at IS NULL;
CREATE INDEX roles_role_idx ON roles (organization_id, role) WHERE deleted_at IS NULL;

ALTER TABLE event_participants
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array');

-- An event takes place on days (start_date to end_date, both included, in
-- its time zone), at instants (starts_at to ends_at), or is not dated yet
-- (planned or recurring, with a note on its recurrence). Its span, as
-- instants and as local days, is derived for the filters and the order.
ALTER TABLE events
    ALTER COLUMN starts_at DROP NOT NULL,
    ADD COLUMN start_date date CONSTRAINT events_start_date_domain
        CHECK (start_date BETWEEN '0001-01-01' AND '9999-12-31'),
    ADD COLUMN end_date date CONSTRAINT events_end_date_domain
        CHECK (end_date BETWEEN '0001-01-01' AND '9999-12-31'),
    ADD COLUMN timezone text NOT NULL DEFAULT 'UTC'
        CHECK (char_length(timezone) BETWEEN 1 AND 64),
    ADD COLUMN recurrence text CHECK (char_length(recurrence) BETWEEN 1 AND 2000),
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array'),
    DROP CONSTRAINT events_status_check,
    ADD CONSTRAINT events_status_check
        CHECK (status IN ('planned', 'recurring', 'held', 'cancelled', 'postponed')),
    ADD CONSTRAINT events_dated CHECK (
        num_nonnulls(starts_at, start_date) = 1
        OR (starts_at IS NULL AND start_date IS NULL AND status IN ('planned', 'recurring'))),
    ADD CONSTRAINT events_end_of_its_start
        CHECK ((ends_at IS NULL OR starts_at IS NOT NULL) AND (end_date IS NULL OR start_date IS NOT NULL)),
    ADD CONSTRAINT events_end_date_after_start CHECK (end_date >= start_date);
ALTER TABLE events ALTER COLUMN timezone DROP DEFAULT;

ALTER TABLE events
    ADD COLUMN begins_at timestamptz NOT NULL GENERATED ALWAYS AS (coalesce(
        starts_at,
        timezone(timezone, start_date::timestamp),
        '9999-12-31 23:59:59.999999+00')) STORED,
    ADD COLUMN finishes_at timestamptz GENERATED ALWAYS AS (coalesce(
        ends_at,
        starts_at,
        timezone(timezone, (coalesce(end_date, start_date) + 1)::timestamp - interval '1 microsecond'))) STORED,
    ADD COLUMN first_day date GENERATED ALWAYS AS (coalesce(
        start_date,
        timezone(timezone, starts_at)::date)) STORED,
    ADD COLUMN last_day date GENERATED ALWAYS AS (coalesce(
        end_date,
        start_date,
        timezone(timezone, coalesce(ends_at, starts_at))::date)) STORED;

DROP INDEX events_starts_at_id_idx;
CREATE INDEX events_begins_at_id_idx ON events (begins_at, id) WHERE deleted_at IS NULL;
CREATE INDEX events_span_idx ON events (finishes_at, begins_at) WHERE deleted_at IS NULL;

-- Imports may be Popolo documents.
ALTER TABLE imports DROP CONSTRAINT imports_format_check,
    ADD CONSTRAINT imports_format_check CHECK (format IN ('json', 'ndjson', 'csv', 'popolo'));

-- The derived spans are the columns' own business: the journal (and so
-- the change feed) leaves them out like search_text.
CREATE OR REPLACE FUNCTION journal_write() RETURNS trigger
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    hidden  text[] := ARRAY['deleted_at', 'search_text', 'token_hash', 'last_used_at',
                            'begins_at', 'finishes_at', 'first_day', 'last_day'];
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
