-- Merchant notifications (异步通知): the outbox the payment service writes in the same
-- transaction as the state change an event reports, and the secrets that sign them.
-- BIGINT and TEXT only, like V1 and V3; times are milliseconds since the Unix epoch.

CREATE TABLE pay_notifications (
    -- Chosen by the caller and stable (`evt_<order>_<type>`): a merchant dedupes on it.
    event_id TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    -- The trade, payment, refund or payout the event is about.
    order_id TEXT NOT NULL,
    -- 1, 2, … per order: an order's notifications go out in this order.
    order_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    url TEXT NOT NULL,
    -- The JSON text, built once and signed byte for byte as stored.
    body TEXT NOT NULL,
    -- pending | delivered | dead
    status TEXT NOT NULL,
    -- JSON array of the latest attempts: at, status code, reason, latency.
    attempts TEXT NOT NULL,
    -- Every attempt made (the array keeps only the latest ones).
    attempt_count BIGINT NOT NULL,
    -- When a pending notification is next sent (NULL once delivered or dead).
    next_attempt_at BIGINT,
    -- Set while a dispatcher is sending it (until this time), NULL otherwise.
    claimed_until BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (order_id, order_seq)
);
-- The dispatcher's queue: pending notifications in the order they fall due, in all and per
-- merchant (a merchant whose attempt just finished is looked at alone).
CREATE INDEX pay_notifications_due ON pay_notifications (next_attempt_at, event_id)
    WHERE status = 'pending';
CREATE INDEX pay_notifications_due_by_merchant
    ON pay_notifications (merchant, next_attempt_at, event_id) WHERE status = 'pending';
-- Operators' lists, oldest first: all of them, or one merchant's.
CREATE INDEX pay_notifications_by_time ON pay_notifications (created_at, event_id);
CREATE INDEX pay_notifications_by_merchant ON pay_notifications (merchant, created_at, event_id);

-- A merchant's signing secrets: the newest has no retirement; after a rotation the previous
-- one keeps signing alongside it until `retires_at` (a grace period).
CREATE TABLE pay_merchant_secrets (
    merchant TEXT NOT NULL,
    -- 1, 2, … per merchant.
    version BIGINT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retires_at BIGINT,
    PRIMARY KEY (merchant, version)
);
