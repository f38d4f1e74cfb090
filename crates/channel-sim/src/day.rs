//! A channel's day as the bank tells it: the real payment and refund lines of a date (the
//! truth), the statement lines the faults turn them into, what `/truth` reports about them,
//! and the day's settlement.
//!
//! Dating: a pay order whose real outcome is success, and a refund order that succeeded,
//! belong to the Beijing (UTC+8) calendar day of the moment their outcome became visible at
//! the bank; an order whose outcome is not visible yet is on no statement. Payouts (出款) are
//! never on these statements: they are the merchant's money leaving through another product,
//! not trades of this bill.
//!
//! Lines: a payment is the pay order's number, the bank's reference, its amount and fee; a
//! refund is the number of the payment it refunds (with that payment's bank reference), its
//! own number as `refund_no`, the refunded amount, and no fee (the simulated bank keeps fees
//! on refunds). Statement lines are sorted by printed time, then order number.

use std::collections::BTreeMap;

use paycore_channels::files::SettlementBody;
use paycore_channels::{Currency, OrderKind};
use paycore_statements::{write_statement, Format, LineKind, StatementLine, WriteError};
use serde::Serialize;
use time::Date;
use tokio::time::Instant;

use crate::calendar;
use crate::config::ChannelConfig;
use crate::draw;
use crate::faults::{Fault, StatementFaults};
use crate::order::{Order, Visible};
use crate::state::ChannelState;

/// Smallest and span of a fabricated line's amount, in minor units (1.00 to 1000.00).
const EXTRA_AMOUNT_MIN: u64 = 100;
const EXTRA_AMOUNT_SPAN: u64 = 99_901;

/// Which day of which channel, asked at which moment.
pub struct DayKey<'a> {
    pub seed: u64,
    pub channel_id: &'a str,
    pub date: Date,
    pub now: Instant,
}

/// One payment or refund the bank really did (or, for an `extra`, pretends it did).
#[derive(Debug, Clone)]
pub struct TrueLine {
    /// The bank's number of the order: the pay order's, or the refund's own.
    pub order_no: String,
    pub kind: LineKind,
    /// The pay order's number (a refund's: the payment it refunds).
    pub channel_order_no: String,
    pub bank_ref: String,
    pub amount_minor: u64,
    pub fee_minor: u64,
    pub currency: Currency,
    /// `YYYY-MM-DD HH:MM:SS`, Beijing time, of the moment the outcome became visible.
    pub time: String,
}

/// A line as the statement prints it.
#[derive(Debug, Clone)]
struct Printed {
    line: TrueLine,
    time: String,
    amount_minor: u64,
    revoked: bool,
}

/// Why a day cannot be told.
#[derive(Debug, thiserror::Error)]
pub enum DayError {
    #[error("the day's lines are in {0} and {1}: a statement is in one currency")]
    MixedCurrencies(Currency, Currency),
    #[error("the day's net does not fit in 64 bits")]
    Overflow,
    #[error("the statement cannot be written: {0}")]
    Write(#[from] WriteError),
}

/// What `GET /sim/channels/{id}/statements/{date}/truth` answers.
#[derive(Debug, Serialize)]
pub struct TruthView {
    pub date: String,
    /// Real lines of the day (what the settlement counts).
    pub lines: u64,
    /// Detail rows the statement prints.
    pub printed: u64,
    /// Order number (a refund's own number; an extra's fabricated one) → its fault, for each
    /// line of the day that got one.
    pub faults: BTreeMap<String, Fault>,
    /// Lines of the day before with a `next_day` fault, printed in this statement.
    pub carried_in: Vec<String>,
}

/// A channel's day, built under its lock and told (written, signed) after.
pub struct Day {
    date: Date,
    lines: Vec<TrueLine>,
    faults: BTreeMap<String, Fault>,
    carried_in: Vec<String>,
    printed: Vec<Printed>,
    short: i64,
}

impl Day {
    /// The day `key.date` of a channel as of `key.now`.
    pub fn of(state: &ChannelState, key: &DayKey<'_>) -> Day {
        let faults = state.faults;
        let mut day = Day {
            date: key.date,
            lines: true_lines(state, key, key.date),
            faults: BTreeMap::new(),
            carried_in: Vec::new(),
            printed: Vec::new(),
            short: faults.settlement_short,
        };
        for line in day.lines.clone() {
            let fault = fault_of(&faults, key, &line);
            day.print_real(line, fault);
        }
        day.carry_in(state, key, &faults);
        day.fabricate(&state.config, key, &faults);
        day.printed.sort_by(|a, b| {
            (&a.time, &a.line.channel_order_no, &a.line.order_no).cmp(&(
                &b.time,
                &b.line.channel_order_no,
                &b.line.order_no,
            ))
        });
        day
    }

    /// Prints a real line of the day as its fault says.
    fn print_real(&mut self, line: TrueLine, fault: Option<Fault>) {
        if let Some(fault) = fault {
            self.faults.insert(line.order_no.clone(), fault);
        }
        let mut printed = Printed {
            time: line.time.clone(),
            amount_minor: line.amount_minor,
            revoked: false,
            line,
        };
        match fault {
            None => {}
            Some(Fault::Drop | Fault::NextDay) => return,
            Some(Fault::Amount) => printed.amount_minor = printed.amount_minor.saturating_add(1),
            Some(Fault::Status) => printed.revoked = true,
            Some(Fault::Duplicate) => self.printed.push(printed.clone()),
            Some(Fault::Extra) => {}
        }
        self.printed.push(printed);
    }

    /// Prints the day before's `next_day` lines, at the first second of this day.
    fn carry_in(&mut self, state: &ChannelState, key: &DayKey<'_>, faults: &StatementFaults) {
        let Some(previous) = key.date.previous_day() else {
            return;
        };
        let midnight = calendar::time_of_day(key.date, 0);
        for line in true_lines(state, key, previous) {
            if fault_of(faults, key, &line) != Some(Fault::NextDay) {
                continue;
            }
            self.carried_in.push(line.order_no.clone());
            self.printed.push(Printed {
                time: midnight.clone(),
                amount_minor: line.amount_minor,
                revoked: false,
                line,
            });
        }
    }

    /// Adds `extra_pct` % of the real lines (rounded up) for orders the bank never had.
    fn fabricate(&mut self, config: &ChannelConfig, key: &DayKey<'_>, faults: &StatementFaults) {
        let currency = self.lines.first().map_or(Currency::CNY, |l| l.currency);
        let date = calendar::format_date(self.date);
        for index in 0..faults.extras(self.lines.len() as u64) {
            let (number, shape) = draw::extra_line(key.seed, key.channel_id, &date, index);
            let amount_minor = EXTRA_AMOUNT_MIN + shape % EXTRA_AMOUNT_SPAN;
            let line = TrueLine {
                bank_ref: draw::bank_ref(key.seed, key.channel_id, &number),
                order_no: number.clone(),
                kind: LineKind::Payment,
                channel_order_no: number,
                amount_minor,
                fee_minor: config.fee_of(amount_minor),
                currency,
                time: calendar::time_of_day(self.date, shape >> 32),
            };
            self.faults.insert(line.order_no.clone(), Fault::Extra);
            self.printed.push(Printed {
                time: line.time.clone(),
                amount_minor,
                revoked: false,
                line,
            });
        }
    }

    /// The one currency of the day (CNY for an empty day).
    fn currency(&self) -> Result<Currency, DayError> {
        let mut currencies = self
            .lines
            .iter()
            .chain(self.printed.iter().map(|p| &p.line))
            .map(|l| l.currency);
        let first = currencies.next().unwrap_or(Currency::CNY);
        match currencies.find(|c| *c != first) {
            Some(other) => Err(DayError::MixedCurrencies(first, other)),
            None => Ok(first),
        }
    }

    /// The statement file in `format`, as `paycore_statements` writes it.
    pub fn statement(&self, format: Format) -> Result<Vec<u8>, DayError> {
        self.currency()?;
        let lines: Vec<StatementLine> = self.printed.iter().map(|p| p.shown(format)).collect();
        let mut out = Vec::new();
        write_statement(format, &lines, &mut out)?;
        Ok(out)
    }

    /// The settlement: the true net of the day (payments − refunds − fees) less the
    /// configured shortfall, and the number of real lines.
    pub fn settlement(&self) -> Result<SettlementBody, DayError> {
        let currency = self.currency()?;
        let net: i128 = self.lines.iter().map(net_of).sum();
        let amount = i64::try_from(net - i128::from(self.short)).map_err(|_| DayError::Overflow)?;
        Ok(SettlementBody {
            date: calendar::format_date(self.date),
            currency: currency.code().to_owned(),
            amount,
            count: self.lines.len() as u64,
        })
    }

    /// Which lines got which fault.
    pub fn truth(&self) -> TruthView {
        TruthView {
            date: calendar::format_date(self.date),
            lines: self.lines.len() as u64,
            printed: self.printed.len() as u64,
            faults: self.faults.clone(),
            carried_in: self.carried_in.clone(),
        }
    }

    /// Detail rows the statement prints.
    pub fn printed(&self) -> usize {
        self.printed.len()
    }
}

impl Printed {
    /// The line in a format's words. A revoked payment is `REVOKED` in WeChat and CSV; Alipay's
    /// bill has no status column, so there it is printed as a 退款 of the whole amount without
    /// a refund number, the one way that bill says a trade did not stand.
    fn shown(&self, format: Format) -> StatementLine {
        let line = &self.line;
        let alipay = format == Format::Alipay;
        let refund_no = Some(line.order_no.clone());
        let (kind, status, refund_no, fee) = match (line.kind, self.revoked) {
            (LineKind::Refund, _) => (LineKind::Refund, "REFUND", refund_no, 0),
            (LineKind::Payment, true) if alipay => (LineKind::Refund, "退款", None, 0),
            (LineKind::Payment, true) => (LineKind::Payment, "REVOKED", None, line.fee_minor),
            (LineKind::Payment, false) => (LineKind::Payment, "SUCCESS", None, line.fee_minor),
        };
        let status = match (alipay, kind) {
            (false, _) => status,
            (true, LineKind::Payment) => "交易",
            (true, LineKind::Refund) => "退款",
        };
        StatementLine {
            line_no: 0,
            time: self.time.clone(),
            channel_order_no: line.channel_order_no.clone(),
            bank_ref: line.bank_ref.clone(),
            kind,
            status: status.to_owned(),
            amount_minor: self.amount_minor,
            fee_minor: i64::try_from(fee).unwrap_or(i64::MAX),
            currency: line.currency,
            refund_no,
        }
    }
}

/// What a real line adds to the day's net.
fn net_of(line: &TrueLine) -> i128 {
    let amount = i128::from(line.amount_minor);
    match line.kind {
        LineKind::Payment => amount - i128::from(line.fee_minor),
        LineKind::Refund => -amount,
    }
}

/// The fault of a real line, drawn by the order's own number.
fn fault_of(faults: &StatementFaults, key: &DayKey<'_>, line: &TrueLine) -> Option<Fault> {
    let r = draw::statement_fault(key.seed, key.channel_id, &line.order_no);
    faults.pick(r, line.kind)
}

/// The real lines of `date`: succeeded, visible pay and refund orders dated on it.
fn true_lines(state: &ChannelState, key: &DayKey<'_>, date: Date) -> Vec<TrueLine> {
    state
        .orders()
        .iter()
        .filter(|o| o.visible(key.now) == Visible::Succeeded)
        .filter(|o| calendar::beijing_date(o.visible_unix_ms) == date)
        .filter_map(|o| true_line(state, o))
        .collect()
}

fn true_line(state: &ChannelState, order: &Order) -> Option<TrueLine> {
    let (kind, channel_order_no, bank_ref) = match order.kind {
        OrderKind::Pay => (LineKind::Payment, &order.order_no, &order.bank_ref),
        OrderKind::Refund => {
            let paid = order.paid_order_no.as_ref()?;
            let bank_ref = state.order(paid).map_or(&order.bank_ref, |p| &p.bank_ref);
            (LineKind::Refund, paid, bank_ref)
        }
        OrderKind::Payout => return None,
    };
    Some(TrueLine {
        order_no: order.order_no.clone(),
        kind,
        channel_order_no: channel_order_no.clone(),
        bank_ref: bank_ref.clone(),
        amount_minor: order.amount_minor,
        fee_minor: order.fee_minor,
        currency: order.currency,
        time: calendar::beijing_time(order.visible_unix_ms),
    })
}
