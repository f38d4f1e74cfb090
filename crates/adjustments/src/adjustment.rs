//! The adjustment (调账) and its state machine. Every change appends to its history and is
//! checked against the invariants (`check_invariants`) before it returns.
//!
//! The posting is made crash-safe by its order: the approval that completes the approvals
//! moves the adjustment to `Approved` (the intent to post, committed before the ledger is
//! asked); the ledger is then asked under an id derived from the adjustment and its attempt
//! (`ledger_id`), so asking again after a crash is a replay; its answer ends the intent:
//! `mark_posted`, or `posting_refused` (back to waiting, the next attempt gets a new id, as
//! the ledger keeps a refusal under its id forever).

use paycore_money::Currency;

use crate::error::AdjustError;
use crate::history::{approvals, Action, Approval, Event};
use crate::limits::{self, POST_ATTEMPTS_MAX};
use crate::rules::{check_checker, check_person, same_person, Policy};
use crate::status::Status;
use crate::Millis;

/// A request to create an adjustment, as the edge parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAdjustment {
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: u64,
    pub currency: Currency,
    pub reason: String,
    pub evidence: Option<String>,
    /// The reconciliation exception (差错) this adjustment settles, if any.
    pub exception_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: u64,
    pub currency: Currency,
    pub reason: String,
    pub evidence: Option<String>,
    pub exception_id: Option<String>,
    /// Who proposed it.
    pub maker: String,
    /// 1, or 2 above the policy's threshold.
    pub approvals_required: u8,
    pub status: Status,
    /// Which posting the ledger id names (1: `adjustment:<id>`); each refusal moves on.
    pub post_attempt: u32,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub updated_at: Millis,
    pub posted_at: Option<Millis>,
    pub history: Vec<Event>,
}

/// What the service must do after an approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The approval is recorded; another one is needed.
    Wait,
    /// Post under this ledger id (the intent is recorded), then `mark_posted` or
    /// `posting_refused`.
    Post { ledger_id: String },
    /// It is posted already: nothing to do.
    Done,
}

impl NewAdjustment {
    /// Every check that does not need the ledger.
    pub fn check(&self) -> Result<(), AdjustError> {
        limits::check_id("id", &self.id, limits::ID_BYTES_MAX)?;
        limits::check_account("debit_account", &self.debit_account)?;
        limits::check_account("credit_account", &self.credit_account)?;
        limits::check_amount(self.amount)?;
        limits::check_text("reason", &self.reason, limits::REASON_BYTES_MAX, true)?;
        if let Some(evidence) = &self.evidence {
            limits::check_text("evidence", evidence, limits::EVIDENCE_BYTES_MAX, false)?;
        }
        if let Some(exception) = &self.exception_id {
            limits::check_id("exception_id", exception, limits::EXCEPTION_ID_BYTES_MAX)?;
        }
        Ok(())
    }

    /// The proposal of `maker` at `now`, waiting for its approvals.
    pub fn into_adjustment(
        self,
        maker: &str,
        now: Millis,
        policy: &Policy,
    ) -> Result<Adjustment, AdjustError> {
        self.check()?;
        check_person(maker)?;
        let created = Event {
            seq: 1,
            at: now,
            action: Action::Created,
            operator: maker.to_owned(),
            comment: Some(self.reason.clone()),
            code: None,
            ledger_id: None,
        };
        let adjustment = Adjustment {
            approvals_required: policy.approvals_required(self.amount),
            id: self.id,
            debit_account: self.debit_account,
            credit_account: self.credit_account,
            amount: self.amount,
            currency: self.currency,
            reason: self.reason,
            evidence: self.evidence,
            exception_id: self.exception_id,
            maker: maker.to_owned(),
            status: Status::PendingApproval,
            post_attempt: 1,
            created_at: now,
            expires_at: now.saturating_add(policy.ttl_ms),
            updated_at: now,
            posted_at: None,
            history: vec![created],
        };
        adjustment.check_invariants();
        Ok(adjustment)
    }
}

impl Adjustment {
    /// Whether a create request asks for exactly this adjustment (an idempotent retry).
    pub fn same_request(&self, request: &NewAdjustment) -> bool {
        self.id == request.id
            && self.debit_account == request.debit_account
            && self.credit_account == request.credit_account
            && self.amount == request.amount
            && self.currency == request.currency
            && self.reason == request.reason
            && self.evidence == request.evidence
            && self.exception_id == request.exception_id
    }

    /// The ledger id of the current posting attempt.
    pub fn ledger_id(&self) -> String {
        ledger_id(&self.id, self.post_attempt)
    }

    /// The ledger transfer that posted it.
    pub fn posted_ledger_id(&self) -> Option<String> {
        (self.status == Status::Posted).then(|| self.ledger_id())
    }

    pub fn approvals(&self) -> Vec<Approval> {
        approvals(&self.history)
    }

    /// The last refusal of the ledger, while it waits again.
    pub fn last_refusal(&self) -> Option<&Event> {
        self.history
            .last()
            .filter(|e| e.action == Action::PostingRefused)
    }

    /// Waiting for approvals past its expiry.
    pub fn is_due(&self, now: Millis) -> bool {
        self.status.is_waiting() && now >= self.expires_at
    }

    /// Expires it if it is due; whether it changed.
    pub fn expire_if_due(&mut self, now: Millis) -> bool {
        if !self.is_due(now) {
            return false;
        }
        self.status = Status::Expired;
        self.push(now, Action::Expired, crate::SYSTEM_OPERATOR, None);
        self.check_invariants();
        true
    }

    /// `checker` approves. The service expires a due adjustment first (`expire_if_due`).
    pub fn approve(
        &mut self,
        checker: &str,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Next, AdjustError> {
        check_person(checker)?;
        if let Some(comment) = &comment {
            limits::check_text("comment", comment, limits::COMMENT_BYTES_MAX, false)?;
        }
        match self.status {
            Status::Posted if self.is_approver(checker) => Ok(Next::Done),
            Status::Approved => {
                check_checker(&self.maker, &[], checker)?;
                Ok(Next::Post {
                    ledger_id: self.ledger_id(),
                })
            }
            Status::PendingApproval | Status::PartiallyApproved => {
                self.add_approval(checker, comment, now)
            }
            Status::Expired => Err(self.expired()),
            Status::Posted | Status::Rejected => Err(self.not_pending()),
        }
    }

    fn add_approval(
        &mut self,
        checker: &str,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Next, AdjustError> {
        if now >= self.expires_at {
            return Err(self.expired());
        }
        if self.post_attempt > POST_ATTEMPTS_MAX {
            return Err(AdjustError::AttemptsExhausted(self.id.clone()));
        }
        check_checker(&self.maker, &self.approvals(), checker)?;
        self.push(now, Action::Approved, checker, comment);
        if self.approvals().len() < usize::from(self.approvals_required) {
            self.status = Status::PartiallyApproved;
            self.check_invariants();
            return Ok(Next::Wait);
        }
        self.status = Status::Approved;
        self.check_invariants();
        Ok(Next::Post {
            ledger_id: self.ledger_id(),
        })
    }

    /// `operator` rejects it with `reason`; `Ok(true)` for a retry of the same rejection.
    pub fn reject(
        &mut self,
        operator: &str,
        reason: &str,
        now: Millis,
    ) -> Result<bool, AdjustError> {
        check_person(operator)?;
        limits::check_text("reason", reason, limits::REASON_BYTES_MAX, true)?;
        match self.status {
            Status::PendingApproval | Status::PartiallyApproved if now >= self.expires_at => {
                Err(self.expired())
            }
            Status::PendingApproval | Status::PartiallyApproved => {
                self.status = Status::Rejected;
                self.push(now, Action::Rejected, operator, Some(reason.to_owned()));
                self.check_invariants();
                Ok(false)
            }
            Status::Rejected if self.is_same_rejection(operator, reason) => Ok(true),
            Status::Expired => Err(self.expired()),
            Status::Approved | Status::Posted | Status::Rejected => Err(self.not_pending()),
        }
    }

    /// The ledger posted `ledger_id`; whether this changed anything (a second report of the
    /// same posting, or one for an attempt that is over, changes nothing).
    pub fn mark_posted(&mut self, ledger_id: &str, operator: &str, now: Millis) -> bool {
        if self.status != Status::Approved || self.ledger_id() != ledger_id {
            return false;
        }
        self.status = Status::Posted;
        self.push(now, Action::Posted, operator, None);
        self.posted_at = Some(self.updated_at);
        self.history.last_mut().expect("just pushed").ledger_id = Some(ledger_id.to_owned());
        self.check_invariants();
        true
    }

    /// The ledger refused `ledger_id` with `code`: the approval that asked for the posting no
    /// longer counts, the adjustment waits again, and the next posting uses a new ledger id.
    pub fn posting_refused(
        &mut self,
        ledger_id: &str,
        code: &str,
        operator: &str,
        now: Millis,
    ) -> bool {
        if self.status != Status::Approved || self.ledger_id() != ledger_id {
            return false;
        }
        self.push(now, Action::PostingRefused, operator, None);
        let last = self.history.last_mut().expect("just pushed");
        last.code = Some(code.to_owned());
        last.ledger_id = Some(ledger_id.to_owned());
        self.post_attempt += 1;
        self.status = if self.approvals().is_empty() {
            Status::PendingApproval
        } else {
            Status::PartiallyApproved
        };
        self.check_invariants();
        true
    }

    fn is_approver(&self, operator: &str) -> bool {
        self.approvals()
            .iter()
            .any(|a| same_person(&a.operator, operator))
    }

    fn is_same_rejection(&self, operator: &str, reason: &str) -> bool {
        self.history.last().is_some_and(|e| {
            e.action == Action::Rejected
                && same_person(&e.operator, operator)
                && e.comment.as_deref() == Some(reason)
        })
    }

    fn expired(&self) -> AdjustError {
        AdjustError::Expired {
            id: self.id.clone(),
            expires_at: self.expires_at,
        }
    }

    fn not_pending(&self) -> AdjustError {
        AdjustError::NotPending {
            id: self.id.clone(),
            status: self.status.name(),
        }
    }

    fn push(&mut self, at: Millis, action: Action, operator: &str, comment: Option<String>) {
        let seq = self.history.len() as u32 + 1;
        // Times never go back along the history, even if the wall clock does.
        let at = at.max(self.updated_at);
        self.history.push(Event {
            seq,
            at,
            action,
            operator: operator.to_owned(),
            comment,
            code: None,
            ledger_id: None,
        });
        self.updated_at = at;
    }

    /// Asserts what must always hold: the status agrees with the approvals in force, the
    /// history is numbered from 1 and begins with the maker's proposal, times never go back.
    pub fn check_invariants(&self) {
        let approved = self.approvals().len();
        let required = usize::from(self.approvals_required);
        assert!((1..=usize::from(limits::APPROVALS_MAX)).contains(&required));
        match self.status {
            Status::PendingApproval => assert_eq!(approved, 0, "{}", self.id),
            Status::PartiallyApproved => assert!(approved > 0 && approved < required),
            Status::Approved | Status::Posted => assert_eq!(approved, required, "{}", self.id),
            Status::Rejected | Status::Expired => assert!(approved < required),
        }
        assert_eq!(self.posted_at.is_some(), self.status == Status::Posted);
        let first = self.history.first().expect("an adjustment has a history");
        assert!(first.action == Action::Created && first.operator == self.maker);
        for (i, event) in self.history.iter().enumerate() {
            assert_eq!(event.seq as usize, i + 1, "history of {} is dense", self.id);
        }
        assert!(self.history.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(self.post_attempt >= 1 && self.post_attempt <= POST_ATTEMPTS_MAX + 1);
    }
}

/// The ledger id of posting attempt `attempt` of adjustment `id`.
pub fn ledger_id(id: &str, attempt: u32) -> String {
    assert!(attempt >= 1);
    if attempt == 1 {
        format!("adjustment:{id}")
    } else {
        format!("adjustment:{id}:{attempt}")
    }
}

/// The prefix of every adjustment's ledger id; plain transfers may not use it.
pub const LEDGER_ID_PREFIX: &str = "adjustment:";
