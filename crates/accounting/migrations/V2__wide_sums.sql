-- A GL account's debits or credits on a day, a control account's change and a period's
-- totals can pass i64 even though every amount fits. These columns hold
-- `paycore_sqlite::wide` values: an INTEGER while the value fits in i64, its decimal TEXT
-- beyond. BLOB affinity keeps either form as written (INTEGER affinity would turn the large
-- TEXT into a REAL). Upserts add with wide_add(); reports sum the rows in Rust, never in SQL.
CREATE TABLE gl_daily_wide (
    accounting_date TEXT NOT NULL,
    code TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit BLOB NOT NULL,
    credit BLOB NOT NULL,
    lines BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, code, currency)
) WITHOUT ROWID;
INSERT INTO gl_daily_wide SELECT * FROM gl_daily;
DROP TABLE gl_daily;
ALTER TABLE gl_daily_wide RENAME TO gl_daily;

CREATE TABLE subledger_daily_wide (
    accounting_date TEXT NOT NULL,
    code TEXT NOT NULL,
    currency TEXT NOT NULL,
    change BLOB NOT NULL,
    PRIMARY KEY (accounting_date, code, currency)
) WITHOUT ROWID;
INSERT INTO subledger_daily_wide SELECT * FROM subledger_daily;
DROP TABLE subledger_daily;
ALTER TABLE subledger_daily_wide RENAME TO subledger_daily;

CREATE TABLE closed_periods_wide (
    period TEXT PRIMARY KEY,
    closed_at BIGINT NOT NULL,
    vouchers BIGINT NOT NULL,
    debit BLOB NOT NULL,
    credit BLOB NOT NULL
);
INSERT INTO closed_periods_wide SELECT * FROM closed_periods;
DROP TABLE closed_periods;
ALTER TABLE closed_periods_wide RENAME TO closed_periods;
