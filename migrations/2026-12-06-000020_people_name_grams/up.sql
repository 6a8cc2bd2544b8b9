-- Searches of two characters in name order, as migration 19 did for one.
-- A common pair (a given name such as 王伟, in one name of 600) matches too
-- many rows for the grams index to fetch and sort within a page's time.
-- The table of migration 19 now lists each live person under every
-- character AND every pair of adjacent characters of their names
-- (lower-cased, as ILIKE compares; grams holding white space left out, as
-- no search term holds any), so a page of the people whose names contain
-- a term of one or two characters is one walk of its primary key.
ALTER TABLE people_characters RENAME TO people_name_grams;
ALTER TABLE people_name_grams RENAME COLUMN character TO gram;
ALTER INDEX people_characters_pkey RENAME TO people_name_grams_pkey;

DROP TRIGGER people_characters_insert ON people;
DROP TRIGGER people_characters_update ON people;
DROP TRIGGER people_characters_delete ON people;
DROP TRIGGER people_characters_truncate ON people;
DROP FUNCTION people_characters_sync();
DROP FUNCTION people_characters_truncate();
DROP FUNCTION name_characters(text);

-- The distinct grams of one and two characters of `value`, lower-cased,
-- without white space.
CREATE FUNCTION name_grams(value text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT DISTINCT g
    FROM (SELECT lower(value) AS v) AS lowered,
         generate_series(1, char_length(lowered.v)) AS i,
         (VALUES (1), (2)) AS width (n),
         substr(lowered.v, i, n) AS g
   WHERE i + n - 1 <= char_length(lowered.v)
     AND g !~ '\s' $$;

CREATE FUNCTION people_name_grams_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
    DELETE FROM people_name_grams
     WHERE gram IN (SELECT name_grams(OLD.search_text))
       AND name = OLD.name AND id = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
    INSERT INTO people_name_grams (gram, name, id)
    SELECT g, NEW.name, NEW.id FROM name_grams(NEW.search_text) AS g;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER people_name_grams_insert AFTER INSERT ON people
  FOR EACH ROW EXECUTE FUNCTION people_name_grams_sync();
CREATE TRIGGER people_name_grams_update AFTER UPDATE ON people
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name
                     OR OLD.search_text IS DISTINCT FROM NEW.search_text
                     OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION people_name_grams_sync();
CREATE TRIGGER people_name_grams_delete AFTER DELETE ON people
  FOR EACH ROW EXECUTE FUNCTION people_name_grams_sync();

-- TRUNCATE people (tests, imports starting over) empties it too.
CREATE FUNCTION people_name_grams_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE people_name_grams;
  RETURN NULL;
END $$;
CREATE TRIGGER people_name_grams_truncate AFTER TRUNCATE ON people
  FOR EACH STATEMENT EXECUTE FUNCTION people_name_grams_truncate();

-- The pairs of the people there are (their characters are listed already).
INSERT INTO people_name_grams (gram, name, id)
SELECT g, p.name, p.id FROM people AS p, name_grams(p.search_text) AS g
 WHERE p.deleted_at IS NULL AND char_length(g) = 2;
