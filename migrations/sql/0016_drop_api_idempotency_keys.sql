-- HTTP Idempotency-Key answers are rebuilt from the event store's own idempotency keys and the
-- first command's events (ADR 6); this table is no longer written or read.
DROP TABLE IF EXISTS api_idempotency_keys;
