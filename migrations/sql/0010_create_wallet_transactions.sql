CREATE TABLE wallet_transactions (
    id BINARY(16) NOT NULL PRIMARY KEY,
    position BIGINT UNSIGNED NOT NULL,
    user_id BINARY(16) NOT NULL,
    direction VARCHAR(6) NOT NULL,
    category VARCHAR(32) NOT NULL,
    amount DECIMAL(15, 2) NOT NULL,
    balance_after DECIMAL(15, 2) NOT NULL,
    pending_balance_after DECIMAL(15, 2) NOT NULL,
    reference VARCHAR(64) NOT NULL,
    related_type VARCHAR(32) NOT NULL,
    related_id BINARY(16) NOT NULL,
    description VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY wallet_transactions_position (position),
    KEY wallet_transactions_user (user_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
