//! CLI commands on the query store: an account's statement (also as CSV), transfer search,
//! day-end and its report, and `verify`.

use std::process::ExitCode;

use paycore_api::ledger::{
    DayEndReport, DayEndResponse, EntryPage, EntryResponse, TransferPage, VerifyReport,
};
use serde_json::json;

use crate::accounting_cli::csv_field;
use crate::cli::EXIT_CORRUPT;
use crate::client::{finish, wide_money, Client};

pub struct EntriesArgs {
    pub account: String,
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    pub from_seq: Option<u64>,
    pub limit: Option<usize>,
    pub csv: bool,
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("{k}={}", crate::cli::path_segment(v)))
        })
        .collect();
    parts.join("&")
}

/// An account's statement. `--csv` pages through every matching entry.
pub fn entries(client: &Client, args: EntriesArgs) -> anyhow::Result<ExitCode> {
    let path = |from_seq: Option<u64>| {
        let q = query(&[
            ("from_date", args.from_date.clone()),
            ("to_date", args.to_date.clone()),
            ("from_seq", from_seq.map(|s| s.to_string())),
            ("limit", args.limit.map(|l| l.to_string())),
        ]);
        format!(
            "/v1/accounts/{}/entries?{q}",
            crate::cli::path_segment(&args.account)
        )
    };
    if !args.csv {
        return finish(client, client.get(&path(args.from_seq)), print_entries);
    }
    println!("seq,accounting_date,timestamp,transfer_id,kind,amount,balance_before,balance_after,frozen_after");
    let mut from_seq = args.from_seq;
    loop {
        let page: EntryPage = match client.get(&path(from_seq)) {
            Ok(body) => serde_json::from_value(body)?,
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                return Ok(ExitCode::from(failure.code));
            }
        };
        for e in &page.entries {
            println!(
                "{},{},{},{},{},{},{},{},{}",
                e.seq,
                e.accounting_date,
                e.timestamp,
                csv_field(&e.transfer_id),
                e.kind,
                e.amount,
                e.balance_before,
                e.balance_after,
                e.frozen_after
            );
        }
        match page.next_from_seq {
            Some(next) => from_seq = Some(next),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn print_entries(page: EntryPage) {
    println!(
        "{:>10} {:<10} {:<24} {:<8} {:>16} {:>18} {:>18}",
        "SEQ", "DATE", "TRANSFER", "KIND", "AMOUNT", "BEFORE", "AFTER"
    );
    for e in &page.entries {
        println!(
            "{:>10} {:<10} {:<24} {:<8} {:>16} {:>18} {:>18}",
            e.seq,
            e.accounting_date,
            e.transfer_id,
            e.kind,
            e.amount,
            e.balance_before,
            e.balance_after
        );
    }
    if let Some(next) = page.next_from_seq {
        println!("more: --from-seq {next}");
    }
}

pub fn transfer_list(
    client: &Client,
    account: Option<String>,
    reference: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let q = query(&[
        ("account", account),
        ("reference", reference),
        ("from", from),
        ("to", to),
        ("limit", limit.map(|l| l.to_string())),
    ]);
    finish(
        client,
        client.get(&format!("/v1/transfers?{q}")),
        |page: TransferPage| {
            println!(
                "{:<28} {:<20} {:<20} {:>16} {:<4} {:<10} STATUS",
                "ID", "FROM", "TO", "AMOUNT", "CCY", "KIND"
            );
            for t in page.transfers {
                let (from, to) = (
                    t.debit_account.unwrap_or_default(),
                    t.credit_account.unwrap_or_default(),
                );
                println!(
                    "{:<28} {:<20} {:<20} {:>16} {:<4} {:<10} {}",
                    t.id,
                    from,
                    to,
                    t.amount,
                    t.currency.unwrap_or_default(),
                    t.kind,
                    t.status
                );
            }
            if let Some(next) = page.next {
                println!("more: after {next}");
            }
        },
    )
}

pub fn day_end(client: &Client, date: Option<String>) -> anyhow::Result<ExitCode> {
    let body = crate::client::body(json!({ "date": date }));
    finish(
        client,
        client.post("/v1/day-end", body),
        |r: DayEndResponse| {
            println!("closed     {}", r.closed_date);
            println!("now        {} (new postings land here)", r.accounting_date);
        },
    )
}

pub fn report(client: &Client, date: Option<String>) -> anyhow::Result<ExitCode> {
    let q = query(&[("date", date)]);
    finish(
        client,
        client.get(&format!("/v1/reports/day-end?{q}")),
        print_report,
    )
}

fn print_report(r: DayEndReport) {
    println!(
        "day-end report {} ({})",
        r.date,
        if r.closed {
            "closed"
        } else {
            "open: no cut yet"
        }
    );
    println!(
        "{:<12} {:<4} {:>18} {:>18} {:>8}",
        "TYPE", "CCY", "DEBITS", "CREDITS", "ENTRIES"
    );
    for f in &r.flows {
        println!(
            "{:<12} {:<4} {:>18} {:>18} {:>8}",
            f.account_type, f.currency, f.debits, f.credits, f.entries
        );
    }
    println!(
        "{:<12} {:<4} {:>10} {:>22}",
        "TYPE", "CCY", "ACCOUNTS", "CLOSING"
    );
    for c in &r.closings {
        println!(
            "{:<12} {:<4} {:>10} {:>22}",
            c.account_type,
            c.currency,
            c.accounts,
            wide_money(c.closing, &c.currency)
        );
    }
    for c in &r.currencies {
        let verdict = if c.balanced {
            "balanced"
        } else {
            "NOT BALANCED"
        };
        println!(
            "{}: debits {} = credits {}, balances sum to {} — {verdict}",
            c.currency, c.debits, c.credits, c.closing_sum
        );
    }
    if r.suspense.is_empty() {
        println!("transit accounts: all at zero");
    }
    for s in &r.suspense {
        println!(
            "挂账 {} balance {} — open entries:",
            s.account_no, s.balance
        );
        for e in &s.open_entries {
            println!("    {} {} {} {}", e.seq, e.transfer_id, e.kind, e.amount);
        }
    }
}

/// Exit code 3 when the journal does not reproduce a ledger balance.
pub fn verify(client: &Client) -> anyhow::Result<ExitCode> {
    let report: VerifyReport = match client.get("/v1/verify") {
        Ok(body) if client.json() => {
            println!("{}", serde_json::to_string_pretty(&body)?);
            serde_json::from_value(body)?
        }
        Ok(body) => {
            let report: VerifyReport = serde_json::from_value(body)?;
            println!(
                "checked {} accounts and {} journal entries at batch {}",
                report.accounts, report.entries, report.sequence
            );
            for d in &report.differences {
                println!(
                    "DIFFERENCE {}: ledger {} journal {}",
                    d.account_no, d.ledger_balance, d.journal_balance
                );
                if let Some(e) = &d.first_diverging_entry {
                    print_entry(e);
                }
            }
            if report.differences.is_empty() {
                println!("the journal reproduces every balance");
            }
            report
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            return Ok(ExitCode::from(failure.code));
        }
    };
    Ok(if report.differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CORRUPT)
    })
}

fn print_entry(e: &EntryResponse) {
    println!(
        "    first diverging entry: seq {} {} {} {} ({} → {})",
        e.seq, e.transfer_id, e.kind, e.amount, e.balance_before, e.balance_after
    );
}
