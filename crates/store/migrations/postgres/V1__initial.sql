-- The query store: a projection of the ledger's log. Written only by the projector, in
-- transactions that also record the last log batch they include (projection_state), so a
-- restart resumes exactly after it. PostgreSQL dialect; migrations/sqlite holds the same
-- schema for SQLite (there, INTEGER PRIMARY KEY makes the key the table's own rowid).

CREATE TABLE projection_state (
    id INTEGER PRIMARY KEY,
    applied_sequence BIGINT NOT NULL,
    applied_timestamp BIGINT NOT NULL,
    accounting_date TEXT NOT NULL
);

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    account_no TEXT NOT NULL UNIQUE,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL,
    frozen BIGINT NOT NULL,
    status TEXT NOT NULL,
    allow_negative SMALLINT NOT NULL,
    reference TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    opened_by TEXT NOT NULL
);

-- Every decided command (accepted or rejected), by the ledger's record number. Client ids are
-- unique by the ledger's rule; lookups by id are answered by the engine, so no index here.
CREATE TABLE records (
    record_id BIGINT PRIMARY KEY,
    client_id TEXT NOT NULL,
    op TEXT NOT NULL,
    kind TEXT,
    debit_account BIGINT,
    credit_account BIGINT,
    amount BIGINT NOT NULL,
    currency TEXT,
    reference TEXT NOT NULL,
    result TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    batch_sequence BIGINT NOT NULL
);
-- Transfers of an account are found through its journal entries (entries_by_account).
CREATE INDEX records_by_reference ON records (reference, record_id) WHERE reference <> '';
CREATE INDEX records_by_date ON records (accounting_date, record_id);

-- The journal (账户流水): one row per change of a balance or frozen amount, in global order.
CREATE TABLE entries (
    seq BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_before BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    frozen_after BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    timestamp BIGINT NOT NULL
);
CREATE INDEX entries_by_account ON entries (account_id, seq);

CREATE TABLE holds (
    hold_id BIGINT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    remaining BIGINT NOT NULL,
    captured BIGINT NOT NULL,
    status TEXT NOT NULL,
    expires_at BIGINT,
    record_id BIGINT NOT NULL
);

-- One row per account and accounting day with activity; days without activity carry the
-- previous closing balance (the query fills them in).
CREATE TABLE daily_balances (
    account_id BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    opening BIGINT NOT NULL,
    debits BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    closing BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (account_id, accounting_date)
);

-- Day-end (日切) results. Flows accumulate as postings are projected; closings and suspense
-- are written once, at the cut, from the ledger's exact balances at that point.
CREATE TABLE day_flows (
    accounting_date TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    debits BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, account_type, currency)
);

CREATE TABLE day_closings (
    accounting_date TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    accounts BIGINT NOT NULL,
    closing BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, account_type, currency)
);

-- Transit accounts (中间过渡户) with a non-zero balance at the cut (挂账).
CREATE TABLE day_suspense (
    accounting_date TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, account_id)
);
