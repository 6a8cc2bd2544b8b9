DROP TABLE server_secrets;
ALTER FUNCTION journal_write() RESET timezone;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_expires_at_domain;
ALTER TABLE events DROP CONSTRAINT events_starts_at_domain, DROP CONSTRAINT events_ends_at_domain;
ALTER TABLE roles DROP CONSTRAINT roles_start_date_domain, DROP CONSTRAINT roles_end_date_domain;
ALTER TABLE people DROP CONSTRAINT people_birth_date_domain;
ALTER TABLE organizations DROP CONSTRAINT organizations_founding_date_domain,
    DROP CONSTRAINT organizations_dissolution_date_domain;
