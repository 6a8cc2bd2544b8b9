DROP TABLE key_cache_acks;
DROP TABLE key_cache_listeners;
