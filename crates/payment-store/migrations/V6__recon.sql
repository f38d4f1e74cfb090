-- Reconciliation (对账): imported statements and their lines, runs, carried orders and
-- exceptions (差错). (V4 is the notification outbox, V5 payouts.)
CREATE TABLE pay_recon_statements (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    day TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    lines BIGINT NOT NULL,
    -- How it came: upload or fetch.
    source TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    UNIQUE (channel, day, sha256)
);

-- One row per statement line; `rec_key` is what it is matched by: a payment's channel order
-- number, or a refund's own number.
CREATE TABLE pay_recon_lines (
    statement_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    rec_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    fee BIGINT NOT NULL,
    status TEXT NOT NULL,
    bank_ref TEXT NOT NULL,
    PRIMARY KEY (statement_id, seq)
);
CREATE INDEX pay_recon_lines_by_key ON pay_recon_lines (statement_id, rec_key);

CREATE TABLE pay_recon_runs (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    day TEXT NOT NULL,
    statement_id TEXT NOT NULL UNIQUE,
    matched BIGINT NOT NULL,
    carried BIGINT NOT NULL,
    -- JSON: difference kind → count.
    differences TEXT NOT NULL,
    -- JSON: {"ours": side, "theirs": side}.
    totals TEXT NOT NULL,
    -- JSON fund check, or NULL when no settlement was available.
    fund TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX pay_recon_runs_by_day ON pay_recon_runs (channel, day);

-- paycore's successes near a day's end the statement did not list: looked for again by the
-- next day's run (跨日) before they become a difference.
CREATE TABLE pay_recon_carried (
    channel TEXT NOT NULL,
    day TEXT NOT NULL,
    rec_key TEXT NOT NULL,
    record TEXT NOT NULL,
    run_id TEXT NOT NULL,
    settled_by TEXT,
    PRIMARY KEY (channel, day, rec_key)
);

CREATE TABLE pay_recon_exceptions (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_order_no TEXT NOT NULL,
    status TEXT NOT NULL,
    ours TEXT NOT NULL,
    theirs TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    adjustment_id TEXT,
    history TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX pay_recon_exceptions_by_run ON pay_recon_exceptions (run_id, seq);
CREATE INDEX pay_recon_exceptions_by_status ON pay_recon_exceptions (status, seq);
