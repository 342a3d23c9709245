-- Written in the same transaction as the events, so a retried command never appends twice.
CREATE TABLE idempotency_keys (
    idempotency_key VARCHAR(400) NOT NULL PRIMARY KEY,
    first_position BIGINT UNSIGNED NOT NULL,
    last_position BIGINT UNSIGNED NOT NULL,
    recorded_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
