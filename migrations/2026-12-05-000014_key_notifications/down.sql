DROP TRIGGER api_key_changes ON api_keys;
DROP FUNCTION api_key_announce_change();
