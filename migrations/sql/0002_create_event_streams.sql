-- Current version of every stream, read under the head lock to check expected versions.
CREATE TABLE event_streams (
    stream_type VARCHAR(64) NOT NULL,
    stream_id VARCHAR(64) NOT NULL,
    version BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (stream_type, stream_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
