DROP FUNCTION rate_limit_take(uuid, integer);
DROP TABLE rate_limits;
