-- People: officials and members. One person may hold several roles at once.
CREATE TABLE people (
    id              uuid PRIMARY KEY,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 500),
    given_name      text,
    family_name     text,
    other_names     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(other_names) = 'array'),
    gender          text,
    birth_date      date,
    email           text,
    phone           text,
    biography       text,
    image_url       text,
    contact_details jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(contact_details) = 'array'),
    sources         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    search_text     text NOT NULL GENERATED ALWAYS AS (names_search_text(name, other_names)) STORED,
    version         bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);

CREATE INDEX people_name_id_idx ON people (name, id) WHERE deleted_at IS NULL;
CREATE INDEX people_created_at_id_idx ON people (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX people_updated_at_idx ON people (updated_at);
CREATE INDEX people_search_text_idx ON people USING gin (search_text gin_trgm_ops);

-- Roles: who holds which post in which organization, from when to when; and
-- which organizations are members of another (e.g. of the alliance). The
-- member is exactly one of a person or an organization. An end date ends a
-- role; deleting it is for mistakes (history stays answerable).
CREATE TABLE roles (
    id                     uuid PRIMARY KEY,
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    person_id              uuid REFERENCES people (id),
    member_organization_id uuid REFERENCES organizations (id),
    title                  text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    start_date             date,
    end_date               date,
    note                   text,
    sources                jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    version                bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz,
    CHECK (num_nonnulls(person_id, member_organization_id) = 1),
    CHECK (member_organization_id IS DISTINCT FROM organization_id),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);

CREATE INDEX roles_organization_id_idx ON roles (organization_id) WHERE deleted_at IS NULL;
CREATE INDEX roles_person_id_idx ON roles (person_id) WHERE deleted_at IS NULL;
CREATE INDEX roles_member_organization_id_idx ON roles (member_organization_id) WHERE deleted_at IS NULL;
CREATE INDEX roles_created_at_id_idx ON roles (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX roles_title_id_idx ON roles (title, id) WHERE deleted_at IS NULL;
CREATE INDEX roles_updated_at_idx ON roles (updated_at);
CREATE INDEX roles_title_trgm_idx ON roles USING gin (title gin_trgm_ops);

-- Events: the founding seminar, its discussion session (a child event),
-- joint meetings, themed activities.
CREATE TABLE events (
    id              uuid PRIMARY KEY,
    title           text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    kind            text NOT NULL CHECK (kind IN (
                        'seminar', 'joint_meeting', 'themed_activity', 'discussion_session',
                        'meeting', 'other')),
    status          text NOT NULL CHECK (status IN ('planned', 'held', 'cancelled', 'postponed')),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz,
    location        text,
    description     text,
    parent_event_id uuid REFERENCES events (id),
    topics          text[] NOT NULL DEFAULT '{}',
    sources         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    search_text     text NOT NULL GENERATED ALWAYS AS (title || E'\n' || coalesce(description, '')) STORED,
    version         bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CHECK (parent_event_id IS DISTINCT FROM id)
);

CREATE INDEX events_starts_at_id_idx ON events (starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX events_created_at_id_idx ON events (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX events_title_id_idx ON events (title, id) WHERE deleted_at IS NULL;
CREATE INDEX events_parent_event_id_idx ON events (parent_event_id) WHERE deleted_at IS NULL;
CREATE INDEX events_topics_idx ON events USING gin (topics);
CREATE INDEX events_updated_at_idx ON events (updated_at);
CREATE INDEX events_search_text_idx ON events USING gin (search_text gin_trgm_ops);

-- Who took part in an event, in which capacity, and for whom.
CREATE TABLE event_participants (
    id              uuid PRIMARY KEY,
    event_id        uuid NOT NULL REFERENCES events (id),
    person_id       uuid REFERENCES people (id),
    organization_id uuid REFERENCES organizations (id),
    role            text NOT NULL CHECK (role IN ('organizer', 'host', 'speaker', 'attendee', 'commenter')),
    on_behalf_of_id uuid REFERENCES organizations (id),
    note            text,
    version         bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    CHECK (num_nonnulls(person_id, organization_id) = 1)
);

-- The same member may not hold the same participant role twice in one event.
CREATE UNIQUE INDEX event_participants_person_role_key
    ON event_participants (event_id, person_id, role)
    WHERE deleted_at IS NULL AND person_id IS NOT NULL;
CREATE UNIQUE INDEX event_participants_organization_role_key
    ON event_participants (event_id, organization_id, role)
    WHERE deleted_at IS NULL AND organization_id IS NOT NULL;
CREATE INDEX event_participants_event_idx ON event_participants (event_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX event_participants_person_id_idx ON event_participants (person_id) WHERE deleted_at IS NULL;
CREATE INDEX event_participants_organization_id_idx ON event_participants (organization_id) WHERE deleted_at IS NULL;
CREATE INDEX event_participants_on_behalf_of_id_idx ON event_participants (on_behalf_of_id) WHERE deleted_at IS NULL;
CREATE INDEX event_participants_updated_at_idx ON event_participants (updated_at);
