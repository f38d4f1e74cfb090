-- Cheaper upkeep for a store written in large transactions.
-- Records are appended in record order and accounting dates never go back along it, so a BRIN
-- index (a few pages of per-block ranges) finds a day's records as well as a B-tree did, at
-- almost no cost per insert.
DROP INDEX records_by_date;
CREATE INDEX records_by_date ON records USING brin (accounting_date);
CREATE INDEX entries_by_date ON entries USING brin (accounting_date);
-- Accounts and daily balances are updated in place by every transaction that touches them:
-- free space on each page lets PostgreSQL keep the new row version on the same page without
-- touching the indexes (a HOT update).
ALTER TABLE accounts SET (fillfactor = 70);
ALTER TABLE daily_balances SET (fillfactor = 70);
