-- The journal stored in chunks: one row per group of up to 64 consecutive entries, one array
-- per column. A row per entry cost the server a heap tuple and a primary-key insert (one WAL
-- record each) per entry, ~3 µs of its CPU, the largest part of the projection; a chunk costs
-- one of each per 64 entries plus the arrays' elements (a COPY of 700k entries: 2.1 s of the
-- server's CPU as rows, 0.45 s as chunks).
--
-- `entries` stays, as a view with the old table's columns, for people's SQL and reports, plus
-- `chunk` (its chunk's first_seq): a condition on `chunk` reaches the chunks' primary key, one on
-- `seq` alone reads every chunk. The store's own queries find an entry by sequence through the
-- chunk whose first_seq is the greatest at or below it (array_position gives its place in the
-- chunk), and read the journal in order through a range of `chunk`. Entry sequences are listed explicitly (`seqs`), so a
-- chunk stays correct whatever is removed from it. Each entry carries its command's client id
-- (a statement then reads no record). Rows of ~7 KB: kept inline (not TOASTed)
-- by toast_tuple_target, so reading one entry reads one page.
CREATE TABLE entry_chunks (
    first_seq BIGINT PRIMARY KEY,
    seqs BIGINT[] NOT NULL,
    account_ids BIGINT[] NOT NULL,
    record_ids BIGINT[] NOT NULL,
    client_ids TEXT[] NOT NULL,
    kinds TEXT[] NOT NULL,
    amounts BIGINT[] NOT NULL,
    balances_before BIGINT[] NOT NULL,
    balances_after BIGINT[] NOT NULL,
    frozen_after BIGINT[] NOT NULL,
    dates TEXT[] NOT NULL,
    timestamps BIGINT[] NOT NULL,
    aggregated BIGINT[] NOT NULL
) WITH (toast_tuple_target = 8160);

INSERT INTO entry_chunks
SELECT min(seq), array_agg(seq ORDER BY seq), array_agg(account_id ORDER BY seq),
       array_agg(e.record_id ORDER BY seq), array_agg(coalesce(r.client_id, '') ORDER BY seq),
       array_agg(e.kind ORDER BY seq), array_agg(e.amount ORDER BY seq),
       array_agg(balance_before ORDER BY seq), array_agg(balance_after ORDER BY seq),
       array_agg(frozen_after ORDER BY seq), array_agg(e.accounting_date ORDER BY seq),
       array_agg(e.timestamp ORDER BY seq), array_agg(aggregated ORDER BY seq)
FROM entries e LEFT JOIN records r ON r.record_id = e.record_id GROUP BY (seq - 1) / 64;

DROP TABLE entries;

CREATE VIEW entries AS
SELECT e.seq, e.account_id, e.record_id, e.client_id, e.kind, e.amount, e.balance_before, e.balance_after,
       e.frozen_after, e.accounting_date, e.timestamp, e.aggregated, c.first_seq AS chunk
FROM entry_chunks c
CROSS JOIN LATERAL unnest(c.seqs, c.account_ids, c.record_ids, c.client_ids, c.kinds, c.amounts,
    c.balances_before, c.balances_after, c.frozen_after, c.dates, c.timestamps, c.aggregated)
    AS e(seq, account_id, record_id, client_id, kind, amount, balance_before, balance_after, frozen_after,
         accounting_date, timestamp, aggregated);

-- UPDATE and DELETE on the view change the entry inside its chunk (repairs, and tests that
-- damage the journal on purpose to see `paycore verify` find it). The projector itself only
-- ever appends chunks.
CREATE FUNCTION entry_place(entry_seq BIGINT, OUT chunk BIGINT, OUT place INTEGER) LANGUAGE sql STABLE AS $$
    SELECT first_seq, array_position(seqs, entry_seq) FROM entry_chunks
    WHERE first_seq <= entry_seq ORDER BY first_seq DESC LIMIT 1
$$;

CREATE FUNCTION entries_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at RECORD;
BEGIN
    IF NEW.seq <> OLD.seq THEN
        RAISE EXCEPTION 'an entry''s sequence cannot change (entry %)', OLD.seq;
    END IF;
    at := entry_place(OLD.seq);
    UPDATE entry_chunks SET
        account_ids[at.place] = NEW.account_id, record_ids[at.place] = NEW.record_id,
        client_ids[at.place] = NEW.client_id,
        kinds[at.place] = NEW.kind, amounts[at.place] = NEW.amount,
        balances_before[at.place] = NEW.balance_before, balances_after[at.place] = NEW.balance_after,
        frozen_after[at.place] = NEW.frozen_after, dates[at.place] = NEW.accounting_date,
        timestamps[at.place] = NEW.timestamp, aggregated[at.place] = NEW.aggregated
    WHERE first_seq = at.chunk;
    RETURN NEW;
END $$;

CREATE FUNCTION entries_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at RECORD;
BEGIN
    at := entry_place(OLD.seq);
    IF at.place IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE entry_chunks SET
        seqs = seqs[:at.place - 1] || seqs[at.place + 1:],
        account_ids = account_ids[:at.place - 1] || account_ids[at.place + 1:],
        record_ids = record_ids[:at.place - 1] || record_ids[at.place + 1:],
        client_ids = client_ids[:at.place - 1] || client_ids[at.place + 1:],
        kinds = kinds[:at.place - 1] || kinds[at.place + 1:],
        amounts = amounts[:at.place - 1] || amounts[at.place + 1:],
        balances_before = balances_before[:at.place - 1] || balances_before[at.place + 1:],
        balances_after = balances_after[:at.place - 1] || balances_after[at.place + 1:],
        frozen_after = frozen_after[:at.place - 1] || frozen_after[at.place + 1:],
        dates = dates[:at.place - 1] || dates[at.place + 1:],
        timestamps = timestamps[:at.place - 1] || timestamps[at.place + 1:],
        aggregated = aggregated[:at.place - 1] || aggregated[at.place + 1:]
    WHERE first_seq = at.chunk;
    DELETE FROM entry_chunks WHERE first_seq = at.chunk AND cardinality(seqs) = 0;
    UPDATE entry_chunks SET first_seq = seqs[1] WHERE first_seq = at.chunk AND seqs[1] <> at.chunk;
    RETURN OLD;
END $$;

CREATE TRIGGER entries_update INSTEAD OF UPDATE ON entries FOR EACH ROW EXECUTE FUNCTION entries_update();
CREATE TRIGGER entries_delete INSTEAD OF DELETE ON entries FOR EACH ROW EXECUTE FUNCTION entries_delete();
