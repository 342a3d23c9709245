-- Each data subject's key for their personal values in events, wrapped with DATA_KEY_SECRET.
-- Outside the log on purpose: erasing a person sets wrapped_key to NULL (a tombstone, so the key is
-- never made again), and everything sealed with it becomes unreadable while the chain stays whole.
CREATE TABLE data_keys (
    subject BINARY(16) NOT NULL PRIMARY KEY,
    wrapped_key VARBINARY(128) NULL,
    created_at DATETIME(6) NOT NULL,
    erased_at DATETIME(6) NULL
) ENGINE = InnoDB;
