-- One row: the last position and hash. Locking it serialises appends, so positions follow commit order.
-- Stream versions need no table of their own: the unique (stream, version) key of events holds them.
CREATE TABLE event_store_head (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_position BIGINT UNSIGNED NOT NULL,
    last_hash BINARY(32) NOT NULL
) ENGINE = InnoDB;
