//! Trade orders (交易订单): what a merchant wants paid. A trade is unique per merchant by its
//! `merchant_order_no`, payable until it expires, and paid by exactly one payment: the first
//! whose money arrives claims it (`claim`), and every later success is returned
//! (`ReturnReason`).

use paycore_money::Currency;

use crate::error::PayError;
use crate::ids::{self, Millis};
use crate::merchant::Merchant;
use crate::payment::ReturnReason;

/// A trade is payable for 15 minutes unless it asks otherwise (the seed's lock period).
pub const EXPIRES_IN_S_DEFAULT: u64 = 15 * 60;
/// At most a week.
pub const EXPIRES_IN_S_MAX: u64 = 7 * 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeStatus {
    Open,
    Paid,
    Expired,
    Closed,
}

impl TradeStatus {
    pub const ALL: [TradeStatus; 4] = [
        TradeStatus::Open,
        TradeStatus::Paid,
        TradeStatus::Expired,
        TradeStatus::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TradeStatus::Open => "open",
            TradeStatus::Paid => "paid",
            TradeStatus::Expired => "expired",
            TradeStatus::Closed => "closed",
        }
    }

    pub fn from_name(name: &str) -> Option<TradeStatus> {
        TradeStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trade {
    pub trade_id: String,
    pub merchant: String,
    pub merchant_order_no: String,
    pub amount: u64,
    pub currency: Currency,
    pub subject: String,
    pub notify_url: Option<String>,
    pub status: TradeStatus,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The payment that paid it.
    pub paid_by: Option<String>,
    pub paid_at: Option<Millis>,
    /// The payment whose money arrived and is being posted (it pays the trade next).
    pub claimed_by: Option<String>,
}

/// A request to create a trade, as the edge parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTrade {
    pub merchant: String,
    pub merchant_order_no: String,
    pub amount: u64,
    pub currency: Currency,
    pub subject: String,
    pub notify_url: Option<String>,
    pub expires_in_s: Option<u64>,
}

impl NewTrade {
    /// Checks the request against its merchant; `trade_id` is the id to give it.
    pub fn into_trade(
        self,
        merchant: &Merchant,
        trade_id: String,
        now: Millis,
    ) -> Result<Trade, PayError> {
        self.check(merchant)?;
        let expires_in_s = self.expires_in_s.unwrap_or(EXPIRES_IN_S_DEFAULT);
        Ok(Trade {
            trade_id,
            merchant: self.merchant,
            merchant_order_no: self.merchant_order_no,
            amount: self.amount,
            currency: self.currency,
            subject: self.subject,
            notify_url: self.notify_url,
            status: TradeStatus::Open,
            created_at: now,
            expires_at: now + expires_in_s * 1000,
            paid_by: None,
            paid_at: None,
            claimed_by: None,
        })
    }

    /// Every check that does not need the store.
    pub fn check(&self, merchant: &Merchant) -> Result<(), PayError> {
        assert_eq!(self.merchant, merchant.id);
        ids::check_order_id(
            "merchant_order_no",
            &self.merchant_order_no,
            ids::MERCHANT_ORDER_NO_BYTES_MAX,
        )?;
        ids::check_amount("amount", self.amount)?;
        ids::check_text("subject", &self.subject, ids::SUBJECT_BYTES_MAX, false)?;
        if let Some(s) = self.expires_in_s {
            if s == 0 || s > EXPIRES_IN_S_MAX {
                return Err(PayError::invalid("expires_in_s", "1 to 604800 seconds"));
            }
        }
        if self.currency != merchant.currency {
            return Err(PayError::CurrencyMismatch {
                given: self.currency.code().to_owned(),
                expected: merchant.currency.code().to_owned(),
            });
        }
        if let Some(url) = &self.notify_url {
            merchant.check_notify_url(url)?;
        }
        Ok(())
    }
}

impl Trade {
    /// Whether a create request asks for exactly this trade (an idempotent retry).
    pub fn same_request(&self, request: &NewTrade) -> bool {
        self.merchant == request.merchant
            && self.merchant_order_no == request.merchant_order_no
            && self.amount == request.amount
            && self.currency == request.currency
            && self.subject == request.subject
            && self.notify_url == request.notify_url
            && request.expires_in_s.unwrap_or(EXPIRES_IN_S_DEFAULT) * 1000
                == self.expires_at - self.created_at
    }

    /// Whether a new payment may start on this trade at `now`.
    pub fn check_payable(&self, now: Millis) -> Result<(), PayError> {
        match self.status {
            TradeStatus::Paid => Err(PayError::TradeAlreadyPaid),
            TradeStatus::Closed => Err(PayError::TradeClosed),
            TradeStatus::Expired => Err(PayError::TradeExpired {
                expires_at: self.expires_at,
            }),
            TradeStatus::Open if now >= self.expires_at => Err(PayError::TradeExpired {
                expires_at: self.expires_at,
            }),
            TradeStatus::Open if self.claimed_by.is_some() => Err(PayError::PaymentPending),
            TradeStatus::Open => Ok(()),
        }
    }

    /// Marks a trade found past its expiry `expired`; whether it did.
    pub fn expire_if_due(&mut self, now: Millis) -> bool {
        let due =
            self.status == TradeStatus::Open && self.claimed_by.is_none() && now >= self.expires_at;
        if due {
            self.status = TradeStatus::Expired;
        }
        due
    }

    /// `payment`'s money arrived: it pays the trade, unless the trade is paid (or being paid)
    /// by another payment, expired or closed — then the money goes back, for that reason.
    pub fn claim(&mut self, payment: &str, now: Millis) -> Result<(), ReturnReason> {
        if self.claimed_by.as_deref() == Some(payment) || self.paid_by.as_deref() == Some(payment) {
            return Ok(());
        }
        self.expire_if_due(now);
        match self.status {
            TradeStatus::Open if self.claimed_by.is_none() => {
                self.claimed_by = Some(payment.to_owned());
                Ok(())
            }
            TradeStatus::Open | TradeStatus::Paid => Err(ReturnReason::DuplicatePayment),
            TradeStatus::Expired => Err(ReturnReason::TradeExpired),
            TradeStatus::Closed => Err(ReturnReason::TradeClosed),
        }
    }

    /// Gives up `payment`'s claim (its posting was refused): the trade is payable again.
    pub fn unclaim(&mut self, payment: &str) {
        if self.claimed_by.as_deref() == Some(payment) {
            self.claimed_by = None;
        }
    }

    /// The claiming payment was posted: the trade is paid by it.
    pub fn mark_paid(&mut self, payment: &str, now: Millis) -> Result<(), TradeStatus> {
        if self.paid_by.as_deref() == Some(payment) {
            return Ok(());
        }
        if self.status != TradeStatus::Open || self.claimed_by.as_deref() != Some(payment) {
            return Err(self.status);
        }
        self.status = TradeStatus::Paid;
        self.paid_by = Some(payment.to_owned());
        self.paid_at = Some(now);
        self.claimed_by = None;
        Ok(())
    }

    /// Closes an unpaid trade. `in_flight`: a payment of it is still open at its bank.
    pub fn close(&mut self, in_flight: bool) -> Result<(), PayError> {
        match self.status {
            TradeStatus::Paid => Err(PayError::TradeAlreadyPaid),
            TradeStatus::Closed => Ok(()),
            _ if in_flight || self.claimed_by.is_some() => Err(PayError::PaymentPending),
            TradeStatus::Open | TradeStatus::Expired => {
                self.status = TradeStatus::Closed;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchant::NewMerchant;

    fn merchant() -> Merchant {
        NewMerchant {
            id: "shop".into(),
            name: "Shop".into(),
            callback_hosts: vec!["127.0.0.1".into()],
            fee_rate_bp: 0,
            currency: Currency::CNY,
        }
        .into_merchant(0)
        .unwrap()
    }

    fn request() -> NewTrade {
        NewTrade {
            merchant: "shop".into(),
            merchant_order_no: "o-1".into(),
            amount: 1234,
            currency: Currency::CNY,
            subject: "tea".into(),
            notify_url: Some("http://127.0.0.1:9/n".into()),
            expires_in_s: None,
        }
    }

    #[test]
    fn a_trade_is_payable_until_it_expires_or_is_paid() {
        let mut t = request()
            .into_trade(&merchant(), "T1".into(), 1_000)
            .unwrap();
        assert_eq!(t.expires_at, 1_000 + 900_000);
        assert!(t.same_request(&request()));
        assert!(t.check_payable(900_999).is_ok());
        assert_eq!(
            t.check_payable(901_000).unwrap_err().code(),
            "trade_expired"
        );
        assert_eq!(
            t.mark_paid("p1", 2_000),
            Err(TradeStatus::Open),
            "only a claim is paid"
        );
        t.claim("p1", 1_500).unwrap();
        assert_eq!(
            t.check_payable(1_600).unwrap_err().code(),
            "payment_pending"
        );
        assert_eq!(t.claim("p2", 1_600), Err(ReturnReason::DuplicatePayment));
        t.mark_paid("p1", 2_000).unwrap();
        assert_eq!(t.claim("p2", 2_001), Err(ReturnReason::DuplicatePayment));
        assert_eq!(
            t.claim("p1", 2_001),
            Ok(()),
            "the payer's own claim is idempotent"
        );
        assert_eq!(t.close(false).unwrap_err().code(), "trade_already_paid");
        assert_eq!(
            t.check_payable(2_001).unwrap_err().code(),
            "trade_already_paid"
        );
    }

    #[test]
    fn late_successes_are_returned_and_closing_waits_for_payments_in_flight() {
        let m = merchant();
        let mut t = request().into_trade(&m, "T1".into(), 0).unwrap();
        assert_eq!(t.close(true).unwrap_err().code(), "payment_pending");
        t.close(false).unwrap();
        assert_eq!(t.claim("p1", 1), Err(ReturnReason::TradeClosed));
        let mut t = request().into_trade(&m, "T2".into(), 0).unwrap();
        assert_eq!(t.claim("p1", 900_000), Err(ReturnReason::TradeExpired));
        assert_eq!(t.status, TradeStatus::Expired);
        let mut t = request().into_trade(&m, "T3".into(), 0).unwrap();
        t.claim("p1", 10).unwrap();
        t.unclaim("p1");
        assert!(
            t.check_payable(11).is_ok(),
            "a refused posting gives the trade back"
        );
    }

    #[test]
    fn requests_are_checked_against_the_merchant() {
        let m = merchant();
        let refused = |f: fn(&mut NewTrade)| {
            let mut r = request();
            f(&mut r);
            r.check(&m).unwrap_err().code()
        };
        assert_eq!(refused(|r| r.amount = 0), "invalid_field");
        assert_eq!(
            refused(|r| r.merchant_order_no = "a b".into()),
            "invalid_field"
        );
        assert_eq!(refused(|r| r.currency = Currency::USD), "currency_mismatch");
        assert_eq!(
            refused(|r| r.notify_url = Some("http://10.0.0.1/n".into())),
            "notify_url_not_allowed"
        );
        assert_eq!(refused(|r| r.expires_in_s = Some(0)), "invalid_field");
        let mut changed = request();
        changed.amount = 1;
        let t = request().into_trade(&m, "T1".into(), 0).unwrap();
        assert!(!t.same_request(&changed));
    }
}
