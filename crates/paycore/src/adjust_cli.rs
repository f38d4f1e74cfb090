//! `paycore adjust`: adjustments (调账) with maker-checker (双人复核) — create (the amount
//! shown in capital numerals, confirmed before anything is sent unless `--yes`), list, show,
//! approve, reject. Amounts are decimals here (`12.34`), minor units on the wire.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Subcommand;
use paycore_api::adjustments::{AdjustmentList, AdjustmentResponse};
use serde_json::json;

use crate::cli::{path_segment, EXIT_FAILURE};
use crate::client::{body, finish, generated_id, minor_units, money, Client};

#[derive(Subcommand, Debug)]
pub enum AdjustAction {
    /// Propose an adjustment; another person must approve it before it is posted.
    Create {
        /// Idempotency key and the adjustment's id; generated (and printed) if omitted.
        #[arg(long)]
        id: Option<String>,
        /// Account debited.
        #[arg(long)]
        debit: String,
        /// Account credited.
        #[arg(long)]
        credit: String,
        /// Amount in the currency's units, e.g. 1005.30.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Why the correction is needed (required).
        #[arg(long)]
        reason: String,
        /// A ticket, document reference or URL.
        #[arg(long)]
        evidence: Option<String>,
        /// The reconciliation exception (差错) this adjustment settles.
        #[arg(long)]
        exception_id: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Adjustments in creation order.
    List {
        /// pending_approval, partially_approved, approved, posted, rejected or expired.
        #[arg(long)]
        status: Option<String>,
        /// Only those this operator proposed.
        #[arg(long)]
        maker: Option<String>,
        #[arg(long)]
        after: Option<u64>,
        #[arg(long)]
        limit: Option<u64>,
    },
    /// An adjustment with its whole history.
    Show { id: String },
    /// Approve as the key's operator (never the maker); the last approval needed posts it.
    Approve {
        id: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject it (a reason is required).
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

pub fn adjust(client: &Client, action: AdjustAction) -> anyhow::Result<ExitCode> {
    match action {
        AdjustAction::Create {
            id,
            debit,
            credit,
            amount,
            currency,
            reason,
            evidence,
            exception_id,
            yes,
        } => {
            let minor = minor_units(&amount, &currency)?;
            let shown = money(i64::try_from(minor)?, &currency);
            println!("adjust     {debit} → {credit}");
            println!("amount     {shown}");
            println!("reason     {reason}");
            if !yes && !confirmed()? {
                eprintln!("not confirmed: nothing was sent");
                return Ok(ExitCode::from(EXIT_FAILURE));
            }
            let id = id.unwrap_or_else(|| generated_id("adj"));
            let request = body(
                json!({"id": id, "debit_account": debit, "credit_account": credit,
                "amount": minor, "currency": currency, "reason": reason, "evidence": evidence,
                "exception_id": exception_id}),
            );
            finish(
                client,
                client.post("/v1/adjustments", request),
                print_adjustment,
            )
        }
        AdjustAction::List {
            status,
            maker,
            after,
            limit,
        } => {
            let mut query = Vec::new();
            if let Some(status) = status {
                query.push(format!("status={}", path_segment(&status)));
            }
            if let Some(maker) = maker {
                query.push(format!("maker={}", path_segment(&maker)));
            }
            if let Some(after) = after {
                query.push(format!("after={after}"));
            }
            if let Some(limit) = limit {
                query.push(format!("limit={limit}"));
            }
            let path = match query.is_empty() {
                true => "/v1/adjustments".to_owned(),
                false => format!("/v1/adjustments?{}", query.join("&")),
            };
            finish(client, client.get(&path), print_adjustments)
        }
        AdjustAction::Show { id } => finish(
            client,
            client.get(&format!("/v1/adjustments/{}", path_segment(&id))),
            print_adjustment,
        ),
        AdjustAction::Approve { id, comment } => finish(
            client,
            client.post(
                &format!("/v1/adjustments/{}/approve", path_segment(&id)),
                body(json!({ "comment": comment })),
            ),
            print_adjustment,
        ),
        AdjustAction::Reject { id, reason } => finish(
            client,
            client.post(
                &format!("/v1/adjustments/{}/reject", path_segment(&id)),
                json!({ "reason": reason }),
            ),
            print_adjustment,
        ),
    }
}

/// Asks on stderr and reads one line of stdin: only `y` or `yes` confirms (end of input does
/// not).
fn confirmed() -> anyhow::Result<bool> {
    let mut err = std::io::stderr();
    write!(err, "post this adjustment for approval? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn print_adjustment(a: AdjustmentResponse) {
    println!("adjustment {} {}", a.id, a.status);
    println!("from       {}", a.debit_account);
    println!("to         {}", a.credit_account);
    println!(
        "amount     {}",
        money(i64::try_from(a.amount).unwrap_or(i64::MAX), &a.currency)
    );
    println!("reason     {}", a.reason);
    if let Some(evidence) = &a.evidence {
        println!("evidence   {evidence}");
    }
    if let Some(exception) = &a.exception_id {
        println!("exception  {exception}");
    }
    println!(
        "maker      {} (approvals {}/{})",
        a.maker,
        a.approvals.len(),
        a.approvals_required
    );
    println!("created    {}  expires {}", a.created_at, a.expires_at);
    if let Some(transfer) = &a.ledger_transfer_id {
        println!(
            "posted     {} as {transfer}",
            a.posted_at.as_deref().unwrap_or("?")
        );
    }
    if let Some(refusal) = &a.last_refusal {
        println!("refused    {} at {}", refusal.code, refusal.at);
    }
    for e in a.history.iter().flatten() {
        let mut line = format!("{:>3} {} {:<16} {}", e.seq, e.at, e.action, e.operator);
        for extra in [&e.comment, &e.code, &e.ledger_id].into_iter().flatten() {
            line.push_str("  ");
            line.push_str(extra);
        }
        println!("history  {line}");
    }
}

fn print_adjustments(list: AdjustmentList) {
    println!(
        "{:<24} {:<18} {:>20} {:<4} {:<16} {:<16} CREATED",
        "ID", "STATUS", "AMOUNT", "CCY", "FROM", "TO"
    );
    for a in &list.adjustments {
        println!(
            "{:<24} {:<18} {:>20} {:<4} {:<16} {:<16} {}",
            a.id,
            a.status,
            a.amount_text,
            a.currency,
            a.debit_account,
            a.credit_account,
            a.created_at
        );
    }
    if let Some(next) = list.next {
        println!("more: --after {next}");
    }
}
