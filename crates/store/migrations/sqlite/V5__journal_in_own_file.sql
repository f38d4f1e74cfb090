-- The journal moved to its own file (see migrations/sqlite_journal). The store copies an
-- existing journal there, in a transaction of that file, before this migration drops it here.
DROP TABLE entries;
DROP TABLE entry_runs;
DROP TABLE flush_members;
