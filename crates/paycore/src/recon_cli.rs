//! `paycore recon`: reconciliation (对账) — import a channel's statement file or fetch it,
//! list exceptions (差错), resolve one, the day's report.

use std::process::ExitCode;

use clap::Subcommand;
use paycore_api::recon::{
    ExceptionList, ExceptionResponse, ImportResponse, ReportResponse, RunResponse,
};
use serde_json::json;

use crate::cli::path_segment;
use crate::client::{body, finish, money, wide_money, Client};

#[derive(Subcommand, Debug)]
pub enum ReconAction {
    /// Import a statement file and reconcile it.
    Import {
        #[arg(long)]
        channel: String,
        /// YYYY-MM-DD (Beijing time).
        #[arg(long)]
        date: String,
        /// wechat, alipay or csv.
        #[arg(long)]
        format: String,
        file: std::path::PathBuf,
    },
    /// Fetch the day's statement through the channel and reconcile it.
    Run {
        #[arg(long)]
        channel: String,
        #[arg(long)]
        date: String,
        /// The format to ask the channel for: wechat, alipay or csv.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Exceptions, oldest first.
    Exceptions {
        /// open, resolving or closed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        run: Option<String>,
    },
    /// Decide an exception: refund, supplement, accept or write_off.
    Resolve {
        id: String,
        #[arg(long)]
        action: String,
        #[arg(long)]
        reason: String,
    },
    /// The day's runs of a channel and their exceptions by kind and status.
    Report {
        #[arg(long)]
        channel: String,
        #[arg(long)]
        date: String,
    },
}

pub fn recon(client: &Client, action: ReconAction) -> anyhow::Result<ExitCode> {
    match action {
        ReconAction::Import {
            channel,
            date,
            format,
            file,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let path = format!(
                "/v1/recon/statements?channel={}&date={}&format={}",
                path_segment(&channel),
                path_segment(&date),
                path_segment(&format)
            );
            finish(
                client,
                client.post_bytes(&path, bytes),
                |i: ImportResponse| {
                    println!(
                        "statement  {} ({} lines, {})",
                        i.statement.id, i.statement.lines, i.statement.format
                    );
                    print_run(i.run)
                },
            )
        }
        ReconAction::Run {
            channel,
            date,
            format,
        } => {
            let request = json!({"channel": channel, "date": date, "format": format});
            finish(client, client.post("/v1/recon/runs", request), print_run)
        }
        ReconAction::Exceptions { status, run } => {
            let mut path = "/v1/recon/exceptions?limit=1000".to_owned();
            if let Some(status) = status {
                path.push_str(&format!("&status={}", path_segment(&status)));
            }
            if let Some(run) = run {
                path.push_str(&format!("&run={}", path_segment(&run)));
            }
            finish(client, client.get(&path), |list: ExceptionList| {
                list.exceptions.iter().for_each(print_exception_line)
            })
        }
        ReconAction::Resolve { id, action, reason } => {
            let path = format!("/v1/recon/exceptions/{}/resolve", path_segment(&id));
            let request = body(json!({"action": action, "reason": reason}));
            finish(
                client,
                client.post(&path, request),
                |e: ExceptionResponse| {
                    print_exception_line(&e);
                    for h in &e.history {
                        println!("  {} {:<10} {} {}", h.at, h.event, h.by, h.note);
                    }
                },
            )
        }
        ReconAction::Report { channel, date } => {
            let path = format!(
                "/v1/recon/report?channel={}&date={}",
                path_segment(&channel),
                path_segment(&date)
            );
            finish(client, client.get(&path), print_report)
        }
    }
}

fn print_run(r: RunResponse) {
    println!("run        {} ({} {})", r.id, r.channel, r.date);
    println!(
        "matched    {}   carried to the next day {}",
        r.matched, r.carried
    );
    for (kind, count) in &r.differences {
        println!("  {kind:<16} {count}");
    }
    let (o, t) = (&r.totals.ours, &r.totals.theirs);
    println!(
        "ours       {} records, net {}",
        o.count,
        wide_money(o.net, "CNY")
    );
    println!(
        "theirs     {} lines, net {}",
        t.count,
        wide_money(t.net, "CNY")
    );
    match &r.fund {
        Some(f) => println!(
            "fund       statement {} settled {} difference {}",
            wide_money(f.statement_net, "CNY"),
            money(f.settled, "CNY"),
            wide_money(f.difference, "CNY")
        ),
        None => println!("fund       no settlement from the channel"),
    }
}

fn print_exception_line(e: &ExceptionResponse) {
    println!(
        "{:<60} {:<16} {:<10} {} {}",
        e.id,
        e.kind,
        e.status,
        e.channel_order_no,
        money(e.amount as i64, &e.currency)
    );
}

fn print_report(r: ReportResponse) {
    println!(
        "report     {} {} ({} runs)",
        r.channel,
        r.date,
        r.runs.len()
    );
    for (kind, by_status) in &r.exceptions {
        for (status, cell) in by_status {
            println!(
                "  {kind:<16} {status:<10} {:>6}  {}",
                cell.count,
                money(cell.amount as i64, "CNY")
            );
        }
    }
}
