-- The commerce read models: carts, what each user owns (enrollments and books), and orders
-- with their lines.
CREATE TABLE cart_items (
    id BINARY(16) NOT NULL PRIMARY KEY,
    user_id BINARY(16) NOT NULL,
    item_type VARCHAR(16) NOT NULL,
    item_id BINARY(16) NOT NULL,
    added_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY cart_items_user (user_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE library_items (
    user_id BINARY(16) NOT NULL,
    item_type VARCHAR(16) NOT NULL,
    item_id BINARY(16) NOT NULL,
    order_id BINARY(16) NOT NULL,
    order_item_id BINARY(16) NOT NULL,
    acquired_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (user_id, item_type, item_id),
    KEY library_items_user (user_id, item_type, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE orders (
    id BINARY(16) NOT NULL PRIMARY KEY,
    buyer_id BINARY(16) NOT NULL,
    subtotal DECIMAL(15, 2) NOT NULL,
    vat_amount DECIMAL(15, 2) NOT NULL,
    total DECIMAL(15, 2) NOT NULL,
    refunded_amount DECIMAL(15, 2) NOT NULL DEFAULT 0,
    status VARCHAR(24) NOT NULL,
    invoice_id BINARY(16) NULL,
    commission_rate DECIMAL(5, 4) NOT NULL,
    placed_at DATETIME(6) NOT NULL,
    position BIGINT UNSIGNED NOT NULL,
    KEY orders_buyer (buyer_id, position),
    KEY orders_position (position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE order_items (
    id BINARY(16) NOT NULL PRIMARY KEY,
    order_id BINARY(16) NOT NULL,
    line INT UNSIGNED NOT NULL,
    item_type VARCHAR(16) NOT NULL,
    item_id BINARY(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    speaker_id BINARY(16) NOT NULL,
    unit_price DECIMAL(15, 2) NOT NULL,
    quantity INT UNSIGNED NOT NULL,
    net DECIMAL(15, 2) NOT NULL,
    vat DECIMAL(15, 2) NOT NULL,
    commission DECIMAL(15, 2) NOT NULL,
    earning DECIMAL(15, 2) NOT NULL,
    placed_at DATETIME(6) NOT NULL,
    refunded_at DATETIME(6) NULL,
    KEY order_items_order (order_id, line),
    KEY order_items_speaker (speaker_id, placed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
