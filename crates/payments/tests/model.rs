//! A model test of the order state machines: one trade paid by several payments over two
//! channels, and one payout, under random interleavings of answers, callbacks, queries,
//! timeouts, ledger steps and crashes (a step done in the ledger whose record is lost). The
//! banks have a hidden truth per order; the ledger is a map of posted ids. After every event:
//! at most one payment keeps money and only it pays the trade; nothing is posted twice; a
//! payout never has two orders out at once and is captured at most once. Driven to the end:
//! every success is kept or refunded, suspense is empty, every book balances.

use std::collections::{BTreeMap, BTreeSet};

use paycore_money::Currency;
use paycore_payments::payout::PayoutStep;
use paycore_payments::posting::*;
use paycore_payments::*;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

const TIMING: Timing = Timing {
    not_found_grace_ms: 0,
};
const AMOUNT: u64 = 1_000;

fn route(channel: &str) -> RouteDecision {
    RouteDecision {
        chosen: Some(channel.into()),
        strategy: paycore_payments::Strategy::Weighted,
        candidates: Vec::new(),
        split_key: None,
        at: 0,
    }
}

/// The ledger as the model sees it: posted ids (a replay changes nothing) and balances.
#[derive(Default)]
struct Ledger {
    posted: BTreeSet<String>,
    balances: BTreeMap<String, i64>,
    holds: BTreeMap<String, (String, u64)>,
}

impl Ledger {
    fn post(&mut self, transfers: &[LedgerTransfer]) {
        for t in transfers {
            if self.posted.insert(t.client_id.clone()) {
                *self.balances.entry(t.debit.clone()).or_default() -= t.amount as i64;
                *self.balances.entry(t.credit.clone()).or_default() += t.amount as i64;
            }
        }
    }

    fn balance(&self, account: &str) -> i64 {
        self.balances.get(account).copied().unwrap_or(0)
    }

    fn hold(&mut self, id: &str, account: &str, amount: u64) {
        if self.posted.insert(id.to_owned()) {
            self.holds
                .insert(id.to_owned(), (account.to_owned(), amount));
        }
    }

    /// Capture moves the held money; release frees it. Each once.
    fn settle_hold(&mut self, hold: &str, op_id: &str, credit: Option<&str>) {
        if !self.posted.insert(op_id.to_owned()) {
            return;
        }
        let (account, amount) = self.holds.remove(hold).expect("settled a hold that exists");
        if let Some(credit) = credit {
            *self.balances.entry(account).or_default() -= amount as i64;
            *self.balances.entry(credit.to_owned()).or_default() += amount as i64;
        }
    }
}

struct World {
    trade: Trade,
    payments: Vec<Payment>,
    /// What each bank will say about each payment's order (success or failure).
    truth: Vec<bool>,
    refunds: Vec<Refund>,
    payout: Payout,
    payout_truth: Vec<bool>,
    ledger: Ledger,
    now: u64,
}

#[derive(Clone, Debug)]
enum Event {
    /// The bank answers payment i's current order (its truth, or nothing).
    Answer(usize, bool),
    Callback(usize),
    Query(usize),
    /// Do payment i's next ledger step; `record` false: the process dies before recording it.
    Step(usize, bool),
    /// Reroute payment i if it may be (a person asks).
    Reroute(usize),
    RefundStep(usize, bool),
    PayoutAnswer(bool),
    PayoutStep(bool),
    PayoutReroute,
}

fn any_event() -> impl proptest::strategy::Strategy<Value = Event> {
    prop_oneof![
        (0..3usize, any::<bool>()).prop_map(|(i, b)| Event::Answer(i, b)),
        (0..3usize).prop_map(Event::Callback),
        (0..3usize).prop_map(Event::Query),
        (0..3usize, any::<bool>()).prop_map(|(i, b)| Event::Step(i, b)),
        (0..3usize).prop_map(Event::Reroute),
        (0..6usize, any::<bool>()).prop_map(|(i, b)| Event::RefundStep(i, b)),
        any::<bool>().prop_map(Event::PayoutAnswer),
        any::<bool>().prop_map(Event::PayoutStep),
        Just(Event::PayoutReroute),
    ]
}

fn new_world(truth: Vec<bool>, payout_truth: Vec<bool>) -> World {
    let trade = Trade {
        trade_id: "T".into(),
        merchant: "m".into(),
        merchant_order_no: "o".into(),
        amount: AMOUNT,
        currency: Currency::CNY,
        subject: String::new(),
        notify_url: None,
        status: TradeStatus::Open,
        created_at: 0,
        expires_at: u64::MAX,
        paid_by: None,
        paid_at: None,
        claimed_by: None,
    };
    let payments = (0..3)
        .map(|i| {
            let request = NewPayment {
                id: format!("p{i}"),
                trade_id: "T".into(),
                merchant: "m".into(),
                method: if i == 2 {
                    Method::Combined
                } else {
                    Method::Quickpay
                },
                amount: AMOUNT,
                currency: Currency::CNY,
                fee: 10,
                requested_channel: None,
                payer_account: (i == 2).then(|| "payer".to_owned()),
                balance_amount: if i == 2 { 400 } else { 0 },
            };
            let channel = if i % 2 == 0 { "a" } else { "b" };
            Payment::new(request, format!("p{i}-1"), route(channel), 0, 1)
        })
        .collect();
    let payout = Payout::new(
        NewPayout {
            id: "w".into(),
            merchant: "m".into(),
            amount: 300,
            currency: Currency::CNY,
            bank_account: "acct".into(),
            channel: None,
            notify_url: None,
        },
        "w-1".into(),
        route("a"),
        0,
    );
    let mut ledger = Ledger::default();
    ledger.balances.insert("M-m".into(), 10_000);
    ledger.balances.insert("payer".into(), 300); // less than a combined part sometimes needs
    World {
        trade,
        payments,
        truth,
        refunds: Vec::new(),
        payout,
        payout_truth,
        ledger,
        now: 1,
    }
}

fn verdict(truth: bool, bank_ref: &str, amount: u64) -> BankResult {
    if truth {
        BankResult::Succeeded {
            bank_ref: bank_ref.into(),
            amount,
        }
    } else {
        BankResult::Failed {
            code: "NO".into(),
            message: "no".into(),
        }
    }
}

impl World {
    fn truth_of(&self, i: usize) -> bool {
        // Each attempt of a payment has its own truth (a reroute goes elsewhere).
        let attempts = self.payments[i].attempts.len();
        self.truth[(i + attempts * 3) % self.truth.len()]
    }

    fn report_payment(&mut self, i: usize, source: ReportSource, result: BankResult) {
        let Some(order) = self.payments[i].current().map(|a| a.order.order_no.clone()) else {
            return;
        };
        let report = BankReport {
            order_no: order,
            source,
            result,
        };
        self.payments[i].report(&mut self.trade, &report, self.now, TIMING);
    }

    fn apply(&mut self, event: Event) {
        self.now += 1;
        match event {
            Event::Answer(i, said) => {
                let result = if said {
                    let amount = self.payments[i].external_amount();
                    verdict(self.truth_of(i), "B", amount)
                } else {
                    BankResult::NoAnswer {
                        reason: "timeout".into(),
                    }
                };
                self.report_payment(i, ReportSource::Response, result);
            }
            Event::Callback(i) | Event::Query(i) => {
                let amount = self.payments[i].external_amount();
                let result = verdict(self.truth_of(i), "B", amount);
                let source = if matches!(event, Event::Query(_)) {
                    ReportSource::Query
                } else {
                    ReportSource::Callback
                };
                self.report_payment(i, source, result);
            }
            Event::Step(i, record) => self.payment_step(i, record),
            Event::Reroute(i) => {
                if self.payments[i].check_reroute().is_ok()
                    && self.trade.check_payable(self.now).is_ok()
                {
                    let n = self.payments[i].attempts.len() + 1;
                    let channel = if n.is_multiple_of(2) { "b" } else { "a" };
                    let order = format!("p{i}-{n}");
                    self.payments[i]
                        .reroute(order, route(channel), self.now, self.now)
                        .unwrap();
                }
            }
            Event::RefundStep(r, record) => self.refund_step(r, record),
            Event::PayoutAnswer(said) => self.payout_answer(said),
            Event::PayoutStep(record) => self.payout_step(record),
            Event::PayoutReroute => {
                let n = self.payout.attempts.len() + 1;
                if self.payout.check_reroute().is_ok() {
                    self.payout
                        .reroute(format!("w-{n}"), route("b"), self.now)
                        .unwrap();
                }
            }
        }
    }

    /// The service's drive loop for one step; `record` false loses the record (a crash).
    fn payment_step(&mut self, i: usize, record: bool) {
        let now = self.now;
        let p = &self.payments[i];
        match p.next_step() {
            Step::PostKeep => {
                self.ledger.post(&payment_postings(p, "M-m"));
                if record {
                    self.payments[i].kept(&mut self.trade, now);
                }
            }
            Step::PostToSuspense => {
                self.ledger.post(&[suspense_posting(p)]);
                if record {
                    self.payments[i].in_suspense(now);
                }
            }
            Step::PostCombined => {
                let needs = p.balance_amount as i64;
                if self.ledger.balance("payer") >= needs {
                    self.ledger.post(&combined_postings(p, "M-m"));
                    if record {
                        self.payments[i].kept(&mut self.trade, now);
                    }
                } else if record {
                    self.payments[i].combined_refused(&mut self.trade, "insufficient_funds", now);
                }
            }
            Step::Refund => {
                if record {
                    let id = format!("auto-{}", p.id);
                    let paid = p.received_by().unwrap();
                    let refundable = Refundable {
                        payment_id: &p.id,
                        trade_id: &p.trade_id,
                        merchant: &p.merchant,
                        currency: p.currency,
                        channel: &paid.order.channel,
                        paid_order_no: &paid.order.order_no,
                    };
                    let request = NewRefund {
                        id: id.clone(),
                        amount: p.external_amount(),
                        reason: "auto".into(),
                    };
                    let refund = Refund::new(
                        request,
                        &refundable,
                        RefundSource::Suspense,
                        format!("r-{id}"),
                        now,
                    );
                    self.refunds.push(refund);
                    self.payments[i].refund_started(&id, now);
                }
            }
            Step::PostBalance | Step::AskBank | Step::Done => {}
        }
    }

    fn refund_step(&mut self, r: usize, record: bool) {
        let Some(refund) = self.refunds.get(r) else {
            return;
        };
        let now = self.now;
        match refund.next_step() {
            RefundStep::Send => {
                self.refunds[r].order.mark_sent(now);
                // Banks refund what they received: the truth of a refund is success.
                let report = BankReport {
                    order_no: self.refunds[r].order.order_no.clone(),
                    source: ReportSource::Response,
                    result: verdict(true, "R", self.refunds[r].amount),
                };
                self.refunds[r].report(&report, now, TIMING);
            }
            RefundStep::Post => {
                let payment = self
                    .payments
                    .iter()
                    .position(|p| p.id == refund.payment_id)
                    .unwrap();
                let posting =
                    suspense_refund_posting(&self.payments[payment], &refund.id, refund.amount);
                self.ledger.post(&[posting]);
                if record {
                    self.refunds[r].posted(now);
                    self.payments[payment].refunded(now);
                }
            }
            _ => {}
        }
    }

    fn payout_answer(&mut self, said: bool) {
        let attempt = self.payout.current();
        if attempt.order.sends == 0 {
            return; // nothing was sent: the bank knows nothing
        }
        let n = self.payout.attempts.len();
        let result = if said {
            verdict(
                self.payout_truth[n % self.payout_truth.len()],
                "W",
                self.payout.amount,
            )
        } else {
            BankResult::NoAnswer {
                reason: "timeout".into(),
            }
        };
        let report = BankReport {
            order_no: attempt.order.order_no.clone(),
            source: ReportSource::Query,
            result,
        };
        self.payout.report(&report, self.now, TIMING);
    }

    fn payout_step(&mut self, record: bool) {
        let now = self.now;
        let n = self.payout.attempts.len();
        let (hold, capture, free) = payout_ids(&self.payout.id, n);
        match self.payout.next_step() {
            PayoutStep::PlaceHold => {
                self.ledger.hold(&hold, "M-m", self.payout.amount);
                if record {
                    self.payout.hold_placed(now);
                }
            }
            PayoutStep::Send => {
                self.payout.mark_sent(now).unwrap();
            }
            PayoutStep::Capture => {
                self.ledger.settle_hold(&hold, &capture, Some("CLR-a-CNY"));
                if record {
                    self.payout.captured(now);
                }
            }
            PayoutStep::Release => {
                self.ledger.settle_hold(&hold, &free, None);
                if record {
                    self.payout.released(now);
                }
            }
            PayoutStep::AskBank | PayoutStep::Done => {}
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let keeping: Vec<&Payment> = self
            .payments
            .iter()
            .filter(|p| p.disposition == Some(Disposition::Keep))
            .collect();
        prop_assert!(keeping.len() <= 1, "two payments keep money: {keeping:?}");
        if let Some(paid_by) = &self.trade.paid_by {
            prop_assert_eq!(Some(paid_by), keeping.first().map(|p| &p.id));
            prop_assert_eq!(keeping[0].status, PaymentStatus::Succeeded);
        }
        let succeeded = self
            .payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Succeeded)
            .count();
        prop_assert!(succeeded <= 1);
        prop_assert!(self.ledger.balance("PAY-SUSPENSE-CNY") >= 0);
        // A payout has at most one order out at a time, and each attempt's hold was placed
        // before it was sent.
        let out = self
            .payout
            .attempts
            .iter()
            .filter(|a| a.order.sends > 0 && !a.order.status.is_final())
            .count();
        prop_assert!(out <= 1, "two payout orders out at once");
        let sent_without_hold = self
            .payout
            .attempts
            .iter()
            .any(|a| a.order.sends > 0 && a.hold == HoldState::Pending);
        prop_assert!(!sent_without_hold);
        let captured = self
            .payout
            .attempts
            .iter()
            .filter(|a| a.hold == HoldState::Captured)
            .count();
        prop_assert!(captured <= 1, "a payout paid twice");
        let total: i64 = self.ledger.balances.values().sum();
        prop_assert_eq!(total, 10_300, "books balance");
        Ok(())
    }

    /// Everything answered truthfully and every step done and recorded, until nothing moves.
    fn drive_to_the_end(&mut self) {
        for _ in 0..20 {
            for i in 0..3 {
                self.apply(Event::Query(i));
                self.apply(Event::Step(i, true));
            }
            for r in 0..self.refunds.len() {
                self.apply(Event::RefundStep(r, true));
            }
            self.apply(Event::PayoutStep(true));
            self.apply(Event::PayoutAnswer(true));
        }
    }
}

fn config() -> Config {
    Config {
        cases: 3_000,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x16_0DE1),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_interleaving_keeps_two_payments_or_pays_out_twice(
        truth in proptest::collection::vec(any::<bool>(), 9),
        payout_truth in proptest::collection::vec(any::<bool>(), 3),
        events in proptest::collection::vec(any_event(), 0..60),
    ) {
        let mut world = new_world(truth, payout_truth);
        for event in events {
            world.apply(event);
            world.check()?;
        }
        world.drive_to_the_end();
        world.check()?;
        for p in &world.payments {
            prop_assert!(
                p.status.is_final() || p.status.in_flight(),
                "{} stuck {:?} at {:?}", p.id, p.status, p.next_step()
            );
            if p.received_by().is_some() {
                prop_assert!(
                    matches!(p.status, PaymentStatus::Succeeded | PaymentStatus::Refunded | PaymentStatus::Failed),
                    "money received by {} is kept or refunded: {:?}", p.id, p.status
                );
            }
        }
        prop_assert_eq!(world.ledger.balance("PAY-SUSPENSE-CNY"), 0, "suspense empty in the end");
        let kept = world.payments.iter().filter(|p| p.status == PaymentStatus::Succeeded).count();
        prop_assert_eq!(kept == 1, world.trade.status == TradeStatus::Paid);
    }
}
