//! `paycore bench accounting`: how fast accounting posts vouchers from a backlog of ledger
//! transfers, and how long the day's trial balance and GL check take over them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_accounting::{Books, Feed, VoucherQuery};

use crate::engine::open_engine;
use crate::store::post;

#[derive(clap::Args, Debug, Clone)]
pub struct AccountingBenchArgs {
    /// Ledger transfers posted before the feed starts (all on one accounting day).
    #[arg(long, default_value_t = 1_000_000)]
    pub transfers: usize,
    /// Customer accounts (each opened and funded first).
    #[arg(long, default_value_t = 10_000)]
    pub accounts: u32,
}

pub fn run(args: AccountingBenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-accounting-")
        .tempdir_in(".")?;
    let data = temp.path().join("data");
    let engine = Arc::new(open_engine(&data, 0)?);
    println!(
        "paycore bench accounting: {} transfers over {} accounts, then vouchers from the backlog",
        args.transfers, args.accounts
    );
    let posted = Instant::now();
    let commands = post(&engine, args.accounts, args.transfers)?;
    println!(
        "posted     {commands} ledger commands in {:.2?}",
        posted.elapsed()
    );

    let books = Arc::new(Books::open(&data)?);
    let durable = {
        let engine = engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    };
    let started = Instant::now();
    let mut feed = Feed::start(data.clone(), books.clone(), durable);
    anyhow::ensure!(
        feed.wait_for(
            engine.metrics().durable_sequence,
            Duration::from_secs(3_600)
        ),
        "the feed did not catch up: {:?}",
        feed.status().last_error.lock()
    );
    let elapsed = started.elapsed();
    feed.stop();
    let vouchers = books.voucher_count()?;
    println!(
        "vouchers   {vouchers} posted in {elapsed:.2?} = {:.0} vouchers/s ({} exceptions)",
        vouchers as f64 / elapsed.as_secs_f64(),
        books.exceptions()?.len()
    );

    let date = engine.read(|l| l.accounting_date().to_string());
    let timed = Instant::now();
    let trial = books.trial_balance(&date, &date, "CNY")?;
    let trial_time = timed.elapsed();
    anyhow::ensure!(trial.totals.balanced, "trial balance does not balance");
    println!(
        "trial      balance of {date} ({} rows, debits {} = credits {}) in {trial_time:.2?}",
        trial.rows.len(),
        trial.totals.debit,
        trial.totals.credit
    );
    let timed = Instant::now();
    let check = books.gl_check(&date)?;
    anyhow::ensure!(
        check.differences.is_empty(),
        "GL differs: {:?}",
        check.differences
    );
    println!(
        "gl-check   {} control accounts equal to the ledger in {:.2?}",
        check.checked.len(),
        timed.elapsed()
    );
    let timed = Instant::now();
    let page = books.vouchers(&VoucherQuery {
        date: Some(date.clone()),
        account: Some("22010101".into()),
        after: Some(vouchers / 2),
        limit: 100,
    })?;
    println!(
        "detail     100 vouchers of 22010101 from the middle of the day in {:.2?} ({} found)",
        timed.elapsed(),
        page.len()
    );
    Ok(())
}
