-- Tokens revoked at logout, until they expire; revoked_at is when the event was recorded.
CREATE TABLE revoked_tokens (
    token_id BINARY(16) NOT NULL PRIMARY KEY,
    user_id BINARY(16) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6) NOT NULL,
    KEY revoked_tokens_user (user_id),
    KEY revoked_tokens_expires (expires_at)
) ENGINE = InnoDB;
