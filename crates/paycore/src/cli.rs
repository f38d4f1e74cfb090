//! Command-line interface: the subcommands and their dispatch.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paycore_money::{cny_capital, parse_minor, Currency, Sign};

/// Exit code for any failure that has no more specific code.
pub const EXIT_FAILURE: u8 = 1;

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
    /// Write a CNY amount in Chinese capital numerals (大写金额), e.g. `paycore words 1005.30`.
    Words {
        /// Amount in yuan with up to two decimals, e.g. 1005.30 or -12.5.
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Words { amount } => {
            let fen = parse_minor(&amount, Currency::CNY, Sign::Any)
                .with_context(|| format!("cannot read {amount:?} as a CNY amount"))?;
            println!("{}", cny_capital(fen));
            Ok(ExitCode::SUCCESS)
        }
    }
}
