CREATE TABLE wallet_balances (
    user_id BINARY(16) NOT NULL PRIMARY KEY,
    balance DECIMAL(15, 2) NOT NULL,
    pending_balance DECIMAL(15, 2) NOT NULL,
    total_earned DECIMAL(15, 2) NOT NULL,
    total_withdrawn DECIMAL(15, 2) NOT NULL,
    currency CHAR(3) NOT NULL,
    last_position BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB;
