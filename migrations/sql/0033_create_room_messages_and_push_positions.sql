-- The chat of live rooms, and what the WebSocket gateway reads to push: every row a frame comes
-- from carries the position of the event that made it (or last changed it), indexed, so the
-- gateway reads what a range of positions produced with one query per table.
CREATE TABLE room_messages (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    room_id BINARY(16) NOT NULL,
    author_id BINARY(16) NOT NULL,
    type VARCHAR(8) NOT NULL,
    body TEXT NULL,
    parent_id BINARY(16) NULL,
    is_pinned BOOLEAN NOT NULL DEFAULT FALSE,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    -- The position of the last pin, unpin or deletion.
    changed_seq BIGINT UNSIGNED NULL,
    UNIQUE KEY room_messages_seq (seq),
    KEY room_messages_room (room_id, seq),
    KEY room_messages_changed (changed_seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The position of a chat message's deletion.
ALTER TABLE messages ADD COLUMN changed_seq BIGINT UNSIGNED NULL, ADD KEY messages_changed (changed_seq);

ALTER TABLE notifications ADD KEY notifications_seq (seq);

-- The position of the revocation: the gateway closes the sockets of tokens revoked in a range.
-- Tokens revoked before this column existed keep 0, below any range it reads.
ALTER TABLE revoked_tokens ADD COLUMN position BIGINT UNSIGNED NOT NULL DEFAULT 0, ADD KEY revoked_tokens_position (position);
