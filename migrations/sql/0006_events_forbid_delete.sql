CREATE TRIGGER events_forbid_delete BEFORE DELETE ON events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only';
