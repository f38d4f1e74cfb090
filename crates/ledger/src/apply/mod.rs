//! Applying a batch: idempotency, linked chains, and dispatch to the per-operation rules.
//!
//! Flow of one command: look its client id up; a hit with the same fingerprint returns the
//! stored outcome (a retry), a hit with another fingerprint is `id_conflict`; a miss runs the
//! operation's rules and stores a record with the result, accepted or rejected. A rejected
//! command changes nothing but its record.

mod accounts;
mod draft;
mod holds;
mod hot;
mod split;
pub use split::{sub_numbers, SPLIT_PARTS_MAX};
mod transfers;
mod undo;

pub(crate) use draft::Draft;
pub(crate) use undo::UndoLog;

use crate::command::{AccountKey, Command, Op};
use crate::store::prefetch;
use crate::{ErrorCode, Flush, JournalEntry, Ledger, Outcome, RecordId};

/// Most commands one batch may carry; the engine's batches are at most this large.
pub const BATCH_COMMANDS_MAX: usize = 8190;

/// Reusable output buffers of `Ledger::apply_batch`: one outcome per command, the journal
/// entries the batch produced in sequence order, and the flushes of hot accounts among them
/// (which records each aggregated credit contains). Cleared on every call, capacity kept.
#[derive(Default)]
pub struct BatchOutput {
    pub outcomes: Vec<Outcome>,
    pub journal: Vec<JournalEntry>,
    pub flushes: Vec<Flush>,
}

/// How many commands ahead the accounts of a transfer are prefetched: far enough for the
/// cache line to arrive, near enough to still be in cache when the command runs.
const PREFETCH_DISTANCE: usize = 8;

/// Time and position of the command being applied.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub timestamp: u64,
    pub record: RecordId,
}

impl Ledger {
    /// Applies `commands` in order at engine time `timestamp` (ns since the Unix epoch); the
    /// i-th command is stamped `timestamp + i`. Never reads a clock, never fails as a whole:
    /// every command gets an outcome.
    pub fn apply_batch(&mut self, timestamp: u64, commands: &[Command], out: &mut BatchOutput) {
        assert!(commands.len() <= BATCH_COMMANDS_MAX);
        assert!(
            timestamp > self.last_timestamp,
            "batch timestamps must increase: {timestamp} after {}",
            self.last_timestamp
        );
        out.outcomes.clear();
        out.journal.clear();
        out.flushes.clear();
        // A command stores at most two records: one in a chain's forward pass that a rollback
        // removes, and the failure record after it.
        self.index.reserve(2 * commands.len());
        self.expire_holds(timestamp, &mut out.journal);
        self.flush_due(timestamp, &mut out.journal, &mut out.flushes);

        let mut start = 0;
        while start < commands.len() {
            let chain = chain_length(&commands[start..]);
            let chain_timestamp = timestamp + start as u64;
            match chain {
                ChainLength::Single => {
                    if let Some(ahead) = commands.get(start + PREFETCH_DISTANCE) {
                        self.prefetch_for(ahead);
                    }
                    let outcome = self.decide(chain_timestamp, &commands[start], out);
                    out.outcomes.push(outcome);
                    start += 1;
                }
                ChainLength::Linked(len) => {
                    self.apply_chain(chain_timestamp, &commands[start..start + len], out);
                    start += len;
                }
                ChainLength::Open(len) => {
                    out.outcomes.extend((0..len).map(|_| Outcome {
                        result: Err(ErrorCode::LinkedChainOpen),
                        record: None,
                        replayed: false,
                    }));
                    start += len;
                }
            }
        }
        self.last_timestamp = timestamp + commands.len().saturating_sub(1) as u64;
        debug_assert_eq!(out.outcomes.len(), commands.len());
        debug_assert!(self.undo.is_idle());
    }

    /// One command outside any chain failure handling: retry, conflict, or run and record.
    fn decide(&mut self, timestamp: u64, command: &Command, out: &mut BatchOutput) -> Outcome {
        if let Some(existing) = self.find_record(&command.id) {
            return self.replay(existing, command);
        }
        let ctx = Ctx {
            timestamp,
            record: RecordId(self.records.len()),
        };
        let mut draft = self.draft_for(command);
        let result = self.execute(ctx, command, &mut draft, out);
        let record = self.store_record(ctx.timestamp, command, &draft, result);
        debug_assert_eq!(record, ctx.record);
        Outcome {
            result,
            record: Some(record),
            replayed: false,
        }
    }

    /// Hints the CPU to fetch what a later command will touch: its idempotency slot and, for
    /// transfers, its accounts. Over many accounts and ids, applying is bound by cache misses.
    #[inline]
    fn prefetch_for(&self, command: &Command) {
        self.index.prefetch(command.id.hash());
        if let Op::Transfer(t) = &command.op {
            for key in [t.debit, t.credit] {
                if let AccountKey::Id(id) = key {
                    if let Some(account) = self.accounts.get(id.index()) {
                        prefetch(account);
                    }
                }
            }
        }
    }

    fn replay(&self, existing: RecordId, command: &Command) -> Outcome {
        let record = self.record(existing).expect("found records exist");
        if record.fingerprint == command.fingerprint {
            Outcome {
                result: record.result,
                record: Some(existing),
                replayed: true,
            }
        } else {
            Outcome {
                result: Err(ErrorCode::IdConflict),
                record: None,
                replayed: false,
            }
        }
    }

    fn execute(
        &mut self,
        ctx: Ctx,
        command: &Command,
        draft: &mut Draft,
        out: &mut BatchOutput,
    ) -> Result<(), ErrorCode> {
        let journal = &mut out.journal;
        match &command.op {
            Op::Transfer(transfer) => self.transfer(ctx, transfer, draft, journal),
            Op::OpenAccount(open) => self.open_account(ctx, open, draft),
            Op::CloseAccount { .. } => self.close_account(draft),
            Op::SetAccountFrozen { frozen, .. } => self.set_account_frozen(*frozen, draft),
            Op::Freeze(freeze) => self.freeze(ctx, freeze, draft, journal),
            Op::Unfreeze(unfreeze) => self.unfreeze(ctx, unfreeze, draft, journal),
            Op::Capture(capture) => self.capture(ctx, capture, draft, journal),
            Op::DayEnd { date } => {
                if *date != self.accounting_date {
                    return Err(ErrorCode::DayEndDateMismatch);
                }
                // Every buffered credit is posted on the day it was accepted.
                self.flush_all(ctx.timestamp, journal, &mut out.flushes);
                self.day_end(*date)
            }
            Op::SetHot { options, .. } => {
                self.set_hot(ctx, *options, draft, journal, &mut out.flushes)
            }
            Op::SplitAccount { parts, .. } => self.split_account(ctx, *parts, draft),
        }
    }

    /// A linked chain: all members succeed, or every effect is undone and each member is
    /// recorded as failed — the failing one with its own reason, the rest `linked_batch_failed`.
    fn apply_chain(&mut self, timestamp: u64, chain: &[Command], out: &mut BatchOutput) {
        let first_outcome = out.outcomes.len();
        self.undo.begin(out.journal.len(), self.next_entry_seq);
        let mut failure = None;
        for (k, command) in chain.iter().enumerate() {
            let unlinkable = matches!(
                command.op,
                Op::DayEnd { .. } | Op::SetHot { .. } | Op::SplitAccount { .. }
            );
            let outcome = if unlinkable {
                Outcome {
                    result: Err(ErrorCode::NotLinkable),
                    record: None,
                    replayed: false,
                }
            } else {
                self.decide(timestamp + k as u64, command, out)
            };
            out.outcomes.push(outcome);
            if outcome.result.is_err() {
                failure = Some((k, outcome));
                break;
            }
        }
        let Some((failed_index, failed_outcome)) = failure else {
            self.undo.finish();
            return;
        };
        self.rollback_chain(&mut out.journal);
        out.outcomes.truncate(first_outcome);
        for (k, command) in chain.iter().enumerate() {
            let member_timestamp = timestamp + k as u64;
            let outcome = if k == failed_index {
                self.record_chain_failure(member_timestamp, command, failed_outcome)
            } else {
                self.record_chain_bystander(member_timestamp, command)
            };
            out.outcomes.push(outcome);
        }
    }

    /// After rollback, stores the failing member's own rejection (unless it was a retry or a
    /// conflict, which store nothing).
    fn record_chain_failure(
        &mut self,
        timestamp: u64,
        command: &Command,
        failed: Outcome,
    ) -> Outcome {
        if failed.replayed || failed.record.is_none() {
            return failed;
        }
        let draft = self.draft_for(command);
        let record = self.store_record(timestamp, command, &draft, failed.result);
        Outcome {
            record: Some(record),
            ..failed
        }
    }

    /// After rollback, records a member that did not fail itself as `linked_batch_failed`.
    fn record_chain_bystander(&mut self, timestamp: u64, command: &Command) -> Outcome {
        if let Some(existing) = self.find_record(&command.id) {
            return self.replay(existing, command);
        }
        let draft = self.draft_for(command);
        let result = Err(ErrorCode::LinkedBatchFailed);
        let record = self.store_record(timestamp, command, &draft, result);
        Outcome {
            result,
            record: Some(record),
            replayed: false,
        }
    }
}

enum ChainLength {
    Single,
    /// A closed chain of this many commands.
    Linked(usize),
    /// The batch ended while the chain was still open.
    Open(usize),
}

fn chain_length(commands: &[Command]) -> ChainLength {
    if !commands[0].linked {
        return ChainLength::Single;
    }
    match commands.iter().position(|c| !c.linked) {
        Some(last) => ChainLength::Linked(last + 1),
        None => ChainLength::Open(commands.len()),
    }
}
