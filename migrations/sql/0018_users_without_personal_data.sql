-- An erased user keeps their row, without personal data: no username, no email.
ALTER TABLE users
    MODIFY username VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    MODIFY email VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN is_erased TINYINT(1) NOT NULL DEFAULT 0 AFTER email;
