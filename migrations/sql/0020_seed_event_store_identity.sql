INSERT INTO event_store_identity (id, store_id) VALUES (1, UNHEX(REPLACE(UUID(), '-', '')));
