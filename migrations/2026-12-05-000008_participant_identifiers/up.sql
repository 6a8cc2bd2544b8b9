-- Participants carry external identifiers like the other records, so a
-- re-run import (or a syncing system) upserts them instead of adding them
-- again.
ALTER TABLE event_participants ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(identifiers) = 'array');
CREATE INDEX event_participants_identifiers_idx
    ON event_participants USING gin (identifiers jsonb_path_ops);
CREATE TRIGGER event_participants_external_ids
    AFTER INSERT OR UPDATE OF identifiers, deleted_at
    ON event_participants FOR EACH ROW EXECUTE FUNCTION external_ids_sync('participant');
