//! The command-line client: the same binary talks to a running server over HTTP. Human-readable
//! output by default, `--json` for scripts, and exit codes scripts can rely on (see `exit`).

use std::process::ExitCode;

use anyhow::Context;
use paycore_api::ledger::{
    AccountList, AccountResponse, HoldResponse, KeyList, KeyResponse, TransferResponse,
};
use paycore_api::ErrorBody;
use paycore_money::{cny_capital, format_minor, parse_minor, Currency, Sign};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Exit codes (also listed in `paycore --help`).
pub mod exit {
    pub const REJECTED: u8 = 4;
    pub const NOT_FOUND: u8 = 5;
    pub const CONFLICT: u8 = 6;
    pub const AUTH: u8 = 7;
    pub const INVALID: u8 = 8;
    pub const UNAVAILABLE: u8 = 9;
}

#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// Server URL.
    #[arg(
        long,
        global = true,
        env = "PAYCORE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// API key (Bearer).
    #[arg(long, global = true, env = "PAYCORE_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What went wrong talking to the server, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

pub struct Client {
    http: reqwest::blocking::Client,
    conn: Connection,
}

impl Client {
    pub fn new(conn: Connection) -> anyhow::Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Client { http, conn })
    }

    pub fn json(&self) -> bool {
        self.conn.json
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.conn.server.trim_end_matches('/'))
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder) -> Result<Value, Failure> {
        let request = match &self.conn.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().map_err(|e| Failure {
            code: exit::UNAVAILABLE,
            message: format!("cannot reach {}: {e}", self.conn.server),
        })?;
        let status = response.status();
        let body: Value = response.json().unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let (code, message) = match serde_json::from_value::<ErrorBody>(body) {
            Ok(error) => (error.error.code, error.error.message),
            Err(_) => ("http_error".to_owned(), format!("HTTP {status}")),
        };
        let exit_code = match status.as_u16() {
            400 | 413 => exit::INVALID,
            401 | 403 => exit::AUTH,
            404 => exit::NOT_FOUND,
            409 => exit::CONFLICT,
            422 => exit::REJECTED,
            _ => exit::UNAVAILABLE,
        };
        Err(Failure {
            code: exit_code,
            message: format!("{code}: {message}"),
        })
    }

    pub fn get(&self, path: &str) -> Result<Value, Failure> {
        self.send(self.http.get(self.url(path)))
    }

    pub fn post(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.send(self.http.post(self.url(path)).json(&body))
    }

    pub fn patch(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.send(self.http.patch(self.url(path)).json(&body))
    }

    /// POST of a file's bytes (a statement).
    pub fn post_bytes(&self, path: &str, body: Vec<u8>) -> Result<Value, Failure> {
        let request = self.http.post(self.url(path));
        self.send(
            request
                .header("content-type", "application/octet-stream")
                .body(body),
        )
    }

    /// PUT of a text body (e.g. the posting rules as TOML).
    pub fn put_text(&self, path: &str, body: String) -> Result<Value, Failure> {
        self.send(self.http.put(self.url(path)).body(body))
    }
}

/// Parses a decimal amount in `currency` into minor units for the API.
pub fn minor_units(amount: &str, currency: &str) -> anyhow::Result<u64> {
    let currency = Currency::from_code(currency)?;
    let minor = parse_minor(amount, currency, Sign::NonNegative)
        .with_context(|| format!("amount {amount:?}"))?;
    Ok(minor as u64)
}

/// `1005.30 CNY`, with the capital numerals for CNY (people miscount zeros).
pub fn money(minor: i64, currency: &str) -> String {
    let Ok(c) = Currency::from_code(currency) else {
        return format!("{minor} {currency} (minor units)");
    };
    let text = format!("{} {currency}", format_minor(minor, c));
    if c == Currency::CNY {
        format!("{text}  {}", cny_capital(minor))
    } else {
        text
    }
}

/// `money` for a sum over many accounts, which may pass i64 (then shown in minor units).
pub fn wide_money(minor: i128, currency: &str) -> String {
    match i64::try_from(minor) {
        Ok(minor) => money(minor, currency),
        Err(_) => format!("{minor} {currency} (minor units)"),
    }
}

/// Prints the body as JSON or as the caller's table; maps failures to exit codes.
pub fn finish<T: DeserializeOwned>(
    client: &Client,
    result: Result<Value, Failure>,
    table: impl FnOnce(T),
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(body) if client.json() => {
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(ExitCode::SUCCESS)
        }
        Ok(body) => {
            table(serde_json::from_value(body).context("unexpected response from the server")?);
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            Ok(ExitCode::from(failure.code))
        }
    }
}

pub fn print_account(a: AccountResponse) {
    println!(
        "account    {} ({}, {}, {})",
        a.account_no, a.account_type, a.currency, a.status
    );
    println!("balance    {}", money(a.balance, &a.currency));
    println!("frozen     {}", money(a.frozen, &a.currency));
    println!("available  {}", money(a.available, &a.currency));
    println!(
        "negative   {}",
        if a.allow_negative {
            "allowed"
        } else {
            "not allowed"
        }
    );
    if !a.reference.is_empty() {
        println!("reference  {}", a.reference);
    }
    println!("opened     {} by {}", a.opened_at, a.opened_by);
}

pub fn print_accounts(list: AccountList) {
    println!(
        "{:<32} {:<10} {:<4} {:>22} {:>22} {:<7}",
        "ACCOUNT", "TYPE", "CCY", "BALANCE", "AVAILABLE", "STATUS"
    );
    for a in &list.accounts {
        let c = Currency::from_code(&a.currency).ok();
        let fmt = |m: i64| c.map_or(m.to_string(), |c| format_minor(m, c));
        println!(
            "{:<32} {:<10} {:<4} {:>22} {:>22} {:<7}",
            a.account_no,
            a.account_type,
            a.currency,
            fmt(a.balance),
            fmt(a.available),
            a.status
        );
    }
    if let Some(next) = list.next {
        println!("more: --after {next}");
    }
}

pub fn print_transfer(t: TransferResponse) {
    let currency = t.currency.clone().unwrap_or_default();
    println!("transfer   {} {}", t.id, t.status);
    println!("from       {}", t.debit_account.as_deref().unwrap_or("?"));
    println!("to         {}", t.credit_account.as_deref().unwrap_or("?"));
    println!("amount     {}", money(t.amount as i64, &currency));
    println!("kind       {}", t.kind);
    if !t.reference.is_empty() {
        println!("reference  {}", t.reference);
    }
    if let Some(error) = t.error {
        println!("rejected   {}: {}", error.code, error.message);
    }
    println!("time       {}", t.timestamp);
}

pub fn print_hold(h: HoldResponse) {
    println!("hold       {} {} on {}", h.id, h.status, h.account);
    println!("amount     {}", money(h.amount as i64, &h.currency));
    println!("remaining  {}", money(h.remaining as i64, &h.currency));
    println!("captured   {}", money(h.captured as i64, &h.currency));
    if let Some(at) = h.expires_at {
        println!("expires    {at}");
    }
    println!("created    {}", h.created_at);
}

pub fn print_key(k: KeyResponse) {
    println!(
        "key        {} ({}, {}){}",
        k.id,
        k.name,
        k.role,
        if k.revoked { " REVOKED" } else { "" }
    );
    println!("operator   {}", k.operator);
    if let Some(secret) = k.key {
        println!("secret     {secret}");
        println!("           shown once: store it now");
    }
}

pub fn print_keys(list: KeyList) {
    println!(
        "{:<18} {:<24} {:<24} {:<9} {:<8} CREATED",
        "ID", "NAME", "OPERATOR", "ROLE", "STATE"
    );
    for k in list.keys {
        println!(
            "{:<18} {:<24} {:<24} {:<9} {:<8} {}",
            k.id,
            k.name,
            k.operator,
            k.role.to_string(),
            if k.revoked { "revoked" } else { "active" },
            k.created_at
        );
    }
}

/// A fresh id for a write sent without `--id` (printed, so the operator can retry with it).
pub fn generated_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let id = format!(
        "{prefix}-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    eprintln!("id: {id} (pass --id {id} to retry safely)");
    id
}

pub fn body(pairs: Value) -> Value {
    // Drop nulls so optional flags left out stay out of the request.
    match pairs {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}
