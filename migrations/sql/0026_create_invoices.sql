-- The invoicing read models: tax invoices and credit notes with their lines, the counters of
-- each series (kind and Riyadh year) that number them without gaps, and the seller of record as
-- the log recorded it over time.
CREATE TABLE invoices (
    id BINARY(16) NOT NULL PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,
    year SMALLINT UNSIGNED NOT NULL,
    sequence BIGINT UNSIGNED NOT NULL,
    issued_at DATETIME(6) NOT NULL,
    buyer_id BINARY(16) NOT NULL,
    -- The sale it documents: an order, a registration, a booking, a gift.
    source_type VARCHAR(16) NOT NULL,
    source_id BINARY(16) NOT NULL,
    subtotal DECIMAL(15, 2) NOT NULL,
    vat_amount DECIMAL(15, 2) NOT NULL,
    total DECIMAL(15, 2) NOT NULL,
    -- On an invoice: what its credit notes took back so far; never more than its total.
    credited_total DECIMAL(15, 2) NOT NULL DEFAULT 0,
    original_invoice_id BINARY(16) NULL,
    reason VARCHAR(2000) NULL,
    -- The seller recorded last before it (NULL: none was, the first one recorded applies).
    seller_position BIGINT UNSIGNED NULL,
    position BIGINT UNSIGNED NOT NULL,
    UNIQUE KEY invoices_number (kind, year, sequence),
    KEY invoices_buyer (buyer_id, issued_at),
    KEY invoices_issued (issued_at),
    KEY invoices_source (source_type, source_id),
    CONSTRAINT invoices_credit_within_total CHECK (credited_total <= total),
    CONSTRAINT invoices_lines_add_up CHECK (subtotal + vat_amount = total)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE invoice_lines (
    invoice_id BINARY(16) NOT NULL,
    line SMALLINT UNSIGNED NOT NULL,
    source_line_id BINARY(16) NOT NULL,
    description VARCHAR(800) NOT NULL,
    quantity INT UNSIGNED NOT NULL,
    unit_price DECIMAL(15, 2) NOT NULL,
    net DECIMAL(15, 2) NOT NULL,
    vat DECIMAL(15, 2) NOT NULL,
    total DECIMAL(15, 2) NOT NULL,
    -- Set on an invoice's line once a credit note takes it.
    credited_by BINARY(16) NULL,
    PRIMARY KEY (invoice_id, line),
    CONSTRAINT invoice_lines_add_up CHECK (net + vat = total)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE invoice_series (
    kind VARCHAR(16) NOT NULL,
    year SMALLINT UNSIGNED NOT NULL,
    last_sequence BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (kind, year)
) ENGINE = InnoDB;

CREATE TABLE invoice_sellers (
    position BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    name_en VARCHAR(255) NOT NULL,
    vat_number CHAR(15) NOT NULL,
    address VARCHAR(500) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
