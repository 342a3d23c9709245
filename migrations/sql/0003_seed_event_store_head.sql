INSERT INTO event_store_head (id, last_position, last_hash) VALUES (1, 0, REPEAT(CHAR(0), 32));
