-- Each import (POST /v1/imports), dry runs included: who sent it, when,
-- in which format, how many records, and what it did to each resource.
-- The records it changed are in the journal like any other change.
CREATE TABLE imports (
    id         uuid PRIMARY KEY,
    key_id     uuid NOT NULL REFERENCES api_keys (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    dry_run    boolean NOT NULL,
    format     text NOT NULL CHECK (format IN ('json', 'ndjson', 'csv')),
    records    integer NOT NULL CHECK (records >= 0),
    counts     jsonb NOT NULL CHECK (jsonb_typeof(counts) = 'object')
);
