-- The journal clustered by account: one account's entries are contiguous on disk, so a
-- statement reads a few pages and the projector, inserting each transaction's entries in
-- (account, seq) order, walks the tree forward instead of jumping to a random page per entry.
-- Global order (events, the chain check) goes through entries_by_seq.
CREATE TABLE entries_new (
    seq BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_before BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    frozen_after BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    aggregated BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;
INSERT INTO entries_new SELECT seq, account_id, record_id, kind, amount, balance_before,
    balance_after, frozen_after, accounting_date, timestamp, aggregated FROM entries;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE UNIQUE INDEX entries_by_seq ON entries (seq);
