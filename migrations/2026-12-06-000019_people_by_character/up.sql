-- Searches of one character in name order. The grams index finds the
-- people with a character, but a common one (a surname: 王 in one name of
-- ten) matches too many rows to fetch and sort, while walking the names
-- in order reaches them late: names beginning with it are contiguous in
-- that order. This table lists each live person (`id`) under every
-- character of their names (lower-cased, as ILIKE compares; white space
-- left out), ordered by name, so a page of the people whose names contain
-- a character is one walk of its primary key, however common the
-- character.
CREATE TABLE people_characters (
    character text NOT NULL,
    name      text NOT NULL,
    id        uuid NOT NULL,
    PRIMARY KEY (character, name, id)
);

-- The distinct characters of `value`, lower-cased, without white space.
CREATE FUNCTION name_characters(value text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT DISTINCT c
    FROM (SELECT substr(lower(value), i, 1) AS c
            FROM generate_series(1, char_length(lower(value))) AS i) AS characters
   WHERE c !~ '\s' $$;

CREATE FUNCTION people_characters_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
    DELETE FROM people_characters
     WHERE character IN (SELECT name_characters(OLD.search_text))
       AND name = OLD.name AND id = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
    INSERT INTO people_characters (character, name, id)
    SELECT c, NEW.name, NEW.id FROM name_characters(NEW.search_text) AS c;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER people_characters_insert AFTER INSERT ON people
  FOR EACH ROW EXECUTE FUNCTION people_characters_sync();
CREATE TRIGGER people_characters_update AFTER UPDATE ON people
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name
                     OR OLD.search_text IS DISTINCT FROM NEW.search_text
                     OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION people_characters_sync();
CREATE TRIGGER people_characters_delete AFTER DELETE ON people
  FOR EACH ROW EXECUTE FUNCTION people_characters_sync();

INSERT INTO people_characters (character, name, id)
SELECT c, p.name, p.id FROM people AS p, name_characters(p.search_text) AS c
 WHERE p.deleted_at IS NULL;

-- TRUNCATE people (tests, imports starting over) empties it too.
CREATE FUNCTION people_characters_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE people_characters;
  RETURN NULL;
END $$;
CREATE TRIGGER people_characters_truncate AFTER TRUNCATE ON people
  FOR EACH STATEMENT EXECUTE FUNCTION people_characters_truncate();
