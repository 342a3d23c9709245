-- Each projector's last applied position, written in the same transaction as its rows.
CREATE TABLE projector_checkpoints (
    projector VARCHAR(64) NOT NULL PRIMARY KEY,
    version INT UNSIGNED NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE = InnoDB;
