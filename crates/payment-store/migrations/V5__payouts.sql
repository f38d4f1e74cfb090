-- Payouts (出款): money from a merchant's account to a bank account. One row per payout,
-- one row per channel order (a person's reroute after a definitive failure adds one), each
-- with the ledger hold that guards it. (V4 is the notification outbox.)
CREATE TABLE pay_payouts (
    id TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    bank_account TEXT NOT NULL,
    requested_channel TEXT,
    notify_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_check_at BIGINT,
    failure_code TEXT,
    failure_message TEXT,
    anomalies TEXT NOT NULL
);
CREATE INDEX pay_payouts_by_merchant ON pay_payouts (merchant, created_at);
CREATE INDEX pay_payouts_to_check ON pay_payouts (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE pay_payout_attempts (
    channel_order_no TEXT PRIMARY KEY,
    payout_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The routing decision, JSON.
    route TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    sends BIGINT NOT NULL,
    queries BIGINT NOT NULL,
    bank_ref TEXT,
    failure_code TEXT,
    failure_message TEXT,
    note TEXT,
    -- pending, placed, refused, captured or released.
    hold TEXT NOT NULL,
    UNIQUE (payout_id, attempt)
);
