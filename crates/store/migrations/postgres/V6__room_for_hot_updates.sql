-- Every projector transaction updates nearly every account and daily balance it has touched
-- once: at fillfactor 70 a page had room for the new versions of only a third of its rows, so
-- two thirds of the updates went to other pages and inserted into every index (accounts has
-- two) — a tenth of the server's time in the projection benchmark. At 40 a page holds a full
-- round of new versions, the next round prunes the previous one, and every update is HOT.
-- Applies to pages filled from now on.
ALTER TABLE accounts SET (fillfactor = 40);
ALTER TABLE daily_balances SET (fillfactor = 40);
