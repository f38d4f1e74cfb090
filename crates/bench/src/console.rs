//! `paycore bench console`: how long the server takes to answer what the console's account page
//! asks for, on a big ledger (issue 20: a statement page among 10 million entries in ≤ 200 ms
//! of server time).
//!
//! The ledger is written straight through the engine (the HTTP path is not what is measured
//! here), then `paycore serve`'s server opens the same data directory and its projector builds
//! the query store from the log. The bench then loads account pages the way the console does —
//! the account, its active holds, a page of 50 statement entries, its daily balances — and adds
//! up each page's server time from the `Paycore-Own-Time-Ms` header of its four requests.

use std::time::{Duration, Instant};

use anyhow::Context;
use paycore_server::OWN_TIME_HEADER;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::engine::open_engine;
use crate::local_server::LocalServer;

#[derive(clap::Args, Debug, Clone)]
pub struct ConsoleBenchArgs {
    /// Journal entries in the ledger (two per transfer).
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: usize,
    /// Accounts the transfers run between (each opened and funded first).
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u32,
    /// Account pages loaded per kind of page.
    #[arg(long, default_value_t = 200)]
    pub pages: usize,
}

const BENCH_KEY: &str = "pck_bench_console_admin";
/// The console's statement page size.
const PAGE_SIZE: usize = 50;

pub fn run(args: ConsoleBenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-console-")
        .tempdir_in(".")?;
    let started = Instant::now();
    let commands = {
        let engine = open_engine(temp.path(), 0)?;
        crate::store::post(&engine, args.accounts, args.entries / 2)?
    };
    println!(
        "paycore bench console: {commands} commands ({} transfers over {} accounts) posted in {:.2?}",
        args.entries / 2,
        args.accounts,
        started.elapsed()
    );

    let runtime = crate::payments::runtime("bench-console", 2)?;
    let server = LocalServer::start(&runtime, temp.path(), BENCH_KEY, Default::default())?;
    runtime.block_on(async {
        let pages = Pages {
            http: reqwest::Client::new(),
            url: server.url.clone(),
        };
        let projected = Instant::now();
        let batches = pages.wait_projected().await?;
        println!(
            "query store: the log's {batches} batches (≈{} journal entries) projected in {:.2?}",
            args.entries,
            projected.elapsed()
        );
        pages.measure(&args).await
    })?;
    server.stop(&runtime)
}

struct Pages {
    http: reqwest::Client,
    url: String,
}

/// One request's answer and the server's own time on it.
struct Answer {
    body: Value,
    own: Duration,
}

/// Which page of a statement the console shows.
#[derive(Clone, Copy, Debug)]
enum PageKind {
    /// The first 50 entries, as the account page opens.
    First,
    /// The page after it ("next page").
    Next,
    /// From a random sequence number on, as a deep page of paging lands.
    Deep,
    /// Filtered to today's accounting date.
    Dated,
}

impl Pages {
    async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(BENCH_KEY)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "GET {path}: HTTP {}",
            response.status()
        );
        let own = response
            .headers()
            .get(OWN_TIME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("GET {path}: no {OWN_TIME_HEADER} header"))?;
        Ok(Answer {
            body: response.json().await?,
            own: Duration::from_secs_f64(own / 1e3),
        })
    }

    /// Waits until the query store holds every durable batch; returns the last batch's number.
    async fn wait_projected(&self) -> anyhow::Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(3_600);
        loop {
            let health = self.get("/healthz").await?.body;
            if health["store_lag_batches"].as_u64() == Some(0) {
                return health["durable_sequence"]
                    .as_u64()
                    .context("/healthz without durable_sequence");
            }
            anyhow::ensure!(Instant::now() < deadline, "projection never caught up");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn measure(&self, args: &ConsoleBenchArgs) -> anyhow::Result<()> {
        let today = self.get("/healthz").await?.body["accounting_date"]
            .as_str()
            .context("/healthz without accounting_date")?
            .to_owned();
        let mut rng = SmallRng::seed_from_u64(20);
        let last_seq = args.entries as u64;
        for kind in [
            PageKind::First,
            PageKind::Next,
            PageKind::Deep,
            PageKind::Dated,
        ] {
            let mut totals = Vec::with_capacity(args.pages);
            let mut statements = Vec::with_capacity(args.pages);
            for _ in 0..args.pages {
                let account = format!("A{:09}", rng.gen_range(1..=args.accounts));
                let from_seq = match kind {
                    PageKind::Next => Some(self.next_page_of(&account).await?),
                    PageKind::Deep => Some(rng.gen_range(1..=last_seq)),
                    PageKind::First | PageKind::Dated => None,
                };
                let date = matches!(kind, PageKind::Dated).then_some(today.as_str());
                let page = self.account_page(&account, from_seq, date).await?;
                totals.push(page.total);
                statements.push(page.statement);
            }
            print_line(kind, &mut totals, &mut statements);
        }
        Ok(())
    }

    /// The `next_from_seq` of the account's first page.
    async fn next_page_of(&self, account: &str) -> anyhow::Result<u64> {
        let first = self
            .get(&format!("/v1/accounts/{account}/entries?limit={PAGE_SIZE}"))
            .await?;
        first.body["next_from_seq"]
            .as_u64()
            .with_context(|| format!("{account} has fewer than {PAGE_SIZE} entries: use fewer --accounts or more --entries"))
    }

    /// The four requests of the console's account page, one after the other as the page makes
    /// them; their server times summed, and the statement request's alone.
    async fn account_page(
        &self,
        account: &str,
        from_seq: Option<u64>,
        date: Option<&str>,
    ) -> anyhow::Result<PageTime> {
        let mut statement = format!("/v1/accounts/{account}/entries?limit={PAGE_SIZE}");
        if let Some(seq) = from_seq {
            statement.push_str(&format!("&from_seq={seq}"));
        }
        if let Some(date) = date {
            statement.push_str(&format!("&from_date={date}&to_date={date}"));
        }
        let paths = [
            format!("/v1/accounts/{account}"),
            format!("/v1/accounts/{account}/holds?status=active&limit=100"),
            statement,
            format!("/v1/accounts/{account}/daily-balances"),
        ];
        let mut total = Duration::ZERO;
        let mut statement_time = Duration::ZERO;
        for (i, path) in paths.iter().enumerate() {
            let answer = self.get(path).await?;
            if i == 2 {
                anyhow::ensure!(
                    answer.body["entries"]
                        .as_array()
                        .is_some_and(|e| !e.is_empty()),
                    "{path}: an empty statement page"
                );
                statement_time = answer.own;
            }
            total += answer.own;
        }
        Ok(PageTime {
            total,
            statement: statement_time,
        })
    }
}

struct PageTime {
    total: Duration,
    statement: Duration,
}

fn print_line(kind: PageKind, totals: &mut [Duration], statements: &mut [Duration]) {
    totals.sort();
    statements.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() - 1) as f64 * p) as usize];
    println!(
        "{:<6} page ({} loads): server time p50 {:.2?} p99 {:.2?} max {:.2?}; the statement request alone p50 {:.2?} p99 {:.2?}",
        format!("{kind:?}").to_lowercase(),
        totals.len(),
        pct(totals, 0.5),
        pct(totals, 0.99),
        totals[totals.len() - 1],
        pct(statements, 0.5),
        pct(statements, 0.99),
    );
}
