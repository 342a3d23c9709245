-- The store's own identity: fan-out names, lock names and message checks are derived from it, so
-- deployments sharing a NATS server or a MariaDB server never take each other's events or locks.
CREATE TABLE event_store_identity (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    store_id BINARY(16) NOT NULL
) ENGINE = InnoDB;
