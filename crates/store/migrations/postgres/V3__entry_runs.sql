-- The journal indexed by account through runs: one row per account and projector transaction
-- listing that account's entries in it, instead of an index entry per journal entry (one
-- random B-tree insert per entry was most of the projection's time). Read an account's
-- journal with unnest:
--   SELECT e.* FROM entry_runs r CROSS JOIN LATERAL unnest(r.seqs) AS j(seq)
--   JOIN entries e ON e.seq = j.seq WHERE r.account_id = $1 ORDER BY e.seq
-- Runs of one account never overlap, so last_seq orders them; last_date is the accounting
-- date of the last entry listed (dates never go back along the journal).
CREATE TABLE entry_runs (
    account_id BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    last_date TEXT NOT NULL,
    seqs BIGINT[] NOT NULL,
    PRIMARY KEY (account_id, last_seq)
);
INSERT INTO entry_runs SELECT account_id, seq, accounting_date, ARRAY[seq] FROM entries;
DROP INDEX entries_by_account;
