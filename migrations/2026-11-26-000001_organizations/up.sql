-- Trigram indexes make case-insensitive substring search (`q=`) fast.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- All names of a record as one text: its name and the `name` of every entry
-- of its `other_names` array, one per line. Used by generated search columns,
-- so it must be IMMUTABLE.
CREATE FUNCTION names_search_text(name text, other_names jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT name || coalesce(
    E'\n' || (SELECT string_agg(e ->> 'name', E'\n') FROM jsonb_array_elements(other_names) AS e),
    '') $$;

CREATE TABLE organizations (
    id               uuid PRIMARY KEY,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 500),
    kind             text NOT NULL CHECK (kind IN (
                         'alliance', 'party_committee', 'party_general_branch', 'party_branch',
                         'party_working_committee', 'enterprise', 'science_park',
                         'government_department', 'school', 'street_office', 'other')),
    parent_id        uuid REFERENCES organizations (id),
    other_names      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(other_names) = 'array'),
    founding_date    date,
    dissolution_date date,
    description      text,
    contact_details  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(contact_details) = 'array'),
    sources          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    search_text      text NOT NULL GENERATED ALWAYS AS (names_search_text(name, other_names)) STORED,
    version          bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: a deleted organization stays as a tombstone for syncing systems.
    deleted_at       timestamptz,
    CHECK (parent_id IS DISTINCT FROM id),
    CHECK (dissolution_date IS NULL OR founding_date IS NULL OR dissolution_date >= founding_date)
);

-- Keyset pagination over live rows, one index per sort order.
CREATE INDEX organizations_name_id_idx ON organizations (name, id) WHERE deleted_at IS NULL;
CREATE INDEX organizations_created_at_id_idx ON organizations (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX organizations_parent_id_idx ON organizations (parent_id) WHERE deleted_at IS NULL;
CREATE INDEX organizations_updated_at_idx ON organizations (updated_at);
CREATE INDEX organizations_search_text_idx ON organizations USING gin (search_text gin_trgm_ops);
