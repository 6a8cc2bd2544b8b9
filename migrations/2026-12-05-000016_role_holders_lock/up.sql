-- role_holders_keep read the holder's name without a lock: a change of a
-- role (its dates, its organization) made while the holder was being
-- renamed read the old name, waited for the rename's row of role_holders
-- and wrote the old name back over the new one once the rename committed.
-- The holder is now read FOR SHARE, which waits for a rename in progress
-- and then reads the name it committed (a rename waits in turn for the
-- role's change, and its own update of role_holders then sees that row).
CREATE OR REPLACE FUNCTION role_holders_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    holder record;
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL AND NEW.person_id IS NOT NULL THEN
        SELECT p.id, p.name, p.created_at INTO holder
          FROM people AS p WHERE p.id = NEW.person_id FOR SHARE;
        IF FOUND THEN
            INSERT INTO role_holders AS h
            VALUES (NEW.id, NEW.organization_id, holder.id, holder.name, holder.created_at,
                    partial_date_first(NEW.start_date), partial_date_last(NEW.end_date))
            ON CONFLICT (role_id) DO UPDATE
               SET organization_id = excluded.organization_id, id = excluded.id,
                   name = excluded.name, created_at = excluded.created_at,
                   first_day = excluded.first_day, last_day = excluded.last_day;
        END IF;
    ELSIF TG_OP <> 'INSERT' THEN
        DELETE FROM role_holders WHERE role_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;

-- Names the race may have left behind.
UPDATE role_holders AS h SET name = p.name
  FROM people AS p
 WHERE p.id = h.id AND h.name IS DISTINCT FROM p.name;
