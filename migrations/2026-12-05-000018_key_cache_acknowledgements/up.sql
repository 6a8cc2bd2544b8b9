-- A revocation through the API answers only once every server that caches
-- keys has dropped its copy. Each such server registers here while it
-- listens on `api_key_changes`, renewing a short lease (and serving no
-- cached key once its lease has run out without renewal). After a key
-- change commits, the revoking server announces a probe on the same
-- channel; PostgreSQL delivers notifications in commit order, so a server
-- that acknowledges the probe (a row below) has processed the change.
CREATE TABLE key_cache_listeners (
    id uuid PRIMARY KEY,
    lease_until timestamptz NOT NULL
);

CREATE TABLE key_cache_acks (
    probe uuid NOT NULL,
    listener uuid NOT NULL,
    acked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (probe, listener)
);
