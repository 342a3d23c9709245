-- Whether a room's registrants were told it starts soon: the scheduler looks for scheduled rooms
-- starting within the reminder's minutes that were not.
ALTER TABLE rooms ADD COLUMN reminded BOOLEAN NOT NULL DEFAULT FALSE;
