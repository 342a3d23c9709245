-- In-app notifications, one row per recipient of an event that notifies (its id derived from the
-- event and the recipient, so a redelivery inserts nothing), and the little the projector keeps
-- to know recipients: who wrote each post and comment, and who is in each conversation. The
-- message is not stored: it is written in the reader's language when read.
CREATE TABLE notifications (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    user_id BINARY(16) NOT NULL,
    type VARCHAR(32) NOT NULL,
    actor_id BINARY(16) NULL,
    subject_type VARCHAR(16) NOT NULL,
    subject_id BINARY(16) NOT NULL,
    read_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    KEY notifications_inbox (user_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE notification_authors (
    subject_id BINARY(16) NOT NULL PRIMARY KEY,
    author_id BINARY(16) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE notification_conversations (
    conversation_id BINARY(16) NOT NULL,
    user_id BINARY(16) NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
