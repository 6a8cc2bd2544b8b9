-- Rate limits shared by every instance of the service: one row per API key
-- holding its "theoretical arrival time" (GCRA, the algorithm of a token
-- bucket refilled continuously). A key may send `per_minute` requests at
-- once, then one more every 60 / per_minute seconds.
--
-- UNLOGGED: the rows are not written to the WAL (an allowed request's
-- transaction writes only its commit record) and are emptied after a
-- crash, which only forgives every key its recent requests. Replicas do
-- not have them; only the primary limits.
CREATE UNLOGGED TABLE rate_limits (
    key_id uuid PRIMARY KEY,
    tat    timestamptz NOT NULL
);

-- Takes one request of `key`'s allowance of `per_minute` requests a
-- minute. Returns 0 when the request may go ahead, otherwise the seconds
-- until it would be allowed (nothing is taken then). A refusal that a plain
-- read already shows writes nothing (no transaction id, no WAL: a flood of
-- refused requests costs reads only); the write's row lock makes
-- concurrent requests of one key take their turns, whichever instance
-- serves them.
CREATE FUNCTION rate_limit_take(key uuid, per_minute integer)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    step   interval := interval '60 seconds' / per_minute;
    burst  interval := interval '60 seconds';
    now_at timestamptz := clock_timestamp();
    held   timestamptz;
BEGIN
    -- Only writes raise `tat`, so a refusal seen now stands.
    SELECT tat INTO held FROM rate_limits WHERE key_id = key;
    IF FOUND AND greatest(held, now_at) + step > now_at + burst THEN
        RETURN greatest(extract(epoch FROM held + step - burst - now_at), 0.001);
    END IF;
    INSERT INTO rate_limits AS r (key_id, tat) VALUES (key, now_at + step)
    ON CONFLICT (key_id) DO UPDATE
        SET tat = greatest(r.tat, now_at) + step
        WHERE greatest(r.tat, now_at) + step <= now_at + burst;
    IF FOUND THEN
        RETURN 0;
    END IF;
    SELECT tat INTO held FROM rate_limits WHERE key_id = key;
    RETURN greatest(extract(epoch FROM held + step - burst - now_at), 0.001);
END
$$;
