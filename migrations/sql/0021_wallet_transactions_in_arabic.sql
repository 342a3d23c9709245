-- Each transaction's description in Arabic beside the English one: readers get their language.
ALTER TABLE wallet_transactions ADD COLUMN description_ar VARCHAR(255) NOT NULL DEFAULT '' AFTER description;
