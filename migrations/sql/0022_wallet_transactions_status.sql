-- An earning is pending until it is released (then completed) or reversed; every other
-- transaction is completed when it happens.
ALTER TABLE wallet_transactions ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'completed' AFTER category;
