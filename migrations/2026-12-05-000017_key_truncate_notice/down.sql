DROP TRIGGER api_key_truncate ON api_keys;
DROP FUNCTION api_key_announce_truncate();
