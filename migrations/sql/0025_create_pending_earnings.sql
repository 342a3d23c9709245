-- Earnings not released yet, for the scheduler that releases them: it asks which wallets have
-- one due, then lets each wallet decide on its own events.
CREATE TABLE pending_earnings (
    earning_id BINARY(16) NOT NULL PRIMARY KEY,
    user_id BINARY(16) NOT NULL,
    amount DECIMAL(15, 2) NOT NULL,
    release_at DATETIME(6) NOT NULL,
    KEY pending_earnings_due (release_at, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
