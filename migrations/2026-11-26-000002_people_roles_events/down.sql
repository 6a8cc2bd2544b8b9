DROP TABLE event_participants;
DROP TABLE events;
DROP TABLE roles;
DROP TABLE people;
