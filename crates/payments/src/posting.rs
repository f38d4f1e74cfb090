//! What the ledger posts for the payment side, and under which ids. Every id is derived from
//! the order and the step (`payment:<id>`, `received:<id>`, `refund:<id>`, …), so a retry, a
//! second callback or a crash and restart asks the ledger for the same command again and the
//! ledger's idempotency makes it a replay. A step that was refused keeps its ids (the ledger
//! records rejections too, and answers a retried id with its refusal); a different step uses
//! different ids. The one exception is a payment's posting into suspense, which has no other
//! way out: each try after a stored refusal gets a new id (`received:<id>:<n>`).
//!
//! - A kept channel payment (one linked batch, 组合记账), from the channel's clearing account
//!   (应收渠道款: the channel owes us the full amount): the amount less the fee to the merchant
//!   (kind `payment`) — net settlement, so a merchant account that buffers its credits (hot)
//!   is only ever credited here — and the fee to the fee income account (kind `fee`).
//! - Money not kept (a duplicate, a late success) and a combined payment's external part go
//!   from the clearing account into the suspense account (a transit account: 中间过渡户), out
//!   of which the automatic refund is paid (kind `refund`) — or, for a combined payment, the
//!   merchant once the balance part is in. A suspense balance left over is money on its way
//!   back or a step not finished: the day-end report lists it (挂账).
//! - Refunds a merchant asks for and payouts are holds on the merchant's account, captured to
//!   the clearing account (kinds `refund`, `withdrawal`) or released.

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

/// The transit account money not (yet) kept waits in.
pub fn suspense_account(currency: Currency) -> String {
    format!("PAY-SUSPENSE-{}", currency.code())
}

/// The ledger id of a kept payment's posting; also how a ledger record is traced to it.
pub fn payment_ledger_id(payment_id: &str) -> String {
    format!("payment:{payment_id}")
}

/// Ledger ids of a refund's hold, capture (or suspense posting) and release.
pub fn refund_ids(refund_id: &str) -> (String, String, String) {
    (
        format!("refund-hold:{refund_id}"),
        format!("refund:{refund_id}"),
        format!("refund-free:{refund_id}"),
    )
}

/// Ledger ids of a payout attempt's hold, capture and release (attempt numbers from 1).
pub fn payout_ids(payout_id: &str, attempt: usize) -> (String, String, String) {
    (
        crate::payout::hold_id(payout_id, attempt),
        format!("payout:{payout_id}:{attempt}"),
        format!("payout-free:{payout_id}:{attempt}"),
    )
}

fn transfer(
    client_id: String,
    debit: &str,
    credit: &str,
    amount: u64,
    payment: &Payment,
    kind: LedgerKind,
) -> LedgerTransfer {
    LedgerTransfer {
        client_id,
        debit: debit.to_owned(),
        credit: credit.to_owned(),
        amount,
        currency: payment.currency,
        kind,
        reference: reference_for(&payment.trade_id),
    }
}

/// `debit` pays the merchant the amount less the fee and the fee income the fee; transfers
/// of zero are left out.
fn pay_merchant(
    payment: &Payment,
    debit: &str,
    merchant: &str,
    ids: [String; 2],
) -> Vec<LedgerTransfer> {
    assert!(payment.fee <= payment.amount);
    let [net_id, fee_id] = ids;
    let net = payment.amount - payment.fee;
    let mut transfers = Vec::with_capacity(2);
    if net > 0 {
        transfers.push(transfer(
            net_id,
            debit,
            merchant,
            net,
            payment,
            LedgerKind::Payment,
        ));
    }
    if payment.fee > 0 {
        let fee = fee_account(payment.currency);
        transfers.push(transfer(
            fee_id,
            debit,
            &fee,
            payment.fee,
            payment,
            LedgerKind::Fee,
        ));
    }
    transfers
}

fn clearing_of(payment: &Payment) -> String {
    let attempt = payment
        .received_by()
        .expect("the channel received the money");
    clearing_account(&attempt.order.channel, payment.currency)
}

/// A kept channel payment: clearing → merchant (net), → fee income. Linked.
pub fn payment_postings(payment: &Payment, merchant_account: &str) -> Vec<LedgerTransfer> {
    let clearing = clearing_of(payment);
    let ids = [
        payment_ledger_id(&payment.id),
        format!("fee:{}", payment.id),
    ];
    let transfers = pay_merchant(payment, &clearing, merchant_account, ids);
    assert_eq!(
        sum(&transfers),
        payment.amount,
        "the clearing account is debited the full amount"
    );
    transfers
}

/// What the channel received, into suspense.
pub fn suspense_posting(payment: &Payment) -> LedgerTransfer {
    let clearing = clearing_of(payment);
    let suspense = suspense_account(payment.currency);
    let id = match payment.ledger_tries {
        0 => format!("received:{}", payment.id),
        tries => format!("received:{}:{tries}", payment.id),
    };
    transfer(
        id,
        &clearing,
        &suspense,
        payment.external_amount(),
        payment,
        LedgerKind::Payment,
    )
}

/// A combined payment's balance part into suspense, then the merchant paid from it. Linked:
/// the payer's part first, so suspense never goes below zero.
pub fn combined_postings(payment: &Payment, merchant_account: &str) -> Vec<LedgerTransfer> {
    let payer = payment
        .payer_account
        .as_deref()
        .expect("a combined payment has a payer");
    let suspense = suspense_account(payment.currency);
    let mut transfers = vec![transfer(
        format!("comb-payer:{}", payment.id),
        payer,
        &suspense,
        payment.balance_amount,
        payment,
        LedgerKind::Payment,
    )];
    let ids = [
        format!("comb-net:{}", payment.id),
        format!("comb-fee:{}", payment.id),
    ];
    transfers.extend(pay_merchant(payment, &suspense, merchant_account, ids));
    transfers
}

/// A balance payment: payer → merchant (net), → fee income. Linked.
pub fn balance_postings(payment: &Payment, merchant_account: &str) -> Vec<LedgerTransfer> {
    let payer = payment
        .payer_account
        .as_deref()
        .expect("a balance payment has a payer");
    let ids = [
        payment_ledger_id(&payment.id),
        format!("fee:{}", payment.id),
    ];
    pay_merchant(payment, payer, merchant_account, ids)
}

/// An automatic refund out of suspense, to the channel's clearing account.
pub fn suspense_refund_posting(payment: &Payment, refund_id: &str, amount: u64) -> LedgerTransfer {
    let clearing = clearing_of(payment);
    let suspense = suspense_account(payment.currency);
    transfer(
        refund_ids(refund_id).1,
        &suspense,
        &clearing,
        amount,
        payment,
        LedgerKind::Refund,
    )
}

/// A reconciliation refund (money the channel holds that paycore never counted): its receipt
/// from the channel into suspense, then its return out of suspense. Linked, the receipt
/// first, so suspense never goes below zero and the pair nets to nothing.
pub fn recon_refund_postings(
    payment: &Payment,
    channel: &str,
    refund_id: &str,
    amount: u64,
) -> Vec<LedgerTransfer> {
    let clearing = clearing_account(channel, payment.currency);
    let suspense = suspense_account(payment.currency);
    let (_, returned, received) = refund_ids(refund_id);
    let postings = vec![
        transfer(
            received,
            &clearing,
            &suspense,
            amount,
            payment,
            LedgerKind::Payment,
        ),
        transfer(
            returned,
            &suspense,
            &clearing,
            amount,
            payment,
            LedgerKind::Refund,
        ),
    ];
    assert_eq!(
        postings[0].amount, postings[1].amount,
        "the pair nets to nothing"
    );
    postings
}

fn sum(transfers: &[LedgerTransfer]) -> u64 {
    transfers.iter().map(|t| t.amount).sum()
}

fn reference_for(trade_id: &str) -> String {
    let mut reference = format!("trade {trade_id}");
    reference.truncate(64);
    reference
}

#[cfg(test)]
mod tests;

/// The anomaly an order carries while the ledger refuses a step it cannot skip: which step,
/// the ledger's code, and how often it is tried again.
pub(crate) fn refusal_anomaly(step: &str, code: &str, retry_ms: u64) -> String {
    format!("the ledger refused {step} ({code}); tried again every {retry_ms} ms")
}

/// `refusal_anomaly` for a step whose retries keep its id (a refund's or a payout's): the
/// ledger answers a retry of one id with its recorded refusal, so only an operator can move
/// it (see ARCHITECTURE.md, "A refused step that cannot be skipped").
pub(crate) fn stuck_anomaly(step: &str, code: &str, retry_ms: u64) -> String {
    format!(
        "{}, but a recorded refusal stays the ledger's answer for this step: it needs an operator",
        refusal_anomaly(step, code, retry_ms)
    )
}
