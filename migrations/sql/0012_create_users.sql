-- The users read model: one row per registered user. No password hash: login reads the event
-- store. Email and username compare byte for byte, as the event store's reservation streams do,
-- so a value the store accepted as unique is unique here too.
CREATE TABLE users (
    id BINARY(16) NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    username VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    email VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    roles VARCHAR(64) NOT NULL,
    is_admin TINYINT(1) NOT NULL,
    language CHAR(2) NOT NULL,
    registered_at DATETIME(6) NOT NULL,
    last_position BIGINT UNSIGNED NOT NULL,
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_email (email),
    KEY users_is_admin (is_admin)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
