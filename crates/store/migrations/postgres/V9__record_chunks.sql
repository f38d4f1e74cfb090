-- Records (every decided command) stored in chunks like the journal (V8): one row per group
-- of consecutive records, one array per column, kept inline by toast_tuple_target. As rows,
-- records cost the server a heap tuple, a primary-key insert and a BRIN insert each (~4.7 µs
-- of its CPU per record in COPY, the largest part of the main transaction).
--
-- `records` stays as a view with the old table's columns plus `chunk` (its chunk's first_id;
-- conditions on it reach the primary key). The store finds a record by id through the chunk
-- with the greatest first_id at or below it; by date through `last_date` (dates never go back
-- along the records, so the chunks whose last date is at or after a day start with the day's
-- first record); by reference through record_references, which lists only records that have
-- one.
CREATE TABLE record_chunks (
    first_id BIGINT PRIMARY KEY,
    last_date TEXT NOT NULL,
    ids BIGINT[] NOT NULL,
    client_ids TEXT[] NOT NULL,
    ops TEXT[] NOT NULL,
    kinds TEXT[] NOT NULL,
    debit_accounts BIGINT[] NOT NULL,
    credit_accounts BIGINT[] NOT NULL,
    amounts BIGINT[] NOT NULL,
    currencies TEXT[] NOT NULL,
    refs TEXT[] NOT NULL,
    results TEXT[] NOT NULL,
    timestamps BIGINT[] NOT NULL,
    dates TEXT[] NOT NULL,
    batch_sequences BIGINT[] NOT NULL
) WITH (toast_tuple_target = 8160);
CREATE INDEX record_chunks_by_date ON record_chunks (last_date, first_id);

CREATE TABLE record_references (
    reference TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (reference, record_id)
);

INSERT INTO record_chunks
SELECT min(record_id), max(accounting_date), array_agg(record_id ORDER BY record_id),
       array_agg(client_id ORDER BY record_id), array_agg(op ORDER BY record_id),
       array_agg(kind ORDER BY record_id), array_agg(debit_account ORDER BY record_id),
       array_agg(credit_account ORDER BY record_id), array_agg(amount ORDER BY record_id),
       array_agg(currency ORDER BY record_id), array_agg(reference ORDER BY record_id),
       array_agg(result ORDER BY record_id), array_agg(timestamp ORDER BY record_id),
       array_agg(accounting_date ORDER BY record_id), array_agg(batch_sequence ORDER BY record_id)
FROM records GROUP BY record_id / 32;
INSERT INTO record_references SELECT reference, record_id FROM records WHERE reference <> '';

DROP TABLE records;

CREATE VIEW records AS
SELECT r.record_id, r.client_id, r.op, r.kind, r.debit_account, r.credit_account, r.amount,
       r.currency, r.reference, r.result, r.timestamp, r.accounting_date, r.batch_sequence,
       c.first_id AS chunk
FROM record_chunks c
CROSS JOIN LATERAL unnest(c.ids, c.client_ids, c.ops, c.kinds, c.debit_accounts,
    c.credit_accounts, c.amounts, c.currencies, c.refs, c.results, c.timestamps, c.dates,
    c.batch_sequences)
    AS r(record_id, client_id, op, kind, debit_account, credit_account, amount, currency,
         reference, result, timestamp, accounting_date, batch_sequence);
