-- Journal rows of areas and posts stay (the audit trail keeps them); their
-- identifiers leave external_ids with their tables.
DELETE FROM external_ids WHERE entity_type IN ('post', 'area');
ALTER TABLE organizations DROP COLUMN area_id;
ALTER TABLE roles DROP COLUMN post_id;
DROP TABLE posts;
DROP TABLE areas;
