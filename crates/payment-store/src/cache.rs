//! The writer's cache of payments and trades: the ones its transactions wrote or read,
//! so the next job of a pay-in (the bank's answer, then the ledger's posting) finds them
//! without reading their rows back and decoding them — that re-reading was a fifth of the
//! writer's time under pay-in load.
//!
//! Sound only because every write of `pay_payments`, `pay_attempts` and `pay_trades` is in
//! `repo::payments` and `repo::trades`, which update the cache with the row they wrote, and
//! only on the writer's connection to an embedded SQLite file (no other process writes it;
//! PostgreSQL's writer has no cache). A rolled-back transaction clears it: its changes
//! were undone in the rows. In debug builds every hit is checked against the rows.

use std::collections::HashMap;

use paycore_payments::{Payment, Trade};

/// Entries per table; a full table is emptied at once (what a pay-in needs again is
/// milliseconds old, so a hit is almost always among the last few thousand).
const ENTRIES_MAX: usize = 8_192;

#[derive(Default)]
pub struct RowCache {
    payments: HashMap<String, Payment>,
    trades: HashMap<String, Trade>,
}

impl RowCache {
    pub fn payment(&self, id: &str) -> Option<Payment> {
        self.payments.get(id).cloned()
    }

    pub fn trade(&self, trade_id: &str) -> Option<Trade> {
        self.trades.get(trade_id).cloned()
    }

    /// The payment as it now is in the rows.
    pub fn put_payment(&mut self, payment: &Payment) {
        put(&mut self.payments, &payment.id, payment);
    }

    /// The trade as it now is in the rows.
    pub fn put_trade(&mut self, trade: &Trade) {
        put(&mut self.trades, &trade.trade_id, trade);
    }

    /// Forgets everything (the transaction that wrote some of it rolled back).
    pub fn clear(&mut self) {
        self.payments.clear();
        self.trades.clear();
    }
}

fn put<T: Clone>(table: &mut HashMap<String, T>, key: &str, value: &T) {
    if let Some(entry) = table.get_mut(key) {
        entry.clone_from(value);
        return;
    }
    if table.len() >= ENTRIES_MAX {
        table.clear();
    }
    table.insert(key.to_owned(), value.clone());
}
