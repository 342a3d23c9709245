-- Signed sum of postings per ledger account (debit positive, credit negative).
CREATE TABLE ledger_account_balances (
    account VARCHAR(96) NOT NULL PRIMARY KEY,
    balance DECIMAL(20, 2) NOT NULL,
    last_position BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB;
