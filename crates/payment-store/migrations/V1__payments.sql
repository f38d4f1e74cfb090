-- Payment orders: one schema for SQLite and PostgreSQL (BIGINT and TEXT only, so every query
-- runs unchanged on both). Times are milliseconds since the Unix epoch; amounts minor units.

CREATE TABLE pay_merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Normalised hosts, one per line.
    callback_hosts TEXT NOT NULL,
    fee_rate_bp BIGINT NOT NULL,
    currency TEXT NOT NULL,
    account TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE pay_channels (
    id TEXT PRIMARY KEY,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- Comma-separated names and codes.
    methods TEXT NOT NULL,
    currencies TEXT NOT NULL,
    min_amount BIGINT,
    max_amount BIGINT,
    weight BIGINT NOT NULL,
    rate_limit_per_s BIGINT,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What routing and outcomes did per channel (the writer adds each transaction's deltas).
CREATE TABLE pay_channel_counters (
    channel TEXT PRIMARY KEY,
    routed BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    unknown BIGINT NOT NULL
);

CREATE TABLE pay_trades (
    trade_id TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    merchant_order_no TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    subject TEXT NOT NULL,
    notify_url TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    paid_by TEXT,
    paid_at BIGINT,
    -- The payment whose money arrived and is being posted (it pays the trade next).
    claimed_by TEXT,
    UNIQUE (merchant, merchant_order_no)
);

CREATE TABLE pay_payments (
    id TEXT PRIMARY KEY,
    trade_id TEXT NOT NULL,
    merchant TEXT NOT NULL,
    method TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    fee BIGINT NOT NULL,
    status TEXT NOT NULL,
    requested_channel TEXT,
    payer_account TEXT,
    balance_amount BIGINT NOT NULL,
    -- `keep`, `return:<reason>`, or NULL while no money arrived.
    disposition TEXT,
    -- How far the ledger went: nothing, suspense, final.
    posted TEXT NOT NULL,
    refund_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    succeeded_at BIGINT,
    failure_code TEXT,
    failure_message TEXT,
    -- The resolver's queue: when to look at the payment next (an open outcome, a step to
    -- finish); NULL when nothing is left to do.
    next_check_at BIGINT,
    -- JSON array of texts.
    anomalies TEXT NOT NULL
);
CREATE INDEX pay_payments_by_trade ON pay_payments (trade_id);
CREATE INDEX pay_payments_to_check ON pay_payments (next_check_at) WHERE next_check_at IS NOT NULL;

-- Channel orders (机构订单): one per attempt of a payment.
CREATE TABLE pay_attempts (
    channel_order_no TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
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
    UNIQUE (payment_id, attempt)
);

-- Refunds (退款): a merchant's, or the automatic return of money not kept. One channel
-- order each, numbered like payments' (its own number at the bank).
CREATE TABLE pay_refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    merchant TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- merchant (a hold on the merchant's account) or suspense (money not kept).
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_order_no TEXT NOT NULL UNIQUE,
    paid_order_no TEXT NOT NULL,
    order_status TEXT NOT NULL,
    order_created_at BIGINT NOT NULL,
    order_updated_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    sends BIGINT NOT NULL,
    queries BIGINT NOT NULL,
    bank_ref TEXT,
    order_failure_code TEXT,
    order_failure_message TEXT,
    note TEXT,
    hold TEXT NOT NULL,
    posted BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_check_at BIGINT,
    failure_code TEXT,
    failure_message TEXT,
    anomalies TEXT NOT NULL
);
CREATE INDEX pay_refunds_by_payment ON pay_refunds (payment_id);
CREATE INDEX pay_refunds_to_check ON pay_refunds (next_check_at) WHERE next_check_at IS NOT NULL;

-- The weighted split's state per channel set (key `a:100,b:50`), so it stays exact across
-- restarts.
CREATE TABLE pay_splits (
    split_key TEXT PRIMARY KEY,
    state TEXT NOT NULL
);

-- Counters the writer hands out (channel order numbers, trade ids).
CREATE TABLE pay_sequences (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
