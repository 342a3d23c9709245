-- The social read models: a profile row per user (what they wrote about themselves, privacy,
-- interests and the counts kept by the projector), follows and waiting follow requests, posts
-- (ordered by `seq`, the position of their creation, so pages never shift), reactions, comments
-- and reports. What people wrote is NULL once its author is erased.
CREATE TABLE profiles (
    user_id BINARY(16) NOT NULL PRIMARY KEY,
    headline VARCHAR(150) NULL,
    bio TEXT NULL,
    location VARCHAR(100) NULL,
    social_links TEXT NOT NULL,
    avatar_url VARCHAR(2048) NULL,
    cover_url VARCHAR(2048) NULL,
    expertise TEXT NOT NULL,
    interests TEXT NOT NULL,
    is_private BOOLEAN NOT NULL DEFAULT FALSE,
    followers_count INT UNSIGNED NOT NULL DEFAULT 0,
    following_count INT UNSIGNED NOT NULL DEFAULT 0,
    posts_count INT UNSIGNED NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE follows (
    follower_id BINARY(16) NOT NULL,
    followee_id BINARY(16) NOT NULL,
    followed_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    KEY follows_followee (followee_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE follow_requests (
    id BINARY(16) NOT NULL PRIMARY KEY,
    followee_id BINARY(16) NOT NULL,
    follower_id BINARY(16) NOT NULL,
    requested_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY follow_requests_followee (followee_id, position),
    KEY follow_requests_follower (follower_id, followee_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE posts (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    author_id BINARY(16) NOT NULL,
    type VARCHAR(8) NOT NULL,
    content TEXT NULL,
    media_urls TEXT NOT NULL,
    shared_post_id BINARY(16) NULL,
    reactions_count INT UNSIGNED NOT NULL DEFAULT 0,
    comments_count INT UNSIGNED NOT NULL DEFAULT 0,
    shares_count INT UNSIGNED NOT NULL DEFAULT 0,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    is_hidden BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    edited_at DATETIME(6) NULL,
    UNIQUE KEY posts_seq (seq),
    KEY posts_author (author_id, seq),
    KEY posts_shared (shared_post_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE post_reactions (
    post_id BINARY(16) NOT NULL,
    user_id BINARY(16) NOT NULL,
    reaction VARCHAR(8) NOT NULL,
    PRIMARY KEY (post_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE comments (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    post_id BINARY(16) NOT NULL,
    parent_id BINARY(16) NULL,
    author_id BINARY(16) NOT NULL,
    body TEXT NULL,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    replies_count INT UNSIGNED NOT NULL DEFAULT 0,
    reactions_count INT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    KEY comments_thread (post_id, parent_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE comment_reactions (
    comment_id BINARY(16) NOT NULL,
    user_id BINARY(16) NOT NULL,
    reaction VARCHAR(8) NOT NULL,
    PRIMARY KEY (comment_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE post_reports (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    post_id BINARY(16) NOT NULL,
    reporter_id BINARY(16) NOT NULL,
    reason VARCHAR(16) NOT NULL,
    details TEXT NULL,
    status VARCHAR(8) NOT NULL,
    action VARCHAR(16) NULL,
    resolved_by BINARY(16) NULL,
    created_at DATETIME(6) NOT NULL,
    resolved_at DATETIME(6) NULL,
    KEY post_reports_status (status, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The gifts read models: the catalogue, and every gift sent (both sides read it).
CREATE TABLE gifts (
    id BINARY(16) NOT NULL PRIMARY KEY,
    name_en VARCHAR(200) NOT NULL,
    name_ar VARCHAR(200) NOT NULL,
    icon_url VARCHAR(2048) NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    sort_order INT UNSIGNED NOT NULL,
    is_active BOOLEAN NOT NULL,
    KEY gifts_order (is_active, sort_order)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE gift_transfers (
    id BINARY(16) NOT NULL PRIMARY KEY,
    seq BIGINT UNSIGNED NOT NULL,
    gift_id BINARY(16) NOT NULL,
    sender_id BINARY(16) NOT NULL,
    receiver_id BINARY(16) NOT NULL,
    quantity INT UNSIGNED NOT NULL,
    unit_price DECIMAL(15, 2) NOT NULL,
    total DECIMAL(15, 2) NOT NULL,
    message TEXT NULL,
    context_type VARCHAR(16) NULL,
    context_id BINARY(16) NULL,
    order_id BINARY(16) NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    KEY gift_transfers_sender (sender_id, seq),
    KEY gift_transfers_receiver (receiver_id, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
