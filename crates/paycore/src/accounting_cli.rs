//! `paycore accounting …`: the chart, vouchers, trial balance, GL vs sub-ledger check and
//! reserve-fund report (each as a table, JSON with `--json`, or CSV with `--csv`), the
//! exception queue, period close and the feed's status — all through the HTTP API.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

use crate::cli::{path_segment, EXIT_CORRUPT};
use crate::client::{finish, Client, Failure};

#[derive(Subcommand, Debug)]
pub enum AccountingAction {
    /// The chart of accounts (会计科目).
    Chart {
        #[arg(long)]
        csv: bool,
    },
    /// Vouchers (记账凭证) of a day, optionally only those touching one account (明细账).
    Vouchers {
        /// Accounting date, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// Only vouchers with a line on this account code.
        #[arg(long)]
        account: Option<String>,
        /// Page size for the table (CSV pages through everything).
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        csv: bool,
    },
    /// Trial balance (试算平衡表) of a day (`--date`) or a period (`--from`/`--to`).
    TrialBalance {
        #[command(flatten)]
        range: Range,
        /// Currency (default CNY).
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        csv: bool,
    },
    /// Each control account against the sum of its ledger accounts (exit 3 on a difference).
    GlCheck {
        /// Accounting date, YYYY-MM-DD (default: the current one).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        csv: bool,
    },
    /// Reserve funds (备付金) per bank account per day: opening, inflows, outflows, closing.
    ReserveReport {
        #[command(flatten)]
        range: Range,
        #[arg(long)]
        csv: bool,
    },
    /// Edit the chart: add, rename, disable or enable an account (admin).
    Account {
        #[command(subcommand)]
        edit: ChartEdit,
    },
    /// The posting rules in force (TOML); `--set FILE` replaces them (admin), raising the
    /// version and retrying the exception queue.
    Rules {
        #[arg(long)]
        set: Option<std::path::PathBuf>,
    },
    /// Ledger transactions waiting for a posting rule.
    Exceptions,
    /// Retry the exception queue against the current rules.
    Retry,
    /// Close a day (YYYY-MM-DD) or month (YYYY-MM) after the ledger's day-end (admin).
    Close { period: String },
    /// The feed's position and lag.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum ChartEdit {
    /// A new account; its parent (the code without its last two digits) must exist.
    Add {
        code: String,
        name: String,
        /// asset, liability, equity, common, income or expense (default: the parent's).
        #[arg(long)]
        class: Option<String>,
        /// Normal balance side, debit or credit (default: the parent's).
        #[arg(long)]
        side: Option<String>,
    },
    Rename {
        code: String,
        name: String,
    },
    /// Rules posting to a disabled account park their transactions as exceptions.
    Disable {
        code: String,
    },
    Enable {
        code: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct Range {
    /// One accounting date, YYYY-MM-DD (default: the current one).
    #[arg(long)]
    date: Option<String>,
    /// First day of a period.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day of a period, inclusive.
    #[arg(long, requires = "from")]
    to: Option<String>,
}

fn query(pairs: &[(&str, &Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", path_segment(v))))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn run(client: &Client, action: AccountingAction) -> anyhow::Result<ExitCode> {
    use AccountingAction::*;
    match action {
        Chart { csv } => {
            let table = Table::new(&["code", "name", "level", "class", "side", "enabled"]);
            table.show(
                client,
                client.get("/v1/accounting/accounts"),
                "accounts",
                csv,
            )
        }
        Vouchers {
            date,
            account,
            limit,
            csv,
        } => vouchers(client, date, account, limit, csv),
        TrialBalance {
            range,
            currency,
            csv,
        } => {
            let q = query(&[
                ("date", &range.date),
                ("from", &range.from),
                ("to", &range.to),
                ("currency", &currency),
            ]);
            let result = client.get(&format!("/v1/accounting/trial-balance?{q}"));
            let table = Table::new(&[
                "code", "name", "level", "side", "opening", "debit", "credit", "closing",
            ]);
            if let Ok(body) = &result {
                if !csv && !client.json() {
                    let t = &body["totals"];
                    println!(
                        "{} {} to {}: debits {} credits {} — {}",
                        body["currency"].as_str().unwrap_or(""),
                        body["from"].as_str().unwrap_or(""),
                        body["to"].as_str().unwrap_or(""),
                        t["debit"],
                        t["credit"],
                        if t["balanced"] == true {
                            "balanced"
                        } else {
                            "NOT BALANCED"
                        }
                    );
                }
            }
            table.show(client, result, "rows", csv)
        }
        GlCheck { date, csv } => {
            let result = client.get(&format!(
                "/v1/accounting/gl-check?{}",
                query(&[("date", &date)])
            ));
            let differences = result
                .as_ref()
                .map(|b| b["differences"].as_array().map_or(0, Vec::len))
                .unwrap_or(0);
            let table = Table::new(&[
                "code",
                "name",
                "currency",
                "gl_balance",
                "subledger_balance",
                "difference",
            ]);
            let code = table.show(client, result, "checked", csv)?;
            if code == ExitCode::SUCCESS && differences > 0 {
                eprintln!("{differences} control account(s) differ from the sub-ledger");
                return Ok(ExitCode::from(EXIT_CORRUPT));
            }
            Ok(code)
        }
        ReserveReport { range, csv } => {
            let q = query(&[
                ("date", &range.date),
                ("from", &range.from),
                ("to", &range.to),
            ]);
            let table = Table::new(&[
                "date", "code", "name", "currency", "opening", "inflow", "outflow", "closing",
            ]);
            table.show(
                client,
                client.get(&format!("/v1/accounting/reserve-report?{q}")),
                "rows",
                csv,
            )
        }
        Exceptions => {
            let table = Table::new(&[
                "record_id",
                "client_id",
                "kind",
                "debit_account_no",
                "credit_account_no",
                "amount",
                "ledger_date",
                "reason",
            ]);
            table.show(
                client,
                client.get("/v1/accounting/exceptions"),
                "exceptions",
                false,
            )
        }
        Retry => print_json(
            client,
            client.post("/v1/accounting/exceptions/retry", json!({})),
        ),
        Account { edit } => print_json(client, edit_chart(client, edit)),
        Rules { set: None } => finish(client, client.get("/v1/accounting/rules"), |body: Value| {
            print!("{}", body["rules"].as_str().unwrap_or_default());
        }),
        Rules { set: Some(path) } => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            print_json(client, client.put_text("/v1/accounting/rules", text))
        }
        Close { period } => print_json(
            client,
            client.post(
                &format!("/v1/accounting/periods/{}/close", path_segment(&period)),
                json!({}),
            ),
        ),
        Status => print_json(client, client.get("/v1/accounting/status")),
    }
}

fn edit_chart(client: &Client, edit: ChartEdit) -> Result<Value, Failure> {
    let path = |code: &str| format!("/v1/accounting/accounts/{}", path_segment(code));
    match edit {
        ChartEdit::Add {
            code,
            name,
            class,
            side,
        } => client.post(
            "/v1/accounting/accounts",
            crate::client::body(json!({"code": code, "name": name, "class": class, "side": side})),
        ),
        ChartEdit::Rename { code, name } => client.patch(&path(&code), json!({ "name": name })),
        ChartEdit::Disable { code } => client.patch(&path(&code), json!({ "enabled": false })),
        ChartEdit::Enable { code } => client.patch(&path(&code), json!({ "enabled": true })),
    }
}

fn print_json(client: &Client, result: Result<Value, Failure>) -> anyhow::Result<ExitCode> {
    finish(client, result, |body: Value| {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    })
}

/// Columns of a list in a response, shown as an aligned table or CSV.
struct Table {
    columns: Vec<&'static str>,
}

impl Table {
    fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
        }
    }

    fn cells(&self, row: &Value) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match &row[*c] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect()
    }

    fn show(
        &self,
        client: &Client,
        result: Result<Value, Failure>,
        list: &str,
        csv: bool,
    ) -> anyhow::Result<ExitCode> {
        if csv {
            let body = match result {
                Ok(body) => body,
                Err(failure) => {
                    eprintln!("error: {}", failure.message);
                    return Ok(ExitCode::from(failure.code));
                }
            };
            println!("{}", self.columns.join(","));
            for row in body[list].as_array().into_iter().flatten() {
                let cells: Vec<String> = self.cells(row).iter().map(|c| csv_field(c)).collect();
                println!("{}", cells.join(","));
            }
            return Ok(ExitCode::SUCCESS);
        }
        finish(client, result, |body: Value| {
            let rows: Vec<Vec<String>> = body[list]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| self.cells(r))
                .collect();
            let widths: Vec<usize> = (0..self.columns.len())
                .map(|i| {
                    rows.iter()
                        .map(|r| r[i].width())
                        .chain([self.columns[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: Vec<String>| {
                let padded: Vec<String> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.width())))
                    .collect();
                println!("{}", padded.join("  ").trim_end());
            };
            line(self.columns.iter().map(|c| c.to_uppercase()).collect());
            rows.into_iter().for_each(line);
        })
    }
}

fn vouchers(
    client: &Client,
    date: Option<String>,
    account: Option<String>,
    limit: Option<usize>,
    csv: bool,
) -> anyhow::Result<ExitCode> {
    let path = |after: Option<u64>| {
        let after = after.map(|a| a.to_string());
        let limit = limit.map(|l| l.to_string());
        let q = query(&[
            ("date", &date),
            ("account", &account),
            ("after", &after),
            ("limit", &limit),
        ]);
        format!("/v1/accounting/vouchers?{q}")
    };
    if !csv {
        return finish(client, client.get(&path(None)), |page: Value| {
            for v in page["vouchers"].as_array().into_iter().flatten() {
                println!(
                    "{} {} {} {} {}",
                    v["voucher_no"].as_str().unwrap_or(""),
                    v["accounting_date"].as_str().unwrap_or(""),
                    v["source"].as_str().unwrap_or(""),
                    v["client_id"].as_str().unwrap_or(""),
                    v["note"].as_str().unwrap_or("")
                );
                for l in v["lines"].as_array().into_iter().flatten() {
                    println!(
                        "    {:<6} {:<10} {:>16} {}",
                        l["side"].as_str().unwrap_or(""),
                        l["code"].as_str().unwrap_or(""),
                        l["amount"],
                        v["currency"].as_str().unwrap_or("")
                    );
                }
            }
            if let Some(next) = page["next_after"].as_u64() {
                println!("more: the API's ?after={next}");
            }
        });
    }
    println!("voucher_no,accounting_date,source,client_id,line,code,side,amount,currency,note");
    let mut after = None;
    loop {
        let page = match client.get(&path(after)) {
            Ok(page) => page,
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                return Ok(ExitCode::from(failure.code));
            }
        };
        for v in page["vouchers"].as_array().into_iter().flatten() {
            for (i, l) in v["lines"].as_array().into_iter().flatten().enumerate() {
                let text = |value: &Value| csv_field(value.as_str().unwrap_or(""));
                println!(
                    "{},{},{},{},{i},{},{},{},{},{}",
                    text(&v["voucher_no"]),
                    text(&v["accounting_date"]),
                    text(&v["source"]),
                    text(&v["client_id"]),
                    text(&l["code"]),
                    text(&l["side"]),
                    l["amount"],
                    text(&v["currency"]),
                    text(&v["note"])
                );
            }
        }
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
