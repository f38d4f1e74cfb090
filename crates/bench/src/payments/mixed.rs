//! The mixed workload of `paycore bench payments`: each client, in turn, pays in (six in
//! ten), refunds half of one of its earlier successes (two in ten) and pays a small amount out
//! (two in ten), over two channels where 5% of requests are held past paycore's timeout (the
//! outcome is then unknown and the resolver asks the bank). Reports operations/s per kind and
//! paycore's own time per kind (`Paycore-Own-Time-Ms`), p50/p99.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use super::{histogram, own_time_us, Bench};

/// paycore's channel timeout in the in-process server: the bank holds timeouts longer.
pub const CHANNEL_TIMEOUT_MS: u64 = 300;
const TIMEOUT_HOLD_MS: u64 = 400;
pub const DESCRIPTION: &str =
    "6 pay-ins : 2 refunds : 2 payouts, 2 channels with 5% timeouts (unknown, then queried)";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    PayIn,
    Refund,
    Payout,
}

const KINDS: [Kind; 3] = [Kind::PayIn, Kind::Refund, Kind::Payout];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::PayIn => "pay-ins",
            Kind::Refund => "refunds",
            Kind::Payout => "payouts",
        }
    }

    fn of(n: u64) -> Kind {
        match n % 10 {
            0..=5 => Kind::PayIn,
            6 | 7 => Kind::Refund,
            _ => Kind::Payout,
        }
    }
}

/// Per kind: done, unknown at answer, errors, own time.
struct Counts {
    done: u64,
    unknown: u64,
    errors: u64,
    own_us: Histogram<u64>,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            done: 0,
            unknown: 0,
            errors: 0,
            own_us: histogram(),
        }
    }

    fn add(&mut self, other: &Counts) -> anyhow::Result<()> {
        self.done += other.done;
        self.unknown += other.unknown;
        self.errors += other.errors;
        self.own_us.add(&other.own_us)?;
        Ok(())
    }
}

pub struct MixedReport {
    counts: Vec<Counts>,
    elapsed: Duration,
}

impl MixedReport {
    pub fn print(&self) {
        let seconds = self.elapsed.as_secs_f64();
        let total: u64 = self.counts.iter().map(|c| c.done).sum();
        println!("mixed:   {:>8.0} operations/s", total as f64 / seconds);
        for (kind, c) in KINDS.iter().zip(&self.counts) {
            let q = |q: f64| Duration::from_micros(c.own_us.value_at_quantile(q));
            println!(
                "  {:<8} {:>7.0}/s  own time p50 {:.2?} p99 {:.2?}  ({} done, {} unknown at answer, {} errors)",
                kind.name(),
                c.done as f64 / seconds,
                q(0.5),
                q(0.99),
                c.done,
                c.unknown,
                c.errors
            );
        }
    }
}

/// What one client keeps between operations: its succeeded payments not refunded yet.
struct Client {
    refundable: VecDeque<(String, u64)>,
    counts: Vec<Counts>,
}

impl Bench {
    /// Two channels taking pay-ins and payouts, 5% of requests held past the timeout.
    pub async fn setup_mixed(&self, sim: &str) -> anyhow::Result<()> {
        for (i, protocol) in ["sim-json", "sim-form"].into_iter().enumerate() {
            let id = format!("m{}-{i}", self.run);
            let behaviour = json!({"success_pct": 95, "fail_pct": 0, "timeout_pct": 5,
                "timeout_hold_ms": TIMEOUT_HOLD_MS, "callback": "none"});
            self.add_channel(sim, &id, protocol, behaviour, &["quickpay", "payout"])
                .await?;
        }
        Ok(())
    }

    pub async fn mixed(
        self: &Arc<Self>,
        connections: usize,
        seconds: u64,
    ) -> anyhow::Result<MixedReport> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let bench = self.clone();
                tokio::spawn(async move {
                    let mut client = Client {
                        refundable: VecDeque::new(),
                        counts: KINDS.iter().map(|_| Counts::new()).collect(),
                    };
                    while Instant::now() < deadline {
                        bench.one_operation(&mut client).await;
                    }
                    client.counts
                })
            })
            .collect();
        let mut counts: Vec<Counts> = KINDS.iter().map(|_| Counts::new()).collect();
        for task in tasks {
            for (sum, c) in counts.iter_mut().zip(task.await?) {
                sum.add(&c)?;
            }
        }
        Ok(MixedReport {
            counts,
            elapsed: started.elapsed(),
        })
    }

    async fn one_operation(&self, client: &mut Client) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let kind = match Kind::of(n) {
            Kind::Refund if client.refundable.is_empty() => Kind::PayIn,
            kind => kind,
        };
        let index = KINDS.iter().position(|k| *k == kind).expect("a kind");
        let answer = match kind {
            Kind::PayIn => self.mixed_pay_in(n).await,
            Kind::Refund => {
                let (payment, amount) = client.refundable.pop_front().expect("checked");
                let body = json!({"id": format!("{}-r{n}", self.run), "amount": amount / 2});
                self.post(&format!("/v1/payments/{payment}/refunds"), &body)
                    .await
            }
            Kind::Payout => {
                let body = json!({"id": format!("{}-w{n}", self.run), "merchant": self.merchant(),
                    "amount": 100, "currency": "CNY", "bank_account": format!("6222{n}")});
                self.post("/v1/payouts", &body).await
            }
        };
        let counts = &mut client.counts[index];
        let Ok(response) = answer else {
            counts.errors += 1;
            return;
        };
        let own = own_time_us(&response).unwrap_or(1);
        let created = response.status() == 201;
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !created {
            counts.errors += 1;
            return;
        }
        counts.done += 1;
        counts.own_us.saturating_record(own.max(1));
        match body["status"].as_str() {
            Some("unknown") => counts.unknown += 1,
            Some("succeeded") if kind == Kind::PayIn => {
                let id = body["id"].as_str().unwrap_or_default().to_owned();
                let amount = body["amount"].as_u64().unwrap_or(0);
                client.refundable.push_back((id, amount));
            }
            _ => {}
        }
    }

    /// A trade created and paid on one of the mixed channels; the payment's answer.
    async fn mixed_pay_in(&self, n: u64) -> anyhow::Result<reqwest::Response> {
        let trade = self
            .post(
                "/v1/trades",
                &json!({"merchant": self.merchant(), "merchant_order_no": format!("mo{n}"),
                "amount": 1_000 + n % 9_000, "currency": "CNY"}),
            )
            .await?;
        anyhow::ensure!(trade.status() == 201, "trade: {}", trade.status());
        let trade: Value = trade.json().await?;
        let trade_id = trade["trade_id"].as_str().unwrap_or_default().to_owned();
        let channel = format!("m{}-{}", self.run, n % 2);
        self.post(
            &format!("/v1/trades/{trade_id}/payments"),
            &json!({"id": format!("{}-m{n}", self.run), "method": "quickpay", "channel": channel}),
        )
        .await
    }
}
