//! The payment side's commands: `merchant`, `channel`, `trade`, `pay`, `payment`. Amounts
//! are decimals here (`12.34`), minor units on the wire.

use std::process::ExitCode;

use clap::Subcommand;
use paycore_api::notifications::RotateSecretResponse;
use paycore_api::payments::{
    ChannelList, ChannelResponse, MerchantResponse, PaymentResponse, RefundResponse, TradeResponse,
};
use serde_json::json;

use crate::cli::path_segment;
use crate::client::{body, finish, generated_id, minor_units, money, Client};

#[derive(Subcommand, Debug)]
pub enum MerchantAction {
    /// Create a merchant and its ledger account (admin).
    Create {
        id: String,
        #[arg(long)]
        name: String,
        /// Host a notify_url may point at (repeat for several).
        #[arg(long = "callback-host")]
        callback_hosts: Vec<String>,
        /// Fee per payment in basis points (60 = 0.6%).
        #[arg(long, default_value_t = 0)]
        fee_rate_bp: u32,
        #[arg(long)]
        currency: Option<String>,
    },
    Show {
        id: String,
    },
    /// A new notification secret (shown once); the old one keeps signing for the grace
    /// period (admin).
    RotateSecret {
        id: String,
        /// Seconds the old secret keeps signing (default: the server's).
        #[arg(long)]
        grace_period_s: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ChannelAction {
    /// Add a channel (admin).
    Add {
        id: String,
        /// sim-form or sim-json.
        #[arg(long)]
        protocol: String,
        /// Base URL, e.g. http://127.0.0.1:9000.
        #[arg(long)]
        endpoint: String,
        #[arg(long, env = "PAYCORE_CHANNEL_SECRET", hide_env_values = true)]
        secret: String,
        /// quickpay, netbank, payout (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "quickpay,netbank")]
        methods: Vec<String>,
        #[arg(long, value_delimiter = ',', default_value = "CNY")]
        currencies: Vec<String>,
        #[arg(long, default_value_t = 100)]
        weight: u32,
        /// Smallest amount, e.g. 0.01.
        #[arg(long)]
        min_amount: Option<String>,
        #[arg(long)]
        max_amount: Option<String>,
        #[arg(long)]
        rate_limit_per_s: Option<u32>,
        #[arg(long)]
        disabled: bool,
    },
    /// Channels with their counters.
    List,
    Show {
        id: String,
    },
    /// Change weight, enabled, limits or rate limit (admin).
    Set {
        id: String,
        #[arg(long)]
        weight: Option<u32>,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        rate_limit_per_s: Option<u32>,
        /// Amounts in the channel's currency (CNY).
        #[arg(long)]
        min_amount: Option<String>,
        #[arg(long)]
        max_amount: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TradeAction {
    /// Create a trade order for a merchant.
    Create {
        #[arg(long)]
        merchant: String,
        /// The merchant's order number (unique per merchant).
        #[arg(long)]
        order_no: String,
        /// Amount, e.g. 12.34.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        notify_url: Option<String>,
        #[arg(long)]
        expires_in_s: Option<u64>,
    },
    /// A trade with its payments.
    Show { trade_id: String },
}

#[derive(Subcommand, Debug)]
pub enum PaymentAction {
    Show {
        id: String,
    },
    /// Send the channel order again (same channel, same number).
    Resend {
        id: String,
    },
    /// A new channel order on another channel (only after a definitive failure).
    Reroute {
        id: String,
        #[arg(long)]
        channel: Option<String>,
    },
    /// Refund (part of) a succeeded payment through its channel.
    Refund {
        id: String,
        /// Minor units.
        #[arg(long)]
        amount: u64,
        #[arg(long)]
        reason: Option<String>,
        /// The refund's idempotency key; generated (and printed) if omitted.
        #[arg(long)]
        refund_id: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct PayArgs {
    pub trade_id: String,
    /// quickpay, netbank, balance or combined.
    #[arg(long, default_value = "quickpay")]
    pub method: String,
    #[arg(long)]
    pub channel: Option<String>,
    /// The ledger account a balance or combined payment debits.
    #[arg(long)]
    pub payer_account: Option<String>,
    /// A combined payment's part from the payer's account (minor units).
    #[arg(long)]
    pub balance_amount: Option<u64>,
    /// Idempotency key; generated (and printed) if omitted.
    #[arg(long)]
    pub id: Option<String>,
}

pub fn merchant(client: &Client, action: MerchantAction) -> anyhow::Result<ExitCode> {
    match action {
        MerchantAction::Create {
            id,
            name,
            callback_hosts,
            fee_rate_bp,
            currency,
        } => {
            let request = body(
                json!({"id": id, "name": name, "callback_hosts": callback_hosts,
                "fee_rate_bp": fee_rate_bp, "currency": currency}),
            );
            finish(
                client,
                client.post("/v1/merchants", request),
                print_merchant,
            )
        }
        MerchantAction::Show { id } => finish(
            client,
            client.get(&format!("/v1/merchants/{}", path_segment(&id))),
            print_merchant,
        ),
        MerchantAction::RotateSecret { id, grace_period_s } => finish(
            client,
            client.post(
                &format!("/v1/merchants/{}/secret/rotate", path_segment(&id)),
                body(json!({ "grace_period_s": grace_period_s })),
            ),
            print_rotated,
        ),
    }
}

fn print_rotated(r: RotateSecretResponse) {
    println!("merchant   {} secret v{}", r.merchant, r.version);
    println!("secret     {} (shown once; store it now)", r.notify_secret);
    if let Some(at) = &r.previous_retires_at {
        println!("previous   signs until {at}");
    }
}

pub fn channel(client: &Client, action: ChannelAction) -> anyhow::Result<ExitCode> {
    match action {
        ChannelAction::Add {
            id,
            protocol,
            endpoint,
            secret,
            methods,
            currencies,
            weight,
            min_amount,
            max_amount,
            rate_limit_per_s,
            disabled,
        } => {
            let currency = currencies.first().cloned().unwrap_or_else(|| "CNY".into());
            let limit = |a: Option<String>| a.map(|a| minor_units(&a, &currency)).transpose();
            let request = body(json!({"id": id, "protocol": protocol, "endpoint": endpoint,
                "secret": secret, "methods": methods, "currencies": currencies, "weight": weight,
                "min_amount": limit(min_amount)?, "max_amount": limit(max_amount)?,
                "rate_limit_per_s": rate_limit_per_s, "enabled": !disabled}));
            finish(client, client.post("/v1/channels", request), print_channel)
        }
        ChannelAction::List => finish(client, client.get("/v1/channels"), print_channels),
        ChannelAction::Show { id } => finish(
            client,
            client.get(&format!("/v1/channels/{}", path_segment(&id))),
            print_channel,
        ),
        ChannelAction::Set {
            id,
            weight,
            enabled,
            rate_limit_per_s,
            min_amount,
            max_amount,
        } => {
            let limit = |a: Option<String>| a.map(|a| minor_units(&a, "CNY")).transpose();
            let request = body(json!({"weight": weight, "enabled": enabled,
                "rate_limit_per_s": rate_limit_per_s, "min_amount": limit(min_amount)?,
                "max_amount": limit(max_amount)?}));
            let path = format!("/v1/channels/{}", path_segment(&id));
            finish(client, client.patch(&path, request), print_channel)
        }
    }
}

pub fn trade(client: &Client, action: TradeAction) -> anyhow::Result<ExitCode> {
    match action {
        TradeAction::Create {
            merchant,
            order_no,
            amount,
            currency,
            subject,
            notify_url,
            expires_in_s,
        } => {
            let request = body(json!({"merchant": merchant, "merchant_order_no": order_no,
                "amount": minor_units(&amount, &currency)?, "currency": currency,
                "subject": subject, "notify_url": notify_url, "expires_in_s": expires_in_s}));
            finish(client, client.post("/v1/trades", request), print_trade)
        }
        TradeAction::Show { trade_id } => finish(
            client,
            client.get(&format!("/v1/trades/{}", path_segment(&trade_id))),
            print_trade,
        ),
    }
}

pub fn pay(client: &Client, args: PayArgs) -> anyhow::Result<ExitCode> {
    let id = args.id.unwrap_or_else(|| generated_id("pay"));
    let request = body(
        json!({"id": id, "method": args.method, "channel": args.channel,
        "payer_account": args.payer_account, "balance_amount": args.balance_amount}),
    );
    let path = format!("/v1/trades/{}/payments", path_segment(&args.trade_id));
    finish(client, client.post(&path, request), print_payment)
}

pub fn payment(client: &Client, action: PaymentAction) -> anyhow::Result<ExitCode> {
    let (path, request) = match action {
        PaymentAction::Show { id } => {
            return finish(
                client,
                client.get(&format!("/v1/payments/{}", path_segment(&id))),
                print_payment,
            )
        }
        PaymentAction::Resend { id } => (
            format!("/v1/payments/{}/resend", path_segment(&id)),
            json!({}),
        ),
        PaymentAction::Reroute { id, channel } => (
            format!("/v1/payments/{}/reroute", path_segment(&id)),
            body(json!({"channel": channel})),
        ),
        PaymentAction::Refund {
            id,
            amount,
            reason,
            refund_id,
        } => {
            let refund_id = refund_id.unwrap_or_else(|| generated_id("refund"));
            let path = format!("/v1/payments/{}/refunds", path_segment(&id));
            let request = body(json!({"id": refund_id, "amount": amount, "reason": reason}));
            return finish(client, client.post(&path, request), print_refund);
        }
    };
    finish(client, client.post(&path, request), print_payment)
}

fn print_refund(r: RefundResponse) {
    println!(
        "refund     {} {} of payment {} ({})",
        r.id, r.status, r.payment_id, r.source
    );
    println!(
        "amount     {}  via {} ({})  hold {}",
        money(r.amount as i64, &r.currency),
        r.channel,
        r.channel_order_no,
        r.hold
    );
    if let Some(f) = &r.failure {
        println!("failure    {}: {}", f.code, f.message);
    }
}

fn print_merchant(m: MerchantResponse) {
    println!("merchant   {} ({})", m.id, m.name);
    println!("account    {} ({})", m.account, m.currency);
    println!("fee        {} bp", m.fee_rate_bp);
    println!("callbacks  {}", m.callback_hosts.join(", "));
    println!("created    {}", m.created_at);
    if let Some(secret) = &m.notify_secret {
        println!("secret     {secret} (notification secret, shown once; store it now)");
    }
}

fn print_channel(c: ChannelResponse) {
    println!(
        "channel    {} ({}, {}) {}",
        c.id,
        c.protocol,
        c.endpoint,
        if c.enabled { "enabled" } else { "DISABLED" }
    );
    println!(
        "methods    {}  currencies {}",
        c.methods.join(","),
        c.currencies.join(",")
    );
    println!(
        "weight     {}  rate limit {}",
        c.weight,
        c.rate_limit_per_s
            .map_or("none".into(), |r| format!("{r}/s"))
    );
    println!(
        "limits     {:?} .. {:?} (minor units)",
        c.min_amount, c.max_amount
    );
    println!("clearing   {}", c.clearing_accounts.join(", "));
    let n = c.counters;
    println!(
        "counters   routed {} succeeded {} failed {} unknown {}",
        n.routed, n.succeeded, n.failed, n.unknown
    );
    if let Some(until) = c.health.resting_until {
        println!(
            "health     resting until {until} after {} failures",
            c.health.consecutive_failures
        );
    }
}

fn print_channels(list: ChannelList) {
    println!(
        "{:<24} {:<9} {:>7} {:<8} {:>9} {:>9} {:>9} {:>9}",
        "CHANNEL", "PROTOCOL", "WEIGHT", "STATE", "ROUTED", "OK", "FAILED", "UNKNOWN"
    );
    for c in list.channels {
        println!(
            "{:<24} {:<9} {:>7} {:<8} {:>9} {:>9} {:>9} {:>9}",
            c.id,
            c.protocol,
            c.weight,
            if c.enabled { "enabled" } else { "disabled" },
            c.counters.routed,
            c.counters.succeeded,
            c.counters.failed,
            c.counters.unknown
        );
    }
}

fn print_trade(t: TradeResponse) {
    println!(
        "trade      {} {} ({} {})",
        t.trade_id, t.status, t.merchant, t.merchant_order_no
    );
    println!("amount     {}", money(t.amount as i64, &t.currency));
    if !t.subject.is_empty() {
        println!("subject    {}", t.subject);
    }
    println!("expires    {}", t.expires_at);
    if let Some(by) = &t.paid_by {
        println!("paid by    {by} at {}", t.paid_at.as_deref().unwrap_or("?"));
    }
    for p in t.payments {
        println!(
            "payment    {} {} via {} ({})",
            p.id,
            p.status,
            p.channel.as_deref().unwrap_or("balance"),
            p.channel_order_no.as_deref().unwrap_or("-")
        );
    }
}

fn print_payment(p: PaymentResponse) {
    println!(
        "payment    {} {} (trade {}, {})",
        p.id, p.status, p.trade_id, p.method
    );
    println!(
        "amount     {}  fee {}",
        money(p.amount as i64, &p.currency),
        p.fee
    );
    for a in &p.attempts {
        let note = a
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        println!(
            "attempt    {} {} via {} sends {} queries {}{note}",
            a.channel_order_no, a.status, a.channel, a.sends, a.queries
        );
    }
    if let Some(account) = &p.payer_account {
        println!("payer      {account} ({} from balance)", p.balance_amount);
    }
    if let Some(reason) = &p.refund_reason {
        let refund = p.refund_id.as_deref().unwrap_or("-");
        println!("refunded   {reason} (refund {refund})");
    }
    let candidates = p
        .route
        .as_ref()
        .map(|r| r.candidates.as_slice())
        .unwrap_or_default();
    for c in candidates {
        let why = c.detail.as_deref().unwrap_or("eligible");
        println!("route      {:<24} weight {:>7}  {why}", c.channel, c.weight);
    }
    if let Some(f) = &p.failure {
        println!("failure    {}: {}", f.code, f.message);
    }
    for a in &p.anomalies {
        println!("anomaly    {a}");
    }
}
