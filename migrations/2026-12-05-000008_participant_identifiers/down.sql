DROP TRIGGER event_participants_external_ids ON event_participants;
DELETE FROM external_ids WHERE entity_type = 'participant';
ALTER TABLE event_participants DROP COLUMN identifiers;
