-- The last position the relay published to JetStream.
CREATE TABLE relay_checkpoints (
    relay VARCHAR(64) NOT NULL PRIMARY KEY,
    position BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB;
