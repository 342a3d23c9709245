-- One row: the last position and hash. Locking it serialises appends, so positions follow commit order.
CREATE TABLE event_store_head (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_position BIGINT UNSIGNED NOT NULL,
    last_hash BINARY(32) NOT NULL
) ENGINE = InnoDB;
