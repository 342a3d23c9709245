-- The rooms read models: live rooms with their registrations, consultation availabilities,
-- bookings (with the ratings each party gave), and the time zone each speaker's availabilities
-- are read in. Video room names are not here: only the join route reads them, from the log.
CREATE TABLE rooms (
    id BINARY(16) NOT NULL PRIMARY KEY,
    host_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    category_id BINARY(16) NOT NULL,
    starts_at DATETIME(6) NOT NULL,
    ends_at DATETIME(6) NOT NULL,
    duration_minutes INT UNSIGNED NOT NULL,
    access_type VARCHAR(8) NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    max_participants INT UNSIGNED NOT NULL,
    registered_count INT UNSIGNED NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL,
    scheduled_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    CONSTRAINT rooms_seats CHECK (registered_count <= max_participants),
    KEY rooms_status (status, starts_at, id),
    KEY rooms_host (host_id, starts_at, id),
    KEY rooms_due (status, ends_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE room_registrations (
    room_id BINARY(16) NOT NULL,
    user_id BINARY(16) NOT NULL,
    registration_id BINARY(16) NOT NULL,
    order_id BINARY(16) NULL,
    registered_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (room_id, user_id),
    KEY room_registrations_user (user_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE consultation_availabilities (
    id BINARY(16) NOT NULL PRIMARY KEY,
    speaker_id BINARY(16) NOT NULL,
    day_of_week CHAR(3) NOT NULL,
    start_time CHAR(5) NOT NULL,
    end_time CHAR(5) NOT NULL,
    session_minutes INT UNSIGNED NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY consultation_availabilities_speaker (speaker_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE consultation_bookings (
    id BINARY(16) NOT NULL PRIMARY KEY,
    speaker_id BINARY(16) NOT NULL,
    student_id BINARY(16) NOT NULL,
    starts_at DATETIME(6) NOT NULL,
    ends_at DATETIME(6) NOT NULL,
    duration_minutes INT UNSIGNED NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    status VARCHAR(16) NOT NULL,
    order_id BINARY(16) NULL,
    student_rating TINYINT UNSIGNED NULL,
    speaker_rating TINYINT UNSIGNED NULL,
    placed_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY consultation_bookings_speaker (speaker_id, starts_at),
    KEY consultation_bookings_student (student_id, starts_at),
    KEY consultation_bookings_due (status, ends_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE speaker_timezones (
    user_id BINARY(16) NOT NULL PRIMARY KEY,
    timezone VARCHAR(64) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
