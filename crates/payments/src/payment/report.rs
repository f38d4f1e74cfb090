//! What a bank's report does to a payment: through the channel order's own rules, then —
//! once the bank says it succeeded — the one decision whether the payment keeps the money
//! (it claims its trade) or returns it.

use super::{Disposition, Payment, PaymentStatus};
use crate::ids::Millis;
use crate::order::{BankReport, OrderEffect, OrderStatus, Timing};
use crate::trade::Trade;

/// What a report did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing new.
    Nothing,
    /// The payment changed; store it (and look at `next_step`).
    Changed,
    /// The report contradicts what is known; kept as an anomaly, not applied.
    Anomaly(String),
}

impl Payment {
    /// Applies a report about one of this payment's channel orders. `trade` is its trade: a
    /// success decides, here and once, whether the money is kept (the trade is claimed) or
    /// returned.
    pub fn report(
        &mut self,
        trade: &mut Trade,
        report: &BankReport,
        now: Millis,
        timing: Timing,
    ) -> Effect {
        assert_eq!(trade.trade_id, self.trade_id);
        let amount = self.external_amount();
        let Some(index) = self
            .attempts
            .iter()
            .position(|a| a.order.order_no == report.order_no)
        else {
            let message = format!(
                "{} for unknown channel order {}",
                report.source.name(),
                report.order_no
            );
            self.anomaly(message.clone());
            return Effect::Anomaly(message);
        };
        let is_current = index + 1 == self.attempts.len();
        let order = &mut self.attempts[index].order;
        let effect = order.report(report.source, &report.result, amount, now, timing);
        self.touch(now);
        match effect {
            OrderEffect::Nothing => Effect::Nothing,
            OrderEffect::Anomaly(message) => {
                self.anomaly(message.clone());
                Effect::Anomaly(message)
            }
            OrderEffect::Succeeded if !is_current => {
                // An earlier order can only be here if it was open when rerouted, which the
                // rules refuse; keep the contradiction, decide nothing.
                let message = format!(
                    "order {} succeeded after the payment was rerouted",
                    report.order_no
                );
                self.anomaly(message.clone());
                Effect::Anomaly(message)
            }
            OrderEffect::Succeeded => {
                self.received(trade, now);
                Effect::Changed
            }
            OrderEffect::Changed => {
                if is_current {
                    self.follow_current();
                }
                Effect::Changed
            }
        }
    }

    /// The payment's status follows its current channel order while the outcome is open.
    fn follow_current(&mut self) {
        let order = &self
            .current()
            .expect("a channel payment has an order")
            .order;
        self.status = match order.status {
            OrderStatus::Processing => PaymentStatus::Processing,
            OrderStatus::Unknown => PaymentStatus::Unknown,
            OrderStatus::Failed => {
                self.failure = order.failure.clone();
                self.next_check_at = None;
                PaymentStatus::Failed
            }
            OrderStatus::Succeeded => return,
        };
    }

    /// The bank took the money: keep it if this payment can claim the trade, else return it.
    fn received(&mut self, trade: &mut Trade, now: Millis) {
        assert!(self.disposition.is_none(), "money is received once");
        self.disposition = Some(match trade.claim(&self.id, now) {
            Ok(()) => Disposition::Keep,
            Err(reason) => {
                self.status = PaymentStatus::Refunding;
                Disposition::Return(reason)
            }
        });
        // The posting is next; the resolver finishes it if this process does not.
        self.next_check_at = Some(self.next_check_at.map_or(now, |at| at.min(now + 1_000)));
    }
}
