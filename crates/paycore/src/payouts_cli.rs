//! `paycore payout`: send money from a merchant's account to a bank account (出款), read one,
//! list a merchant's, resend the current channel order, reroute after a definitive failure.
//! Amounts are decimals here (`12.34`), minor units on the wire.

use std::process::ExitCode;

use clap::Subcommand;
use paycore_api::payments::{PayoutList, PayoutResponse};
use serde_json::json;

use crate::cli::path_segment;
use crate::client::{body, finish, generated_id, minor_units, money, Client};

#[derive(Subcommand, Debug)]
pub enum PayoutAction {
    /// Hold the amount on the merchant's account and send it through a channel.
    Send {
        #[arg(long)]
        merchant: String,
        /// Amount, e.g. 12.34.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        #[arg(long)]
        bank_account: String,
        /// Route to this channel (the filters still apply).
        #[arg(long)]
        channel: Option<String>,
        /// The payout's idempotency key; generated (and printed) if omitted.
        #[arg(long)]
        id: Option<String>,
    },
    Show {
        id: String,
    },
    /// A merchant's payouts, newest first.
    List {
        #[arg(long)]
        merchant: String,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// Send the current channel order again (same number).
    Resend {
        id: String,
    },
    /// A new channel order (another channel unless named), only after a definitive failure.
    Reroute {
        id: String,
        #[arg(long)]
        channel: Option<String>,
    },
}

pub fn payout(client: &Client, action: PayoutAction) -> anyhow::Result<ExitCode> {
    let (path, request) = match action {
        PayoutAction::Send {
            merchant,
            amount,
            currency,
            bank_account,
            channel,
            id,
        } => {
            let id = id.unwrap_or_else(|| generated_id("payout"));
            let request = body(json!({"id": id, "merchant": merchant,
                "amount": minor_units(&amount, &currency)?, "currency": currency,
                "bank_account": bank_account, "channel": channel}));
            ("/v1/payouts".to_owned(), request)
        }
        PayoutAction::Show { id } => {
            let path = format!("/v1/payouts/{}", path_segment(&id));
            return finish(client, client.get(&path), print_payout);
        }
        PayoutAction::List { merchant, limit } => {
            let path = format!(
                "/v1/payouts?merchant={}&limit={limit}",
                path_segment(&merchant)
            );
            return finish(client, client.get(&path), print_list);
        }
        PayoutAction::Resend { id } => (
            format!("/v1/payouts/{}/resend", path_segment(&id)),
            json!({}),
        ),
        PayoutAction::Reroute { id, channel } => (
            format!("/v1/payouts/{}/reroute", path_segment(&id)),
            body(json!({"channel": channel})),
        ),
    };
    finish(client, client.post(&path, request), print_payout)
}

fn print_payout(p: PayoutResponse) {
    println!("payout     {} {} (merchant {})", p.id, p.status, p.merchant);
    println!(
        "amount     {}  to {}",
        money(p.amount as i64, &p.currency),
        p.bank_account
    );
    for (i, a) in p.attempts.iter().enumerate() {
        println!(
            "order {}    {} via {}: {} (sent {}×, hold {} {})",
            i + 1,
            a.order.channel_order_no,
            a.order.channel,
            a.order.status,
            a.order.sends,
            a.hold_id,
            a.hold
        );
    }
    if let Some(f) = &p.failure {
        println!("failure    {}: {}", f.code, f.message);
    }
    for anomaly in &p.anomalies {
        println!("anomaly    {anomaly}");
    }
}

fn print_list(list: PayoutList) {
    for p in &list.payouts {
        println!(
            "{:<24} {:<10} {:>16}  {} {}",
            p.id,
            p.status,
            money(p.amount as i64, &p.currency),
            p.channel,
            p.created_at
        );
    }
    if let Some(next) = list.next {
        println!("(more: before={next})");
    }
}
