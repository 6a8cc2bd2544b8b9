-- Popolo's areas and posts. An area is a place a body serves (Shanghai,
-- Yangpu District, a street), in a tree through `parent_id`; an
-- organization may serve one. A post is a position in an organization
-- that exists whoever holds it ("Director of the Organization Department
-- of the Yangpu District Party Committee"), optionally for an area; a role
-- may be the holding of a post.
CREATE TABLE areas (
    id             uuid PRIMARY KEY,
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 500),
    -- Open, e.g. "city", "district", "street".
    classification text CHECK (char_length(classification) BETWEEN 1 AND 200),
    parent_id      uuid REFERENCES areas (id),
    other_names    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(other_names) = 'array'),
    identifiers    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(identifiers) = 'array'),
    links          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array'),
    sources        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    search_text    text NOT NULL GENERATED ALWAYS AS (names_search_text(name, other_names)) STORED,
    version        bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);

CREATE INDEX areas_name_id_idx ON areas (name, id) WHERE deleted_at IS NULL;
CREATE INDEX areas_created_at_id_idx ON areas (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX areas_parent_id_idx ON areas (parent_id) WHERE deleted_at IS NULL;
CREATE INDEX areas_classification_idx ON areas (classification) WHERE deleted_at IS NULL;
CREATE INDEX areas_updated_at_idx ON areas (updated_at);
CREATE INDEX areas_search_text_idx ON areas USING gin (search_text gin_trgm_ops);
CREATE INDEX areas_identifiers_idx ON areas USING gin (identifiers jsonb_path_ops);

CREATE TABLE posts (
    id              uuid PRIMARY KEY,
    label           text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 500),
    -- The function, e.g. "director".
    role            text CHECK (char_length(role) BETWEEN 1 AND 100),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    area_id         uuid REFERENCES areas (id),
    start_date      text CONSTRAINT posts_start_date_domain CHECK (is_partial_date(start_date)),
    end_date        text CONSTRAINT posts_end_date_domain CHECK (is_partial_date(end_date)),
    other_labels    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(other_labels) = 'array'),
    contact_details jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(contact_details) = 'array'),
    links           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array'),
    sources         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    identifiers     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(identifiers) = 'array'),
    search_text     text NOT NULL GENERATED ALWAYS AS (names_search_text(label, other_labels)) STORED,
    version         bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    CONSTRAINT posts_end_after_start
        CHECK (partial_date_last(end_date) >= partial_date_first(start_date))
);

CREATE INDEX posts_label_id_idx ON posts (label, id) WHERE deleted_at IS NULL;
CREATE INDEX posts_created_at_id_idx ON posts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX posts_organization_id_idx ON posts (organization_id) WHERE deleted_at IS NULL;
CREATE INDEX posts_area_id_idx ON posts (area_id) WHERE deleted_at IS NULL;
CREATE INDEX posts_updated_at_idx ON posts (updated_at);
CREATE INDEX posts_search_text_idx ON posts USING gin (search_text gin_trgm_ops);
CREATE INDEX posts_identifiers_idx ON posts USING gin (identifiers jsonb_path_ops);

ALTER TABLE roles ADD COLUMN post_id uuid REFERENCES posts (id);
CREATE INDEX roles_post_id_idx ON roles (post_id) WHERE deleted_at IS NULL;

ALTER TABLE organizations ADD COLUMN area_id uuid REFERENCES areas (id);
CREATE INDEX organizations_area_id_idx ON organizations (area_id) WHERE deleted_at IS NULL;

CREATE TRIGGER areas_journal AFTER INSERT OR UPDATE ON areas
    FOR EACH ROW EXECUTE FUNCTION journal_write('area');
CREATE TRIGGER posts_journal AFTER INSERT OR UPDATE ON posts
    FOR EACH ROW EXECUTE FUNCTION journal_write('post');

CREATE TRIGGER areas_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON areas FOR EACH ROW EXECUTE FUNCTION external_ids_sync('area');
CREATE TRIGGER posts_external_ids AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON posts FOR EACH ROW EXECUTE FUNCTION external_ids_sync('post');
