-- The journal half of the SQLite query store, in a file of its own (`<store>.journal.sqlite`
-- beside `store.sqlite`) so that a second writer thread can fill it while the first writes
-- records, accounts and balances: SQLite allows one writer per file, and one writer was the
-- projection's limit. Readers attach it as schema `journal`; unqualified names resolve to it,
-- so queries read `entries` as before.
--
-- journal_state: the last log batch whose entries this file holds. The projector commits the
-- main file's part of a transaction first, so this never passes projection_state there.
CREATE TABLE journal_state (
    id INTEGER PRIMARY KEY,
    applied_sequence BIGINT NOT NULL
);

-- The journal (账户流水): one row per change of a balance or frozen amount, in global order.
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_before BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    frozen_after BIGINT NOT NULL,
    accounting_date TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    aggregated BIGINT NOT NULL DEFAULT 0
);

-- The journal indexed by account: one row per account and projector transaction listing that
-- account's entries in it (a JSON array). Runs of one account never overlap, so last_seq
-- orders them; last_date is the accounting date of the last entry listed. Read an account's
-- journal with json_each:
--   SELECT e.* FROM entry_runs r, json_each(r.seqs) j JOIN entries e ON e.seq = j.value
--   WHERE r.account_id = ? ORDER BY e.seq
CREATE TABLE entry_runs (
    account_id BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    last_date TEXT NOT NULL,
    seqs TEXT NOT NULL,
    PRIMARY KEY (account_id, last_seq)
) WITHOUT ROWID;

-- For each aggregated credit entry of a hot account's flush, the records it contains.
CREATE TABLE flush_members (
    entry_seq BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (entry_seq, record_id)
);
