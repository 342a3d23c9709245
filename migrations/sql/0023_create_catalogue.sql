-- The catalogue read models: categories, courses with their sections and lessons, and books.
-- `search_text` holds the title and description normalised as catalogue search compares them
-- (domain::catalogue::search), compared byte for byte. Sections and lessons are ordered by the
-- position of the event that added them. Ratings are kept by the learning context's reviews; until
-- then they stay 0.
CREATE TABLE categories (
    id BINARY(16) NOT NULL PRIMARY KEY,
    name_en VARCHAR(100) NOT NULL,
    name_ar VARCHAR(100) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY categories_position (position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE courses (
    id BINARY(16) NOT NULL PRIMARY KEY,
    speaker_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    search_text TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    category_id BINARY(16) NOT NULL,
    language CHAR(2) NOT NULL,
    level VARCHAR(16) NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    discount_price DECIMAL(15, 2) NULL,
    effective_price DECIMAL(15, 2) NOT NULL,
    status VARCHAR(16) NOT NULL,
    total_lessons INT UNSIGNED NOT NULL DEFAULT 0,
    students_count INT UNSIGNED NOT NULL DEFAULT 0,
    average_rating DECIMAL(3, 2) NOT NULL DEFAULT 0,
    reviews_count INT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    published_at DATETIME(6) NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY courses_listed (status, published_at),
    KEY courses_category (status, category_id),
    KEY courses_speaker (speaker_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE course_sections (
    id BINARY(16) NOT NULL PRIMARY KEY,
    course_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY course_sections_course (course_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE course_lessons (
    id BINARY(16) NOT NULL PRIMARY KEY,
    course_id BINARY(16) NOT NULL,
    section_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    content_type VARCHAR(16) NOT NULL,
    content_url VARCHAR(2048) NOT NULL,
    duration_seconds INT UNSIGNED NOT NULL,
    is_preview TINYINT(1) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY course_lessons_course (course_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE books (
    id BINARY(16) NOT NULL PRIMARY KEY,
    speaker_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    search_text TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    category_id BINARY(16) NOT NULL,
    author VARCHAR(200) NOT NULL,
    isbn VARCHAR(13) NULL,
    page_count INT UNSIGNED NOT NULL,
    preview_pages INT UNSIGNED NOT NULL,
    price DECIMAL(15, 2) NOT NULL,
    discount_price DECIMAL(15, 2) NULL,
    effective_price DECIMAL(15, 2) NOT NULL,
    cover_url VARCHAR(2048) NULL,
    pdf_url VARCHAR(2048) NULL,
    status VARCHAR(16) NOT NULL,
    purchases_count INT UNSIGNED NOT NULL DEFAULT 0,
    average_rating DECIMAL(3, 2) NOT NULL DEFAULT 0,
    reviews_count INT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    published_at DATETIME(6) NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY books_listed (status, published_at),
    KEY books_category (status, category_id),
    KEY books_speaker (speaker_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
