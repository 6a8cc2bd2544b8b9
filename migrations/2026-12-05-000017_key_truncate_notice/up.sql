-- TRUNCATE removes keys without row triggers: it is announced as a change
-- of every key ('*', which no prefix can be: prefixes are hex digits).
CREATE FUNCTION api_key_announce_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_key_changes', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER api_key_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_key_announce_truncate();
