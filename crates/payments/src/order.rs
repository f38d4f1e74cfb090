//! A channel order (机构订单): one request to one bank under one order number — a payment's
//! attempt, a refund, a payout's attempt. Every answer, callback and status query about it
//! goes through `ChannelOrder::report`, whose rules are the same for all three:
//! - **A timeout is not a failure.** No answer leaves the order `unknown`; only the bank's own
//!   word fails it (a definitive failure, or "no such order" long after it was sent).
//! - **A final state never changes.** A report that contradicts a final order is an anomaly,
//!   never applied.
//! - A success for another amount than the order's is an anomaly too (and the order stays
//!   open for a person to look at).

use crate::ids::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Processing,
    Unknown,
    Succeeded,
    Failed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Processing,
        OrderStatus::Unknown,
        OrderStatus::Succeeded,
        OrderStatus::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Processing => "processing",
            OrderStatus::Unknown => "unknown",
            OrderStatus::Succeeded => "succeeded",
            OrderStatus::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Succeeded | OrderStatus::Failed)
    }
}

/// Why something failed: a stable code and the words that came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn new(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Where a bank report came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportSource {
    /// The answer to paycore's own request.
    Response,
    Query,
    Callback,
}

impl ReportSource {
    pub fn name(self) -> &'static str {
        match self {
            ReportSource::Response => "response",
            ReportSource::Query => "query",
            ReportSource::Callback => "callback",
        }
    }
}

/// What the bank said, or that it said nothing usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankResult {
    Succeeded {
        bank_ref: String,
        amount: u64,
    },
    Failed {
        code: String,
        message: String,
    },
    Processing,
    NotFound,
    /// Timeout, connection error, bad signature, malformed answer: the outcome is unknown.
    NoAnswer {
        reason: String,
    },
}

/// A report about one channel order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankReport {
    pub order_no: String,
    pub source: ReportSource,
    pub result: BankResult,
}

/// Knobs of the rules that depend on time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// A query that finds no such order fails it only this long after it was last sent (the
    /// request may still be on its way).
    pub not_found_grace_ms: u64,
}

/// What a report did to an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderEffect {
    /// Nothing new (a repeat of what is known).
    Nothing,
    /// The order changed but is still open, or failed.
    Changed,
    /// The bank says it succeeded, for the order's amount, and it was open until now.
    Succeeded,
    /// The report contradicts the order; not applied.
    Anomaly(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelOrder {
    pub channel: String,
    pub order_no: String,
    pub status: OrderStatus,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the last request was sent (a resend restarts the not-found grace).
    pub sent_at: Millis,
    /// Requests sent (1 + resends).
    pub sends: u32,
    pub queries: u32,
    pub bank_ref: Option<String>,
    pub failure: Option<Failure>,
    /// Why the outcome is not known (timeout, transport error, bad signature…).
    pub note: Option<String>,
}

impl ChannelOrder {
    /// An order stored before it is sent (its owner schedules the resolver's first look).
    pub fn new(channel: String, order_no: String, now: Millis) -> ChannelOrder {
        ChannelOrder {
            channel,
            order_no,
            status: OrderStatus::Processing,
            created_at: now,
            updated_at: now,
            sent_at: now,
            sends: 1,
            queries: 0,
            bank_ref: None,
            failure: None,
            note: None,
        }
    }

    /// Applies what the bank said; `amount` is what the order is for.
    pub fn report(
        &mut self,
        source: ReportSource,
        result: &BankResult,
        amount: u64,
        now: Millis,
        timing: Timing,
    ) -> OrderEffect {
        if source == ReportSource::Query {
            self.queries += 1;
        }
        if self.status.is_final() {
            return self.report_on_final(source, result);
        }
        self.updated_at = self.updated_at.max(now);
        match result {
            BankResult::Succeeded {
                bank_ref,
                amount: said,
            } if *said == amount => {
                self.status = OrderStatus::Succeeded;
                self.bank_ref = Some(bank_ref.clone());
                self.note = None;
                OrderEffect::Succeeded
            }
            BankResult::Succeeded { amount: said, .. } => {
                let message = format!(
                    "{} says order {} succeeded for {said}, but it is for {amount}",
                    source.name(),
                    self.order_no
                );
                self.still_open(OrderStatus::Unknown, Some(message.clone()));
                OrderEffect::Anomaly(message)
            }
            BankResult::Failed { code, message } => {
                self.fail(Failure::new(code, message.clone()));
                OrderEffect::Changed
            }
            BankResult::Processing => self.still_open(OrderStatus::Processing, None),
            BankResult::NotFound => self.not_found(source, now, timing),
            BankResult::NoAnswer { reason } => {
                self.still_open(OrderStatus::Unknown, Some(reason.clone()))
            }
        }
    }

    fn report_on_final(&self, source: ReportSource, result: &BankResult) -> OrderEffect {
        let agrees = match (result, self.status) {
            (BankResult::Succeeded { .. }, OrderStatus::Succeeded) => true,
            (BankResult::Failed { .. }, OrderStatus::Failed) => true,
            // Silence or "still working" adds nothing to a final state.
            (BankResult::NoAnswer { .. } | BankResult::Processing, _) => true,
            _ => false,
        };
        if agrees {
            return OrderEffect::Nothing;
        }
        OrderEffect::Anomaly(format!(
            "{} says {result:?} for channel order {} which is {}",
            source.name(),
            self.order_no,
            self.status.name()
        ))
    }

    fn still_open(&mut self, status: OrderStatus, note: Option<String>) -> OrderEffect {
        let changed = self.status != status || (note.is_some() && self.note != note);
        self.status = status;
        if note.is_some() {
            self.note = note;
        }
        if changed {
            OrderEffect::Changed
        } else {
            OrderEffect::Nothing
        }
    }

    fn not_found(&mut self, source: ReportSource, now: Millis, timing: Timing) -> OrderEffect {
        let sent_long_ago = now.saturating_sub(self.sent_at) >= timing.not_found_grace_ms;
        if source == ReportSource::Query && sent_long_ago {
            self.fail(Failure::new(
                "order_not_found",
                "the channel has no such order long after it was sent",
            ));
            return OrderEffect::Changed;
        }
        self.still_open(
            OrderStatus::Unknown,
            Some("the channel does not know the order yet".into()),
        )
    }

    fn fail(&mut self, failure: Failure) {
        self.status = OrderStatus::Failed;
        self.failure = Some(failure);
        self.note = None;
    }

    /// An order stored before it is sent, that is sent only after something else is in place
    /// (a refund's or a payout's hold): `sends` stays 0 until `mark_sent`.
    pub fn unsent(channel: String, order_no: String, now: Millis) -> ChannelOrder {
        ChannelOrder {
            sends: 0,
            ..ChannelOrder::new(channel, order_no, now)
        }
    }

    /// The order is about to be sent (for the first time, or again).
    pub fn mark_sent(&mut self, now: Millis) {
        assert!(!self.status.is_final());
        self.sends += 1;
        self.sent_at = now;
        self.updated_at = self.updated_at.max(now);
    }

    /// Counts another send under the same number; only an open order can be sent again.
    pub fn resend(&mut self, now: Millis) -> bool {
        if self.status.is_final() {
            return false;
        }
        self.sends += 1;
        self.sent_at = now;
        self.updated_at = self.updated_at.max(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMING: Timing = Timing {
        not_found_grace_ms: 10_000,
    };

    fn order() -> ChannelOrder {
        ChannelOrder::new("a".into(), "o1".into(), 0)
    }

    fn success(amount: u64) -> BankResult {
        BankResult::Succeeded {
            bank_ref: "B".into(),
            amount,
        }
    }

    #[test]
    fn a_timeout_is_unknown_and_the_bank_decides() {
        let mut o = order();
        let timeout = BankResult::NoAnswer {
            reason: "timeout".into(),
        };
        assert_eq!(
            o.report(ReportSource::Response, &timeout, 100, 5, TIMING),
            OrderEffect::Changed
        );
        assert_eq!(
            (o.status, o.note.as_deref()),
            (OrderStatus::Unknown, Some("timeout"))
        );
        assert_eq!(
            o.report(ReportSource::Query, &success(100), 100, 9, TIMING),
            OrderEffect::Succeeded
        );
        assert_eq!(
            (o.status, o.queries, o.bank_ref.as_deref()),
            (OrderStatus::Succeeded, 1, Some("B"))
        );
        assert_eq!(
            o.report(ReportSource::Callback, &success(100), 100, 10, TIMING),
            OrderEffect::Nothing
        );
        let failed = BankResult::Failed {
            code: "X".into(),
            message: "x".into(),
        };
        assert!(matches!(
            o.report(ReportSource::Callback, &failed, 100, 11, TIMING),
            OrderEffect::Anomaly(_)
        ));
        assert_eq!(
            o.status,
            OrderStatus::Succeeded,
            "a final state never changes"
        );
    }

    #[test]
    fn not_found_fails_only_a_query_long_after_the_last_send() {
        let mut o = order();
        o.report(
            ReportSource::Query,
            &BankResult::NotFound,
            100,
            9_999,
            TIMING,
        );
        assert_eq!(o.status, OrderStatus::Unknown);
        o.report(
            ReportSource::Callback,
            &BankResult::NotFound,
            100,
            50_000,
            TIMING,
        );
        assert_eq!(o.status, OrderStatus::Unknown);
        assert!(o.resend(50_000));
        o.report(
            ReportSource::Query,
            &BankResult::NotFound,
            100,
            55_000,
            TIMING,
        );
        assert_eq!(
            o.status,
            OrderStatus::Unknown,
            "the resend restarted the grace"
        );
        o.report(
            ReportSource::Query,
            &BankResult::NotFound,
            100,
            60_000,
            TIMING,
        );
        assert_eq!(o.failure.as_ref().unwrap().code, "order_not_found");
        assert!(!o.resend(60_001), "a final order is not sent again");
    }

    #[test]
    fn a_success_for_another_amount_is_an_anomaly() {
        let mut o = order();
        assert!(matches!(
            o.report(ReportSource::Callback, &success(99), 100, 1, TIMING),
            OrderEffect::Anomaly(_)
        ));
        assert_eq!(o.status, OrderStatus::Unknown);
    }
}
