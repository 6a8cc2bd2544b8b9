DROP TRIGGER api_keys_journal ON api_keys;
DROP TRIGGER event_participants_journal ON event_participants;
DROP TRIGGER events_journal ON events;
DROP TRIGGER roles_journal ON roles;
DROP TRIGGER people_journal ON people;
DROP TRIGGER organizations_journal ON organizations;
DROP FUNCTION journal_write();
DROP TABLE journal;
DROP TABLE api_keys;
