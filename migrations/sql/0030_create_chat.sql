-- The chat read models: a conversation per pair with its last message, a row per participant
-- (who the other is, what they have not read, when the conversation last moved, for their
-- inbox), and the messages in log order. A deleted message stays, emptied; an erased sender's
-- bodies are NULL.
CREATE TABLE conversations (
    id BINARY(16) NOT NULL PRIMARY KEY,
    started_at DATETIME(6) NOT NULL,
    last_message_id BINARY(16) NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE conversation_members (
    conversation_id BINARY(16) NOT NULL,
    user_id BINARY(16) NOT NULL,
    other_id BINARY(16) NOT NULL,
    unread_count INT UNSIGNED NOT NULL DEFAULT 0,
    last_activity_seq BIGINT UNSIGNED NULL,
    PRIMARY KEY (conversation_id, user_id),
    KEY conversation_members_inbox (user_id, last_activity_seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE messages (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    conversation_id BINARY(16) NOT NULL,
    sender_id BINARY(16) NOT NULL,
    type VARCHAR(8) NOT NULL,
    body TEXT NULL,
    media_urls TEXT NOT NULL,
    reply_to_id BINARY(16) NULL,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY messages_seq (seq),
    KEY messages_conversation (conversation_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
