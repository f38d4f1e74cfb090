//! Command-line interface: the subcommands and their dispatch.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paycore_money::{cny_capital, parse_minor, Currency, Sign};

/// Exit code for any failure that has no more specific code.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of `verify-log` when the log is broken.
pub const EXIT_CORRUPT: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "paycore",
    version,
    about = "paycore: the ledger and payment core"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Measure durable engine throughput and latency (uniform and hot), and recovery time.
    Bench(crate::bench::BenchArgs),
    /// Walk the log's chain of checksums and report the first break.
    VerifyLog {
        /// Data directory of the engine.
        #[arg(long, env = "PAYCORE_DATA_DIR", default_value = "./paycore-data")]
        data_dir: std::path::PathBuf,
    },
    /// Write a CNY amount in Chinese capital numerals (大写金额), e.g. `paycore words 1005.30`.
    Words {
        /// Amount in yuan with up to two decimals, e.g. 1005.30 or -12.5.
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Bench(args) => {
            crate::bench::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyLog { data_dir } => verify_log(&data_dir),
        Command::Words { amount } => {
            let fen = parse_minor(&amount, Currency::CNY, Sign::Any)
                .with_context(|| format!("cannot read {amount:?} as a CNY amount"))?;
            println!("{}", cny_capital(fen));
            Ok(ExitCode::SUCCESS)
        }
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
