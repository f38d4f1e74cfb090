-- Accounting (会计): its own storage, fed from the ledger log. The feed writes vouchers,
-- their lines, the per-day GL and sub-ledger movements and its log position in one
-- transaction, so a restart resumes exactly after the last posted batch.

CREATE TABLE feed_state (
    id INTEGER PRIMARY KEY,
    applied_sequence BIGINT NOT NULL,
    applied_timestamp BIGINT NOT NULL,
    -- The ledger's accounting date after the last applied batch.
    accounting_date TEXT NOT NULL
);

CREATE TABLE gl_accounts (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    side TEXT NOT NULL,
    enabled SMALLINT NOT NULL
);

CREATE TABLE vouchers (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    number BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    ledger_date TEXT,
    source TEXT NOT NULL,
    record_id BIGINT,
    client_id TEXT NOT NULL,
    kind TEXT,
    rule TEXT,
    rules_version BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reverses BIGINT,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The lines, in order: `<D|C> <code> <amount>` joined by `;` (also in voucher_lines, by
    -- account, for ledger detail and reports).
    lines TEXT NOT NULL
);
-- A ledger transaction posts at most once; manual voucher ids are unique too.
CREATE UNIQUE INDEX vouchers_by_record ON vouchers (record_id) WHERE record_id IS NOT NULL;
CREATE UNIQUE INDEX vouchers_by_manual_id ON vouchers (client_id) WHERE source <> 'ledger';
CREATE UNIQUE INDEX vouchers_by_number ON vouchers (period, number);
CREATE INDEX vouchers_by_date ON vouchers (accounting_date, id);

-- Clustered by account, then date: lines of one account for a day are contiguous (明细账), and
-- the feed appends to a handful of ranges rather than at random.
CREATE TABLE voucher_lines (
    code TEXT NOT NULL,
    accounting_date TEXT NOT NULL,
    voucher_id BIGINT NOT NULL,
    line SMALLINT NOT NULL,
    side TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (code, accounting_date, voucher_id, line)
) WITHOUT ROWID;

-- Movements of each leaf account per day (balances are running sums of these).
CREATE TABLE gl_daily (
    accounting_date TEXT NOT NULL,
    code TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, code, currency)
) WITHOUT ROWID;

-- Movements of the ledger accounts behind each control account per day, in the ledger's
-- orientation (credits − debits), from the journal itself.
CREATE TABLE subledger_daily (
    accounting_date TEXT NOT NULL,
    code TEXT NOT NULL,
    currency TEXT NOT NULL,
    change BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, code, currency)
) WITHOUT ROWID;

-- Ledger transactions no rule could post, waiting for one (never dropped).
CREATE TABLE exceptions (
    record_id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    debit_type TEXT NOT NULL,
    debit_account_no TEXT NOT NULL,
    credit_type TEXT NOT NULL,
    credit_account_no TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    ledger_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    parked_at BIGINT NOT NULL
);

-- Closed periods: a day (YYYY-MM-DD) or a month (YYYY-MM).
CREATE TABLE closed_periods (
    period TEXT PRIMARY KEY,
    closed_at BIGINT NOT NULL,
    vouchers BIGINT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL
);
