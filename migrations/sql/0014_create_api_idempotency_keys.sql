-- The HTTP layer's stored answers to money-moving POSTs, per user and Idempotency-Key.
CREATE TABLE api_idempotency_keys (
    user_id BINARY(16) NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    fingerprint BINARY(32) NOT NULL,
    status SMALLINT UNSIGNED NULL,
    response LONGTEXT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
