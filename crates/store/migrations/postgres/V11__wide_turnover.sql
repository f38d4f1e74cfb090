-- A day's debits and credits of one account (or of an account type), and the sum of an
-- account type's balances at a cut, can pass BIGINT even though every amount and balance
-- fits: NUMERIC(39) holds any i128. They are read as text (`::text`) and parsed in Rust.
ALTER TABLE daily_balances
    ALTER COLUMN debits TYPE NUMERIC(39),
    ALTER COLUMN credits TYPE NUMERIC(39);
ALTER TABLE day_flows
    ALTER COLUMN debits TYPE NUMERIC(39),
    ALTER COLUMN credits TYPE NUMERIC(39);
ALTER TABLE day_closings
    ALTER COLUMN closing TYPE NUMERIC(39);
