//! Command-line interface: the subcommands and their dispatch.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paycore_money::{cny_capital, parse_minor, Currency, Sign};
use serde_json::json;

use crate::client::{self, body, finish, generated_id, minor_units, Client, Connection};

/// Exit code for any failure that has no more specific code.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of `verify-log` when the log is broken.
pub const EXIT_CORRUPT: u8 = 3;
/// Exit code of a local command refused because a running server holds the data directory.
pub const EXIT_IN_USE: u8 = 10;

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 error, 2 usage, 3 log corrupt (verify-log), 4 rejected by a ledger rule (422), \
5 not found, 6 conflict (id_conflict, account_exists, last_admin_key), 7 unauthorized or forbidden, 8 invalid request, 9 server unavailable, \
10 data directory in use by a running server (keys reset-admin).";

#[derive(Parser, Debug)]
#[command(name = "paycore", version, about = "paycore: the ledger and payment core", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server on the embedded engine (data in ./paycore-data, http://127.0.0.1:8080).
    Serve(crate::serve::ServeArgs),
    /// Accounts: open, show, list, close.
    Account {
        #[command(subcommand)]
        action: AccountAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Post a transfer (转账), or `transfer show ID`, or `transfer list …`.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Transfer {
        #[command(subcommand)]
        show: Option<TransferQuery>,
        #[command(flatten)]
        args: Option<TransferArgs>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Deposit (充值) into an account from the settlement account.
    Deposit {
        #[command(flatten)]
        args: SettleArgs,
        #[command(flatten)]
        conn: Connection,
    },
    /// Withdraw (提现) from an account to the settlement account.
    Withdraw {
        #[command(flatten)]
        args: SettleArgs,
        #[command(flatten)]
        conn: Connection,
    },
    /// Holds (冻结): create, release, capture, show.
    Hold {
        #[command(subcommand)]
        action: HoldAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// API keys (admin): create, list, revoke; `keys reset-admin` on a stopped server's data.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// An account's statement (账户流水) from the query store; `--csv` exports all of it.
    Entries {
        account: String,
        /// First accounting date, YYYY-MM-DD.
        #[arg(long)]
        from_date: Option<String>,
        /// Last accounting date, YYYY-MM-DD.
        #[arg(long)]
        to_date: Option<String>,
        /// Start at this sequence number.
        #[arg(long)]
        from_seq: Option<u64>,
        #[arg(long)]
        limit: Option<usize>,
        /// Write every matching entry as CSV (a statement export).
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        conn: Connection,
    },
    /// Day-end cutover (日切): close the current accounting date (admin).
    DayEnd {
        /// The day to close; must be the current accounting date (the default).
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Reports from the query store.
    Report {
        #[command(subcommand)]
        report: ReportKind,
        #[command(flatten)]
        conn: Connection,
    },
    /// Accounting (会计): chart, vouchers, trial balance, GL check, reserve report, periods.
    Accounting {
        #[command(subcommand)]
        action: crate::accounting_cli::AccountingAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Recompute every balance from the query store's journal and compare with the ledger
    /// (exit 3 on any difference).
    Verify {
        #[command(flatten)]
        conn: Connection,
    },
    /// Measure durable engine throughput and latency (uniform and hot), and recovery time;
    /// `bench http` measures the HTTP API under load.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        #[command(subcommand)]
        target: Option<BenchTarget>,
        #[command(flatten)]
        args: paycore_bench::engine::BenchArgs,
    },
    /// Walk the log's chain of checksums and report the first break.
    VerifyLog {
        /// Data directory of the engine.
        #[arg(long, env = "PAYCORE_DATA_DIR", default_value = "./paycore-data")]
        data_dir: std::path::PathBuf,
    },
    /// Merchants (商户): create (admin), show.
    Merchant {
        #[command(subcommand)]
        action: crate::payments_cli::MerchantAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Channels (渠道): add, list, show, set (admin).
    Channel {
        #[command(subcommand)]
        action: crate::payments_cli::ChannelAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Trade orders (交易订单): create, show.
    Trade {
        #[command(subcommand)]
        action: crate::payments_cli::TradeAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Pay a trade through a routed channel: `paycore pay TRADE_ID --method quickpay`.
    Pay {
        #[command(flatten)]
        args: crate::payments_cli::PayArgs,
        #[command(flatten)]
        conn: Connection,
    },
    /// Merchant notifications (异步通知): list, show, retry.
    Notify {
        #[command(subcommand)]
        action: crate::notify_cli::NotifyAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Adjustments (调账) with maker-checker: create, list, show, approve, reject.
    Adjust {
        #[command(subcommand)]
        action: crate::adjust_cli::AdjustAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Reconciliation (对账): import or fetch a statement, exceptions, resolve, report.
    Recon {
        #[command(subcommand)]
        action: crate::recon_cli::ReconAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Payouts (出款) to bank accounts: send, show, list, resend, reroute.
    Payout {
        #[command(subcommand)]
        action: crate::payouts_cli::PayoutAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Payment orders: show, resend, reroute.
    Payment {
        #[command(subcommand)]
        action: crate::payments_cli::PaymentAction,
        #[command(flatten)]
        conn: Connection,
    },
    /// Run the bank simulator (both channel protocols) for local runs and tests.
    ChannelSim {
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        /// Seed of every order's outcome (same seed, same outcomes).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Run the router: one address in front of a sharded ledger; coordinates cross-shard transfers.
    Router(crate::router_cli::RouterArgs),
    /// The shard map in etcd: which shard each account lives on.
    Shard {
        #[command(subcommand)]
        action: crate::shard_cli::ShardAction,
        #[command(flatten)]
        etcd: crate::shard_cli::EtcdArgs,
    },
    /// Write a CNY amount in Chinese capital numerals (大写金额), e.g. `paycore words 1005.30`.
    Words {
        /// Amount in yuan with up to two decimals, e.g. 1005.30 or -12.5.
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportKind {
    /// Totals per account type, debits = credits, and transit accounts left with money (挂账).
    DayEnd {
        /// Accounting date, YYYY-MM-DD (default: the last closed day).
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchTarget {
    /// Load on the HTTP API: single transfers from many connections, at a fixed rate, and batches.
    Http(paycore_bench::http::HttpBenchArgs),
    /// The replicated log's append path on etcd (starts a 3-member cluster unless --etcd).
    Etcd(paycore_bench::etcd::EtcdBenchArgs),
    /// Failover of a replicated shard: a leader and a standby on a local 3-member etcd, the
    /// leader killed `--kills` times; time from each kill to the first accepted write.
    Failover(paycore_bench::failover::FailoverBenchArgs),
    /// Transfers between two replicated shards through `paycore router`, beside transfers
    /// inside one shard (straight to its leader and through the router).
    CrossShard(paycore_bench::cross_shard::CrossShardBenchArgs),
    /// The query store: projection throughput, day-end over many accounts, statement queries.
    Store(paycore_bench::store::StoreBenchArgs),
    /// Account statements under 1, 8 and 64 concurrent readers, while the store is idle, while
    /// the projector writes and while a verify scan runs; one shared handle beside the pool.
    Reads(paycore_bench::reads::ReadsBenchArgs),
    /// The console's account page (account, holds, a statement page, daily balances) on a big
    /// ledger: server time per page, first, next, deep and date-filtered.
    Console(paycore_bench::console::ConsoleBenchArgs),
    /// Accounting: vouchers per second from a backlog, trial balance and GL check over them.
    Accounting(paycore_bench::accounting::AccountingBenchArgs),
    /// A hot account end to end (engine + query store) against uniform traffic, and a
    /// PostgreSQL row-lock baseline of the same workloads.
    Hot(paycore_bench::hot::HotBenchArgs),
    /// Pay-ins end to end over HTTP against the bank simulator: payments/s and paycore's own
    /// time per payment.
    Payments(paycore_bench::payments::PaymentsBenchArgs),
    /// Reconciliation: a day's statement of `--lines` lines against as many orders, uploaded,
    /// imported and matched; records/s and peak RSS.
    Recon(paycore_bench::recon::ReconBenchArgs),
}

#[derive(Subcommand, Debug)]
pub enum AccountAction {
    /// Open an account (admin).
    Open {
        account_no: String,
        /// customer, merchant, internal, transit or settlement.
        #[arg(long = "type", default_value = "customer")]
        account_type: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Allow the balance to go negative (default depends on the type).
        #[arg(long)]
        allow_negative: Option<bool>,
        #[arg(long)]
        reference: Option<String>,
    },
    /// Show balances and status.
    Show { account_no: String },
    /// List accounts in opening order.
    List {
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Close an account (refused while its balance or frozen amount is not zero).
    Close { account_no: String },
}

#[derive(Subcommand, Debug)]
pub enum TransferQuery {
    /// Show a transfer by its id.
    Show { id: String },
    /// Search transfers (query store): by account, reference, accounting dates.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        reference: Option<String>,
        /// First accounting date, YYYY-MM-DD.
        #[arg(long)]
        from: Option<String>,
        /// Last accounting date, YYYY-MM-DD.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(clap::Args, Debug)]
pub struct TransferArgs {
    /// Idempotency key; generated (and printed) if omitted.
    #[arg(long)]
    id: Option<String>,
    /// Account debited.
    #[arg(long, required = true)]
    from: String,
    /// Account credited.
    #[arg(long, required = true)]
    to: String,
    /// Amount in the currency's units, e.g. 1005.30.
    #[arg(long, required = true)]
    amount: String,
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// transfer, payment, refund, fee, settlement, reversal (an adjustment goes through
    /// `paycore adjust`).
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    reference: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct SettleArgs {
    /// Idempotency key; generated (and printed) if omitted.
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    account: String,
    /// Amount in the currency's units, e.g. 1005.30.
    #[arg(long)]
    amount: String,
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// Settlement account (default: SETTLEMENT-<currency>).
    #[arg(long)]
    settlement: Option<String>,
    #[arg(long)]
    reference: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum HoldAction {
    /// Freeze an amount of an account.
    Create {
        /// The hold's id (also its idempotency key).
        #[arg(long)]
        id: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// RFC 3339 time at which the hold releases itself.
        #[arg(long)]
        expires_at: Option<String>,
        #[arg(long)]
        reference: Option<String>,
    },
    /// Release all or part of a hold.
    Release {
        hold: String,
        /// Amount to release (default: all that remains).
        #[arg(long)]
        amount: Option<String>,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Idempotency key of this release.
        #[arg(long)]
        id: Option<String>,
    },
    /// Pay from the hold to another account.
    Capture {
        hold: String,
        /// Account paid.
        #[arg(long)]
        to: String,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long, default_value = "CNY")]
        currency: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Show a hold.
    Show { hold: String },
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Create a key; its secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: String,
        /// The person the key belongs to (default: its name); maker-checker compares operators.
        #[arg(long)]
        operator: Option<String>,
    },
    List,
    /// Revoke a key (never the last active admin key).
    Revoke {
        id: String,
    },
    /// Offline, on a stopped server's data directory: add an admin key named recovered-admin
    /// to keys.json and print it (shown once). Refused while a server runs on the directory.
    ResetAdmin {
        #[arg(long, env = "PAYCORE_DATA_DIR", default_value = "./paycore-data")]
        data_dir: std::path::PathBuf,
    },
}

/// Runs a benchmark; `PAYCORE_LOG` (e.g. `paycore_store=debug`) shows what the measured parts log.
fn bench(
    target: Option<BenchTarget>,
    args: paycore_bench::engine::BenchArgs,
) -> anyhow::Result<()> {
    if std::env::var_os("PAYCORE_LOG").is_some() {
        crate::serve::init_logging("text")?;
    }
    match target {
        None => paycore_bench::engine::run(args),
        Some(BenchTarget::Http(args)) => paycore_bench::http::run(args),
        Some(BenchTarget::Etcd(args)) => paycore_bench::etcd::run(args),
        Some(BenchTarget::Failover(args)) => paycore_bench::failover::run(args),
        Some(BenchTarget::CrossShard(args)) => paycore_bench::cross_shard::run(args),
        Some(BenchTarget::Store(args)) => paycore_bench::store::run(args),
        Some(BenchTarget::Reads(args)) => paycore_bench::reads::run(args),
        Some(BenchTarget::Hot(args)) => paycore_bench::hot::run(args),
        Some(BenchTarget::Accounting(args)) => paycore_bench::accounting::run(args),
        Some(BenchTarget::Console(args)) => paycore_bench::console::run(args),
        Some(BenchTarget::Payments(args)) => paycore_bench::payments::run(args),
        Some(BenchTarget::Recon(args)) => paycore_bench::recon::run(args),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Bench { target, args } => bench(target, args).map(|()| ExitCode::SUCCESS),
        Command::VerifyLog { data_dir } => verify_log(&data_dir),
        Command::ChannelSim { listen, seed } => {
            crate::serve::init_logging("text")?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let shutdown = paycore_channel_sim::shutdown_signal();
            runtime.block_on(paycore_channel_sim::run(listen, seed, shutdown))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Shard { action, etcd } => crate::shard_cli::run(action, etcd),
        Command::Router(args) => crate::router_cli::run(args).map(|()| ExitCode::SUCCESS),
        Command::Words { amount } => {
            let fen = parse_minor(&amount, Currency::CNY, Sign::Any)
                .with_context(|| format!("cannot read {amount:?} as a CNY amount"))?;
            println!("{}", cny_capital(fen));
            Ok(ExitCode::SUCCESS)
        }
        Command::Account { action, conn } => account(&Client::new(conn)?, action),
        Command::Entries {
            account,
            from_date,
            to_date,
            from_seq,
            limit,
            csv,
            conn,
        } => {
            let args = crate::journal_cli::EntriesArgs {
                account,
                from_date,
                to_date,
                from_seq,
                limit,
                csv,
            };
            crate::journal_cli::entries(&Client::new(conn)?, args)
        }
        Command::DayEnd { date, conn } => crate::journal_cli::day_end(&Client::new(conn)?, date),
        Command::Report {
            report: ReportKind::DayEnd { date },
            conn,
        } => crate::journal_cli::report(&Client::new(conn)?, date),
        Command::Verify { conn } => crate::journal_cli::verify(&Client::new(conn)?),
        Command::Accounting { action, conn } => {
            crate::accounting_cli::run(&Client::new(conn)?, action)
        }
        Command::Transfer {
            show:
                Some(TransferQuery::List {
                    account,
                    reference,
                    from,
                    to,
                    limit,
                }),
            conn,
            ..
        } => crate::journal_cli::transfer_list(
            &Client::new(conn)?,
            account,
            reference,
            from,
            to,
            limit,
        ),
        Command::Transfer {
            show: Some(TransferQuery::Show { id }),
            conn,
            ..
        } => {
            let client = Client::new(conn)?;
            finish(
                &client,
                client.get(&format!("/v1/transfers/{}", path_segment(&id))),
                client::print_transfer,
            )
        }
        Command::Transfer {
            args: Some(args),
            conn,
            ..
        } => transfer(&Client::new(conn)?, args),
        Command::Transfer { .. } => {
            anyhow::bail!("transfer needs --from, --to and --amount (or `transfer show ID`)")
        }
        Command::Deposit { args, conn } => settle(&Client::new(conn)?, args, "/v1/deposits", "dep"),
        Command::Withdraw { args, conn } => {
            settle(&Client::new(conn)?, args, "/v1/withdrawals", "wd")
        }
        Command::Hold { action, conn } => hold(&Client::new(conn)?, action),
        Command::Keys { action, conn } => keys(&Client::new(conn)?, action),
        Command::Merchant { action, conn } => {
            crate::payments_cli::merchant(&Client::new(conn)?, action)
        }
        Command::Channel { action, conn } => {
            crate::payments_cli::channel(&Client::new(conn)?, action)
        }
        Command::Trade { action, conn } => crate::payments_cli::trade(&Client::new(conn)?, action),
        Command::Pay { args, conn } => crate::payments_cli::pay(&Client::new(conn)?, args),
        Command::Adjust { action, conn } => crate::adjust_cli::adjust(&Client::new(conn)?, action),
        Command::Notify { action, conn } => crate::notify_cli::notify(&Client::new(conn)?, action),
        Command::Payment { action, conn } => {
            crate::payments_cli::payment(&Client::new(conn)?, action)
        }
        Command::Payout { action, conn } => crate::payouts_cli::payout(&Client::new(conn)?, action),
        Command::Recon { action, conn } => crate::recon_cli::recon(&Client::new(conn)?, action),
    }
}

/// Percent-encodes characters that cannot appear in a URL path segment.
pub(crate) fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn account(client: &Client, action: AccountAction) -> anyhow::Result<ExitCode> {
    match action {
        AccountAction::Open {
            account_no,
            account_type,
            currency,
            allow_negative,
            reference,
        } => {
            let request = body(
                json!({"account_no": account_no, "type": account_type, "currency": currency, "allow_negative": allow_negative, "reference": reference}),
            );
            finish(
                client,
                client.post("/v1/accounts", request),
                client::print_account,
            )
        }
        AccountAction::Show { account_no } => finish(
            client,
            client.get(&format!("/v1/accounts/{}", path_segment(&account_no))),
            client::print_account,
        ),
        AccountAction::List { after, limit } => {
            let mut query = vec![];
            if let Some(after) = after {
                query.push(format!("after={}", path_segment(&after)));
            }
            if let Some(limit) = limit {
                query.push(format!("limit={limit}"));
            }
            finish(
                client,
                client.get(&format!("/v1/accounts?{}", query.join("&"))),
                client::print_accounts,
            )
        }
        AccountAction::Close { account_no } => finish(
            client,
            client.post(
                &format!("/v1/accounts/{}/close", path_segment(&account_no)),
                json!({}),
            ),
            client::print_account,
        ),
    }
}

fn transfer(client: &Client, args: TransferArgs) -> anyhow::Result<ExitCode> {
    let amount = minor_units(&args.amount, &args.currency)?;
    let id = args.id.unwrap_or_else(|| generated_id("tr"));
    let request = body(json!({
        "id": id, "debit_account": args.from, "credit_account": args.to, "amount": amount,
        "currency": args.currency, "kind": args.kind, "reference": args.reference,
    }));
    finish(
        client,
        client.post("/v1/transfers", request),
        client::print_transfer,
    )
}

fn settle(client: &Client, args: SettleArgs, path: &str, prefix: &str) -> anyhow::Result<ExitCode> {
    let amount = minor_units(&args.amount, &args.currency)?;
    let id = args.id.unwrap_or_else(|| generated_id(prefix));
    let request = body(json!({
        "id": id, "account": args.account, "amount": amount, "currency": args.currency,
        "settlement_account": args.settlement, "reference": args.reference,
    }));
    finish(client, client.post(path, request), client::print_transfer)
}

fn hold(client: &Client, action: HoldAction) -> anyhow::Result<ExitCode> {
    match action {
        HoldAction::Create {
            id,
            account,
            amount,
            currency,
            expires_at,
            reference,
        } => {
            let request = body(json!({
                "id": id, "account": account, "amount": minor_units(&amount, &currency)?, "currency": currency,
                "expires_at": expires_at, "reference": reference,
            }));
            finish(
                client,
                client.post("/v1/holds", request),
                client::print_hold,
            )
        }
        HoldAction::Release {
            hold,
            amount,
            currency,
            id,
        } => {
            let amount = amount.map(|a| minor_units(&a, &currency)).transpose()?;
            let path = format!("/v1/holds/{}/release", path_segment(&hold));
            finish(
                client,
                client.post(&path, body(json!({"id": id, "amount": amount}))),
                client::print_hold,
            )
        }
        HoldAction::Capture {
            hold,
            to,
            amount,
            currency,
            id,
        } => {
            let amount = amount.map(|a| minor_units(&a, &currency)).transpose()?;
            let path = format!("/v1/holds/{}/capture", path_segment(&hold));
            let request = body(json!({"id": id, "credit_account": to, "amount": amount}));
            finish(
                client,
                client.post(&path, request),
                |r: paycore_api::ledger::CaptureResponse| {
                    client::print_hold(r.hold);
                    client::print_transfer(r.transfer);
                },
            )
        }
        HoldAction::Show { hold } => finish(
            client,
            client.get(&format!("/v1/holds/{}", path_segment(&hold))),
            client::print_hold,
        ),
    }
}

fn keys(client: &Client, action: KeysAction) -> anyhow::Result<ExitCode> {
    match action {
        KeysAction::Create {
            name,
            role,
            operator,
        } => finish(
            client,
            client.post(
                "/v1/keys",
                body(json!({"name": name, "role": role, "operator": operator})),
            ),
            client::print_key,
        ),
        KeysAction::List => finish(client, client.get("/v1/keys"), client::print_keys),
        KeysAction::Revoke { id } => finish(
            client,
            client.post(&format!("/v1/keys/{}/revoke", path_segment(&id)), json!({})),
            client::print_key,
        ),
        KeysAction::ResetAdmin { data_dir } => crate::reset_admin::run(&data_dir),
    }
}

fn verify_log(data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    match paycore_engine::verify_log(data_dir) {
        Ok(report) => {
            match (report.first_sequence, report.last_sequence) {
                (Some(first), Some(last)) => println!("log intact: {} records, batches {first}..={last}, every checksum and link verified", report.records),
                _ => println!("log is empty"),
            }
            if let Some((file, offset)) = report.torn_tail {
                println!("note: a torn final record at {} offset {offset} (a crash mid-write; never acknowledged) will be dropped at startup", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("log broken: {error}");
            Ok(ExitCode::from(EXIT_CORRUPT))
        }
    }
}
