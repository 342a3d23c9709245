-- Withdrawal requests and their decisions, for the admins who approve or reject them.
CREATE TABLE withdrawals (
    id BINARY(16) NOT NULL PRIMARY KEY,
    user_id BINARY(16) NOT NULL,
    amount DECIMAL(15, 2) NOT NULL,
    status VARCHAR(16) NOT NULL,
    requested_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6) NULL,
    last_position BIGINT UNSIGNED NOT NULL,
    KEY withdrawals_status (status, requested_at)
) ENGINE = InnoDB;
