DROP TRIGGER people_name_grams_truncate ON people;
DROP TRIGGER people_name_grams_delete ON people;
DROP TRIGGER people_name_grams_update ON people;
DROP TRIGGER people_name_grams_insert ON people;
DROP FUNCTION people_name_grams_truncate();
DROP FUNCTION people_name_grams_sync();
DROP FUNCTION name_grams(text);

DELETE FROM people_name_grams WHERE char_length(gram) <> 1;
ALTER INDEX people_name_grams_pkey RENAME TO people_characters_pkey;
ALTER TABLE people_name_grams RENAME COLUMN gram TO character;
ALTER TABLE people_name_grams RENAME TO people_characters;

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

-- TRUNCATE people (tests, imports starting over) empties it too.
CREATE FUNCTION people_characters_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE people_characters;
  RETURN NULL;
END $$;
CREATE TRIGGER people_characters_truncate AFTER TRUNCATE ON people
  FOR EACH STATEMENT EXECUTE FUNCTION people_characters_truncate();
