//! One cross-shard transfer as a state machine: the `Intent` (what the client asked, which
//! shards, how far it got), the `Step` its phase calls for next, and `advance`, which moves
//! the phase on by that step's outcome. The coordinator does the I/O; this decides.

use serde::{Deserialize, Serialize};

use crate::accounts::{
    due_account, is_reserved_account, is_reserved_id, step_id, transit_account, CLIENT_ID_MAX,
    SHARD_NAME_MAX,
};

/// A transfer between accounts on two shards, as the coordinator records it before moving
/// anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: u64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The debit account's shard.
    pub source: String,
    /// The credit account's shard.
    pub target: String,
    pub phase: Phase,
}

/// How far a transfer got. The first three are in flight; the rest are final.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Started,
    /// The debit account was debited into transit.
    Debited,
    /// The credit account was credited; the transit account still holds the amount.
    Credited,
    /// The target refused the credit; the debit is being reversed.
    Compensating {
        refusal: Refusal,
    },
    /// Done: debited on the source, credited on the target, transit settled.
    Completed,
    /// The source refused the debit: nothing moved.
    Refused {
        refusal: Refusal,
    },
    /// The target refused the credit and the debit was reversed: nothing moved.
    Compensated {
        refusal: Refusal,
    },
    /// Credited, but the source refused to settle the transit account (an operator froze or
    /// closed it): the transfer is done for both parties and the transit account holds the
    /// amount until an operator clears it (挂账).
    Unsettled {
        refusal: Refusal,
    },
    /// The target refused the credit and the source refused the reversal (the debit account
    /// was closed meanwhile): the amount stays in transit for an operator (挂账).
    CompensationRefused {
        refusal: Refusal,
        compensation: Refusal,
    },
}

/// A shard's refusal of a step, as its API gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// What a shard decided about one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused(Refusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepKind {
    Debit,
    Credit,
    Settle,
    Compensate,
}

/// One single-shard transfer to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub shard: String,
    /// The ledger id (`step_id`): the same for every attempt, by every coordinator.
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: u64,
    pub currency: String,
    pub transfer_kind: String,
    pub reference: Option<String>,
}

/// Why a transfer cannot be a cross-shard intent; `code` is the API's error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IntentError {
    pub code: &'static str,
    pub message: String,
}

fn invalid(message: String) -> IntentError {
    IntentError {
        code: "invalid_field",
        message,
    }
}

impl Intent {
    /// A new intent (phase `Started`), checked so that every derived id and account number
    /// is one the ledger accepts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        debit_account: &str,
        credit_account: &str,
        amount: u64,
        currency: &str,
        kind: Option<&str>,
        reference: Option<&str>,
        (source, target): (&str, &str),
    ) -> Result<Intent, IntentError> {
        if id.is_empty() || id.len() > CLIENT_ID_MAX {
            return Err(invalid(format!(
                "field `id`: 1 to {CLIENT_ID_MAX} bytes for a transfer between shards (its steps' ids add a prefix)"
            )));
        }
        if is_reserved_id(id) {
            return Err(invalid(format!(
                "field `id`: ids starting with `{}` are the steps of cross-shard transfers",
                crate::ID_PREFIX
            )));
        }
        for (field, account) in [
            ("debit_account", debit_account),
            ("credit_account", credit_account),
        ] {
            if is_reserved_account(account) {
                return Err(invalid(format!("field `{field}`: {account} is a cross-shard transit or due account, moved only by the coordinator")));
            }
        }
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(IntentError {
                code: "invalid_currency",
                message: format!("currency {currency:?}: an ISO 4217 code such as CNY"),
            });
        }
        if kind == Some("adjustment") {
            return Err(IntentError {
                code: "adjustment_requires_approval",
                message: "kind `adjustment` is posted only through /v1/adjustments".into(),
            });
        }
        assert_ne!(source, target, "a cross-shard transfer spans two shards");
        if source.len().max(target.len()) > SHARD_NAME_MAX {
            return Err(IntentError {
                code: "shard_name_too_long",
                message: format!("transfers between shards {source} and {target}: shard names of at most {SHARD_NAME_MAX} bytes carry cross-shard transfers (their transit account numbers name them)"),
            });
        }
        Ok(Intent {
            id: id.to_owned(),
            debit_account: debit_account.to_owned(),
            credit_account: credit_account.to_owned(),
            amount,
            currency: currency.to_owned(),
            kind: kind.map(str::to_owned),
            reference: reference.map(str::to_owned),
            source: source.to_owned(),
            target: target.to_owned(),
            phase: Phase::Started,
        })
    }

    /// Whether `other` asks for the same transfer (a retry), whatever its phase.
    pub fn same_request(&self, other: &Intent) -> bool {
        Intent {
            phase: Phase::Started,
            ..self.clone()
        } == Intent {
            phase: Phase::Started,
            ..other.clone()
        }
    }

    pub fn is_final(&self) -> bool {
        self.next_step().is_none()
    }

    /// Final, but with money left in a transit account for an operator.
    pub fn needs_operator(&self) -> bool {
        matches!(
            self.phase,
            Phase::Unsettled { .. } | Phase::CompensationRefused { .. }
        )
    }

    /// The step this phase calls for; None once final.
    pub fn next_step(&self) -> Option<Step> {
        let transit = transit_account(&self.target, &self.currency);
        let kind = self.kind.clone().unwrap_or_else(|| "transfer".into());
        let (step, shard, debit, credit, transfer_kind) = match self.phase {
            Phase::Started => (
                StepKind::Debit,
                &self.source,
                self.debit_account.clone(),
                transit,
                kind,
            ),
            Phase::Debited => (
                StepKind::Credit,
                &self.target,
                due_account(&self.source, &self.currency),
                self.credit_account.clone(),
                kind,
            ),
            Phase::Credited => (
                StepKind::Settle,
                &self.source,
                transit,
                due_account(&self.target, &self.currency),
                "transfer".into(),
            ),
            Phase::Compensating { .. } => (
                StepKind::Compensate,
                &self.source,
                transit,
                self.debit_account.clone(),
                "reversal".into(),
            ),
            _ => return None,
        };
        Some(Step {
            kind: step,
            shard: shard.clone(),
            id: step_id(step, &self.id),
            debit_account: debit,
            credit_account: credit,
            amount: self.amount,
            currency: self.currency.clone(),
            transfer_kind,
            reference: self.reference.clone(),
        })
    }

    /// Moves the phase on by the outcome of `step`, which must be the one `next_step` named.
    pub fn advance(&mut self, step: StepKind, outcome: Outcome) {
        let expected = self.next_step().map(|s| s.kind);
        assert_eq!(
            expected,
            Some(step),
            "{step:?} is not the step of {:?}",
            self.phase
        );
        let phase = std::mem::replace(&mut self.phase, Phase::Started);
        self.phase = match (phase, outcome) {
            (Phase::Started, Outcome::Accepted) => Phase::Debited,
            (Phase::Started, Outcome::Refused(refusal)) => Phase::Refused { refusal },
            (Phase::Debited, Outcome::Accepted) => Phase::Credited,
            (Phase::Debited, Outcome::Refused(refusal)) => Phase::Compensating { refusal },
            (Phase::Credited, Outcome::Accepted) => Phase::Completed,
            (Phase::Credited, Outcome::Refused(refusal)) => Phase::Unsettled { refusal },
            (Phase::Compensating { refusal }, Outcome::Accepted) => Phase::Compensated { refusal },
            (Phase::Compensating { refusal }, Outcome::Refused(compensation)) => {
                Phase::CompensationRefused {
                    refusal,
                    compensation,
                }
            }
            (final_phase, _) => unreachable!("no step follows {final_phase:?}"),
        };
    }

    /// The phase's name as the API shows it.
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Started => "started",
            Phase::Debited => "debited",
            Phase::Credited => "credited",
            Phase::Compensating { .. } => "compensating",
            Phase::Completed => "completed",
            Phase::Refused { .. } => "refused",
            Phase::Compensated { .. } => "compensated",
            Phase::Unsettled { .. } => "unsettled",
            Phase::CompensationRefused { .. } => "compensation_refused",
        }
    }
}

#[cfg(test)]
mod tests;
