-- Adjustments (调账) with maker-checker (双人复核): the adjustment, and its history, which is
-- only ever appended to (the store inserts history rows and never updates or deletes one).
-- Times are milliseconds since the Unix epoch; amounts minor units.

CREATE TABLE pay_adjustments (
    id TEXT PRIMARY KEY,
    -- Creation order, for lists (assigned by the writer).
    seq BIGINT NOT NULL UNIQUE,
    debit_account TEXT NOT NULL,
    credit_account TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT,
    exception_id TEXT,
    maker TEXT NOT NULL,
    approvals_required BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- The posting attempt the ledger id names (adjustment:<id>, then adjustment:<id>:<n>).
    post_attempt BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    posted_at BIGINT
);
-- The expiry sweep and the restart's unfinished postings, by status.
CREATE INDEX pay_adjustments_by_status ON pay_adjustments (status, expires_at);
CREATE INDEX pay_adjustments_by_maker ON pay_adjustments (maker, seq);
CREATE INDEX pay_adjustments_by_exception ON pay_adjustments (exception_id);

CREATE TABLE pay_adjustment_history (
    adjustment_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    operator TEXT NOT NULL,
    comment TEXT,
    code TEXT,
    ledger_id TEXT,
    PRIMARY KEY (adjustment_id, seq)
);
