-- The event store: append-only, one row per event, position = gap-free global commit order.
CREATE TABLE events (
    position BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    event_id BINARY(16) NOT NULL,
    stream_type VARCHAR(64) NOT NULL,
    stream_id VARCHAR(64) NOT NULL,
    stream_version BIGINT UNSIGNED NOT NULL,
    event_type VARCHAR(128) NOT NULL,
    schema_version SMALLINT UNSIGNED NOT NULL,
    payload LONGTEXT NOT NULL,
    metadata LONGTEXT NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    hash BINARY(32) NOT NULL,
    UNIQUE KEY events_event_id (event_id),
    UNIQUE KEY events_stream_version (stream_type, stream_id, stream_version)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
