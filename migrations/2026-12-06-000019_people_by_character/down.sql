DROP TRIGGER people_characters_truncate ON people;
DROP TRIGGER people_characters_delete ON people;
DROP TRIGGER people_characters_update ON people;
DROP TRIGGER people_characters_insert ON people;
DROP FUNCTION people_characters_truncate();
DROP FUNCTION people_characters_sync();
DROP FUNCTION name_characters(text);
DROP TABLE people_characters;
