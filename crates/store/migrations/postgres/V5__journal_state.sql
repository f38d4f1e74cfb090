-- The journal (entries, entry_runs, flush_members) is written by a second connection in a
-- transaction of its own, committed after the main one (records, accounts, balances): this
-- is the last log batch it holds, never past projection_state's.
CREATE TABLE journal_state (
    id INTEGER PRIMARY KEY,
    applied_sequence BIGINT NOT NULL
);
INSERT INTO journal_state SELECT 1, applied_sequence FROM projection_state;
