CREATE OR REPLACE FUNCTION role_holders_keep() RETURNS trigger
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
