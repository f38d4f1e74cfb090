-- A day's debits and credits of one account (or of an account type), and the sum of an
-- account type's balances at a cut, can pass i64 even though every amount and balance fits.
-- These columns hold `paycore_sqlite::wide` values: an INTEGER while the value fits in i64,
-- its decimal TEXT beyond. They are declared BLOB because that affinity keeps either form as
-- written (an INTEGER-affinity column would turn the large TEXT into a REAL). Upserts add
-- them with wide_add(); nothing sums them in SQL.
CREATE TABLE daily_balances_wide (
    account_id BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    opening BIGINT NOT NULL,
    debits BLOB NOT NULL,
    credits BLOB NOT NULL,
    closing BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (account_id, accounting_date)
);
INSERT INTO daily_balances_wide SELECT * FROM daily_balances;
DROP TABLE daily_balances;
ALTER TABLE daily_balances_wide RENAME TO daily_balances;

CREATE TABLE day_flows_wide (
    accounting_date TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    debits BLOB NOT NULL,
    credits BLOB NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (accounting_date, account_type, currency)
);
INSERT INTO day_flows_wide SELECT * FROM day_flows;
DROP TABLE day_flows;
ALTER TABLE day_flows_wide RENAME TO day_flows;

CREATE TABLE day_closings_wide (
    accounting_date TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    accounts BIGINT NOT NULL,
    closing BLOB NOT NULL,
    PRIMARY KEY (accounting_date, account_type, currency)
);
INSERT INTO day_closings_wide SELECT * FROM day_closings;
DROP TABLE day_closings;
ALTER TABLE day_closings_wide RENAME TO day_closings;
