-- Lists filtered by a reference and ordered by creation read one index in
-- order from the cursor on, so a page costs the same wherever it starts:
-- the roles of an organization (its members view, /v1/roles), of a
-- person, of a member organization. These replace the plain indexes on
-- the reference alone.
DROP INDEX roles_organization_id_idx;
DROP INDEX roles_person_id_idx;
DROP INDEX roles_member_organization_id_idx;
CREATE INDEX roles_organization_created_idx ON roles (organization_id, created_at, id)
    WHERE deleted_at IS NULL;
CREATE INDEX roles_person_created_idx ON roles (person_id, created_at, id)
    WHERE deleted_at IS NULL;
CREATE INDEX roles_member_organization_created_idx ON roles (member_organization_id, created_at, id)
    WHERE deleted_at IS NULL;

-- The people of an organization (/v1/people?organization_id=, with or
-- without active_on) are listed in the people's order (name, creation),
-- which no index of roles has. `role_holders` keeps, for every live role
-- held by a person, the person's sort keys and the role's span as days,
-- kept by triggers (it is derived data: not journaled, not in the feed),
-- so that a page is one walk of an index from the cursor on. Its `id`,
-- `name` and `created_at` are the holder's (the person's), so it is
-- paged exactly as `people` is.
CREATE TABLE role_holders (
    role_id         uuid PRIMARY KEY REFERENCES roles (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL,
    id              uuid NOT NULL,
    name            text NOT NULL,
    created_at      timestamptz NOT NULL,
    -- The first day of the role's start and the last of its end; NULL:
    -- open.
    first_day       date,
    last_day        date
);
CREATE INDEX role_holders_by_name_idx
    ON role_holders (organization_id, name, id) INCLUDE (first_day, last_day);
CREATE INDEX role_holders_by_creation_idx
    ON role_holders (organization_id, created_at, id) INCLUDE (first_day, last_day);
CREATE INDEX role_holders_person_idx ON role_holders (id);

CREATE FUNCTION role_holders_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL AND NEW.person_id IS NOT NULL THEN
        INSERT INTO role_holders AS h
        SELECT NEW.id, NEW.organization_id, p.id, p.name, p.created_at,
               partial_date_first(NEW.start_date), partial_date_last(NEW.end_date)
          FROM people AS p WHERE p.id = NEW.person_id
        ON CONFLICT (role_id) DO UPDATE
           SET organization_id = excluded.organization_id, id = excluded.id,
               name = excluded.name, created_at = excluded.created_at,
               first_day = excluded.first_day, last_day = excluded.last_day;
    ELSIF TG_OP <> 'INSERT' THEN
        DELETE FROM role_holders WHERE role_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER role_holders_insert AFTER INSERT ON roles
    FOR EACH ROW EXECUTE FUNCTION role_holders_keep();
CREATE TRIGGER role_holders_update
    AFTER UPDATE OF organization_id, person_id, start_date, end_date, deleted_at ON roles
    FOR EACH ROW EXECUTE FUNCTION role_holders_keep();
CREATE TRIGGER role_holders_delete AFTER DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION role_holders_keep();

CREATE FUNCTION role_holders_rename() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE role_holders SET name = NEW.name WHERE id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER role_holders_rename AFTER UPDATE OF name ON people
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION role_holders_rename();

INSERT INTO role_holders
SELECT r.id, r.organization_id, p.id, p.name, p.created_at,
       partial_date_first(r.start_date), partial_date_last(r.end_date)
  FROM roles AS r JOIN people AS p ON p.id = r.person_id
 WHERE r.deleted_at IS NULL;
