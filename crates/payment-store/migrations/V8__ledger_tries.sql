-- How often the ledger refused a payment's posting into suspense: each try after a stored
-- refusal posts under a new ledger id (the ledger answers a retried id with its refusal).
ALTER TABLE pay_payments ADD COLUMN ledger_tries BIGINT NOT NULL DEFAULT 0;
