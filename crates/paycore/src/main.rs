//! The `paycore` binary: command-line entry point. Parses arguments and hands off to the
//! library crates; errors are reported here, once, with `anyhow`.

mod accounting_cli;
mod adjust_cli;
mod cli;
mod client;
mod journal_cli;
mod notify_cli;
mod payments_cli;
mod payouts_cli;
mod recon_cli;
mod reset_admin;
mod router_cli;
mod serve;
mod shard_cli;

use std::process::ExitCode;

use clap::Parser;

/// Large blocks (records, the idempotency index) on transparent huge pages; see the crate docs.
#[global_allocator]
static ALLOC: paycore_hugealloc::HugePageAlloc = paycore_hugealloc::HugePageAlloc;

fn main() -> ExitCode {
    // Output piped into `head` and the like ends quietly when the reader goes away, as other
    // command-line tools do, instead of panicking on a failed print.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}
