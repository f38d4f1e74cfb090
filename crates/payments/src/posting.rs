//! What the ledger posts for the payment side. Every ledger id is derived from the order
//! (`payment:<id>`, `fee:<id>`), so a retry, a second callback or a crash and restart asks the
//! ledger for the same command again and the ledger's idempotency makes it a replay.
//!
//! A succeeded payment posts, as one linked batch (组合记账), from the channel's clearing
//! account (应收渠道款: the channel owes us the full amount):
//! - the amount less the fee to the merchant (kind `payment`): net settlement, so a merchant
//!   account that buffers its credits (hot) is only ever credited here, never debited;
//! - the fee to the fee income account of the currency (kind `fee`), if there is one.

use paycore_money::Currency;

use crate::channel::clearing_account;
use crate::payment::Payment;

/// The ledger's kinds the payment side posts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerKind {
    Payment,
    Fee,
    Refund,
    Withdrawal,
}

/// One transfer to submit to the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerTransfer {
    pub client_id: String,
    pub debit: String,
    pub credit: String,
    pub amount: u64,
    pub currency: Currency,
    pub kind: LedgerKind,
    pub reference: String,
}

/// The account fees are credited to (internal: 手续费收入).
pub fn fee_account(currency: Currency) -> String {
    format!("FEE-INCOME-{}", currency.code())
}

/// The ledger id of a payment's posting; also how a ledger record is traced to its payment.
pub fn payment_ledger_id(payment_id: &str) -> String {
    format!("payment:{payment_id}")
}

/// The transfers a succeeded payment posts (linked: all or none).
pub fn payment_postings(payment: &Payment, merchant_account: &str) -> Vec<LedgerTransfer> {
    assert!(payment.fee <= payment.amount);
    let clearing = clearing_account(&payment.current().channel, payment.currency);
    let reference = reference_for(&payment.trade_id);
    let net = payment.amount - payment.fee;
    let mut transfers = Vec::with_capacity(2);
    if net > 0 {
        transfers.push(LedgerTransfer {
            client_id: payment_ledger_id(&payment.id),
            debit: clearing.clone(),
            credit: merchant_account.to_owned(),
            amount: net,
            currency: payment.currency,
            kind: LedgerKind::Payment,
            reference: reference.clone(),
        });
    }
    if payment.fee > 0 {
        transfers.push(LedgerTransfer {
            client_id: format!("fee:{}", payment.id),
            debit: clearing,
            credit: fee_account(payment.currency),
            amount: payment.fee,
            currency: payment.currency,
            kind: LedgerKind::Fee,
            reference,
        });
    }
    let posted: u64 = transfers.iter().map(|t| t.amount).sum();
    assert_eq!(
        posted, payment.amount,
        "the clearing account is debited the full amount"
    );
    transfers
}

fn reference_for(trade_id: &str) -> String {
    let mut reference = format!("trade {trade_id}");
    reference.truncate(64);
    reference
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Method;
    use crate::payment::NewPayment;
    use crate::routing::{RouteDecision, Strategy};

    fn payment(amount: u64, fee: u64) -> Payment {
        let route = RouteDecision {
            chosen: Some("bank-a".into()),
            strategy: Strategy::Weighted,
            candidates: Vec::new(),
            split_key: None,
            at: 0,
        };
        let request = NewPayment {
            id: "p-1".into(),
            trade_id: "T1".into(),
            merchant: "shop".into(),
            method: Method::Quickpay,
            amount,
            currency: Currency::CNY,
            fee,
            requested_channel: None,
        };
        Payment::new(request, "2026120100000001".into(), route, 0, 1)
    }

    #[test]
    fn a_payment_posts_net_to_the_merchant_and_the_fee_to_income() {
        let t = payment_postings(&payment(10_000, 60), "M-shop");
        assert_eq!(t.len(), 2);
        assert_eq!(
            (
                t[0].client_id.as_str(),
                t[0].debit.as_str(),
                t[0].credit.as_str(),
                t[0].amount
            ),
            ("payment:p-1", "CLR-bank-a-CNY", "M-shop", 9_940)
        );
        assert_eq!(
            (
                t[1].client_id.as_str(),
                t[1].credit.as_str(),
                t[1].amount,
                t[1].kind
            ),
            ("fee:p-1", "FEE-INCOME-CNY", 60, LedgerKind::Fee)
        );
        assert_eq!(t[0].reference, "trade T1");
    }

    #[test]
    fn no_fee_and_all_fee_post_one_transfer() {
        let t = payment_postings(&payment(500, 0), "M-shop");
        assert_eq!(
            (t.len(), t[0].kind, t[0].amount),
            (1, LedgerKind::Payment, 500)
        );
        let t = payment_postings(&payment(500, 500), "M-shop");
        assert_eq!((t.len(), t[0].kind, t[0].amount), (1, LedgerKind::Fee, 500));
    }
}
