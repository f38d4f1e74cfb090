-- An account's holds, in hold order (GET /v1/accounts/{no}/holds).
CREATE INDEX holds_by_account ON holds (account_id, hold_id);
