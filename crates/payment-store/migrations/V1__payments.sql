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
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    succeeded_at BIGINT,
    failure_code TEXT,
    failure_message TEXT,
    -- JSON array of texts.
    anomalies TEXT NOT NULL
);
CREATE INDEX pay_payments_by_trade ON pay_payments (trade_id);

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
    next_check_at BIGINT,
    bank_ref TEXT,
    failure_code TEXT,
    failure_message TEXT,
    note TEXT,
    UNIQUE (payment_id, attempt)
);
-- The resolver's queue: only attempts whose outcome is open have a next check.
CREATE INDEX pay_attempts_to_check ON pay_attempts (next_check_at) WHERE next_check_at IS NOT NULL;

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
