-- Hot accounts with buffered posting: the credit an account has accepted but not yet posted,
-- and, for each aggregated credit entry a flush posted, the records (transfers) it contains
-- (the statement's drill-down).
ALTER TABLE accounts ADD COLUMN pending_credit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN aggregated BIGINT NOT NULL DEFAULT 0;

CREATE TABLE flush_members (
    entry_seq BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (entry_seq, record_id)
);
