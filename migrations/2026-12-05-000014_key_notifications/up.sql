-- Servers cache API keys in memory (see the server's auth module). Every
-- change of a key — revocation, any column, deletion, whoever makes it:
-- the API, the `keys` command or plain SQL — is announced to them on the
-- channel `api_key_changes` with the key's prefix, delivered when the
-- change commits, so that each server drops its copy at once. Recording a
-- key's use (`last_used_at` alone) changes nothing a server decides on.
CREATE FUNCTION api_key_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND to_jsonb(OLD) - 'last_used_at' = to_jsonb(NEW) - 'last_used_at' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('api_key_changes', OLD.prefix);
    IF TG_OP = 'UPDATE' AND NEW.prefix IS DISTINCT FROM OLD.prefix THEN
        PERFORM pg_notify('api_key_changes', NEW.prefix);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER api_key_changes AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_key_announce_change();
