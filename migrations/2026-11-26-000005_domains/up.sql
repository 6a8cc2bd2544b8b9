-- Every day and instant lies in years 0001-9999 (in UTC): the API refuses
-- others at the edge; these constraints keep any other writer to the same
-- domain. NOT VALID: rows written before are not re-checked here (the
-- change feed renders whatever it finds, see GET /v1/changes).
ALTER TABLE organizations
    ADD CONSTRAINT organizations_founding_date_domain
        CHECK (founding_date BETWEEN '0001-01-01' AND '9999-12-31') NOT VALID,
    ADD CONSTRAINT organizations_dissolution_date_domain
        CHECK (dissolution_date BETWEEN '0001-01-01' AND '9999-12-31') NOT VALID;
ALTER TABLE people
    ADD CONSTRAINT people_birth_date_domain
        CHECK (birth_date BETWEEN '0001-01-01' AND '9999-12-31') NOT VALID;
ALTER TABLE roles
    ADD CONSTRAINT roles_start_date_domain
        CHECK (start_date BETWEEN '0001-01-01' AND '9999-12-31') NOT VALID,
    ADD CONSTRAINT roles_end_date_domain
        CHECK (end_date BETWEEN '0001-01-01' AND '9999-12-31') NOT VALID;
ALTER TABLE events
    ADD CONSTRAINT events_starts_at_domain
        CHECK (starts_at >= '0001-01-01 00:00:00+00' AND starts_at < '10000-01-01 00:00:00+00') NOT VALID,
    ADD CONSTRAINT events_ends_at_domain
        CHECK (ends_at >= '0001-01-01 00:00:00+00' AND ends_at < '10000-01-01 00:00:00+00') NOT VALID;
ALTER TABLE api_keys
    ADD CONSTRAINT api_keys_expires_at_domain
        CHECK (expires_at >= '0001-01-01 00:00:00+00' AND expires_at < '10000-01-01 00:00:00+00') NOT VALID;

-- The journal's snapshots render instants in UTC whatever the session's
-- TimeZone (a zone's local mean time in year 1 has a seconds offset that
-- RFC 3339 cannot write), so they read back as RFC 3339.
ALTER FUNCTION journal_write() SET timezone = 'UTC';

-- The key that signs list and feed cursors, made once, shared by every
-- instance (unless CURSOR_SECRET is set).
CREATE TABLE server_secrets (
    name   text PRIMARY KEY,
    secret bytea NOT NULL CHECK (octet_length(secret) >= 32)
);
