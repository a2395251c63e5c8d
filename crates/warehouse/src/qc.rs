//! Quality control: a tenant's checklists at receipt and at return, inspections against them,
//! and the quarantine that failed units go to until released or disposed of.

use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, Quantity, RequestContext, Sku};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QcStage {
    Receipt,
    Return,
}

impl QcStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Return => "return",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "receipt" => Some(Self::Receipt),
            "return" => Some(Self::Return),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QcError {
    #[error("a checklist needs a name of 1 to 100 characters")]
    InvalidName,
    #[error("a checklist needs at least one question, none blank")]
    NoQuestions,
    #[error("answer every question: {expected} asked, {got} answered")]
    Unanswered { expected: usize, got: usize },
    #[error("inspect at least one unit")]
    ZeroQuantity,
    #[error("these units are already {0}")]
    AlreadySettled(&'static str),
}

/// What an inspector checks, for one stage and optionally one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcChecklist {
    pub id: Uuid,
    pub name: String,
    pub stage: QcStage,
    /// `None`: applies to every SKU of the tenant.
    pub sku: Option<Sku>,
    pub questions: Vec<String>,
}

impl QcChecklist {
    pub fn new(
        name: &str,
        stage: QcStage,
        sku: Option<Sku>,
        questions: Vec<String>,
    ) -> Result<Self, QcError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(QcError::InvalidName);
        }
        let questions: Vec<String> = questions.iter().map(|q| q.trim().to_owned()).collect();
        if questions.is_empty() || questions.iter().any(String::is_empty) {
            return Err(QcError::NoQuestions);
        }
        Ok(Self {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            stage,
            sku,
            questions,
        })
    }

    /// The checklist to use for `sku` at `stage`: one made for the SKU, else a general one.
    pub fn pick<'a>(lists: &'a [QcChecklist], sku: &Sku, stage: QcStage) -> Option<&'a Self> {
        let at_stage = || lists.iter().filter(move |l| l.stage == stage);
        at_stage()
            .find(|l| l.sku.as_ref() == Some(sku))
            .or_else(|| at_stage().find(|l| l.sku.is_none()))
    }

    /// Judges a batch: `answers` are pass/fail per question, in order. All pass → release;
    /// any fail → the whole batch is quarantined, the failed questions as the reason.
    pub fn inspect(
        &self,
        sku: Sku,
        quantity: Quantity,
        answers: &[bool],
        inspector: &str,
        now: DateTime<Utc>,
    ) -> Result<QcResult, QcError> {
        if answers.len() != self.questions.len() {
            return Err(QcError::Unanswered {
                expected: self.questions.len(),
                got: answers.len(),
            });
        }
        if quantity.is_zero() {
            return Err(QcError::ZeroQuantity);
        }
        let failed: Vec<&str> = self
            .questions
            .iter()
            .zip(answers)
            .filter(|(_, pass)| !**pass)
            .map(|(q, _)| q.as_str())
            .collect();
        let outcome = if failed.is_empty() {
            QcOutcome::Release
        } else {
            QcOutcome::Quarantine(Quarantine {
                id: Uuid::now_v7(),
                sku: sku.clone(),
                quantity,
                reason: format!("failed: {}", failed.join("; ")),
                status: QuarantineStatus::Held,
                settled_at: None,
            })
        };
        Ok(QcResult {
            checklist_id: self.id,
            stage: self.stage,
            sku,
            quantity,
            inspector: inspector.trim().to_owned(),
            inspected_at: now,
            outcome,
        })
    }
}

/// One inspected batch and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcResult {
    pub checklist_id: Uuid,
    pub stage: QcStage,
    pub sku: Sku,
    pub quantity: Quantity,
    pub inspector: String,
    pub inspected_at: DateTime<Utc>,
    pub outcome: QcOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QcOutcome {
    /// Everything passed: the units go to stock.
    Release,
    Quarantine(Quarantine),
}

impl QcResult {
    /// `qc.failed`, when the batch was quarantined.
    pub fn failed_event(&self, ctx: &RequestContext, now: DateTime<Utc>) -> Option<EventEnvelope> {
        let QcOutcome::Quarantine(q) = &self.outcome else {
            return None;
        };
        Some(EventEnvelope::new(
            "qc.failed",
            ctx.tenant_id,
            now,
            "quarantine",
            q.id,
            1,
            json!({
                "quarantine_id": q.id,
                "checklist_id": self.checklist_id,
                "stage": self.stage.as_str(),
                "sku": q.sku,
                "quantity": q.quantity,
                "reason": q.reason,
                "inspector": self.inspector,
            }),
            Some(ctx.correlation_id),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineStatus {
    Held,
    Released,
    Disposed,
}

impl QuarantineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Released => "released",
            Self::Disposed => "disposed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "held" => Some(Self::Held),
            "released" => Some(Self::Released),
            "disposed" => Some(Self::Disposed),
            _ => None,
        }
    }
}

/// Units kept out of sellable stock after failed QC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub id: Uuid,
    pub sku: Sku,
    pub quantity: Quantity,
    pub reason: String,
    pub status: QuarantineStatus,
    pub settled_at: Option<DateTime<Utc>>,
}

impl Quarantine {
    /// The units turned out fine after all: they go to stock.
    pub fn release(&mut self, now: DateTime<Utc>) -> Result<(), QcError> {
        self.settle(QuarantineStatus::Released, now)
    }

    /// The units are written off.
    pub fn dispose(&mut self, now: DateTime<Utc>) -> Result<(), QcError> {
        self.settle(QuarantineStatus::Disposed, now)
    }

    fn settle(&mut self, to: QuarantineStatus, now: DateTime<Utc>) -> Result<(), QcError> {
        if self.status != QuarantineStatus::Held {
            return Err(QcError::AlreadySettled(self.status.as_str()));
        }
        self.status = to;
        self.settled_at = Some(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::TenantId;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2025-03-01T11:00:00Z".parse().unwrap()
    }

    fn checklist() -> QcChecklist {
        QcChecklist::new(
            "Returned apparel",
            QcStage::Return,
            None,
            vec!["Tags attached".into(), "No stains".into(), "Folded".into()],
        )
        .unwrap()
    }

    fn three() -> Quantity {
        Quantity::new(3).unwrap()
    }

    #[test]
    fn a_batch_that_passes_every_question_is_released() {
        let r = checklist()
            .inspect(sku("TEE"), three(), &[true, true, true], "ana", now())
            .unwrap();
        assert_eq!(r.outcome, QcOutcome::Release);
        assert!(
            r.failed_event(&RequestContext::new(TenantId::new(), "u"), now())
                .is_none()
        );
    }

    #[test]
    fn any_failed_question_quarantines_the_batch_with_the_reason() {
        let r = checklist()
            .inspect(sku("TEE"), three(), &[false, true, false], "ana", now())
            .unwrap();
        let QcOutcome::Quarantine(q) = &r.outcome else {
            panic!("expected quarantine");
        };
        assert_eq!(q.reason, "failed: Tags attached; Folded");
        assert_eq!((q.sku.as_str(), q.quantity.get()), ("TEE", 3));
        let e = r
            .failed_event(&RequestContext::new(TenantId::new(), "u"), now())
            .unwrap();
        assert_eq!(e.event_type, "qc.failed");
        assert_eq!(e.payload["stage"], "return");
        assert_eq!(e.payload["quantity"], 3);
    }

    #[test]
    fn every_question_must_be_answered() {
        let err = checklist()
            .inspect(sku("TEE"), three(), &[true], "ana", now())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "answer every question: 3 asked, 1 answered"
        );
    }

    #[test]
    fn quarantined_units_are_released_or_disposed_of_once() {
        let r = checklist()
            .inspect(sku("TEE"), three(), &[false, true, true], "ana", now())
            .unwrap();
        let QcOutcome::Quarantine(mut q) = r.outcome else {
            panic!("expected quarantine");
        };
        let mut other = q.clone();
        q.release(now()).unwrap();
        assert_eq!(q.status, QuarantineStatus::Released);
        assert_eq!(q.dispose(now()), Err(QcError::AlreadySettled("released")));
        other.dispose(now()).unwrap();
        assert_eq!(other.status, QuarantineStatus::Disposed);
    }

    #[test]
    fn a_checklist_for_the_sku_wins_over_the_general_one_at_the_same_stage() {
        let general = checklist();
        let for_tee = QcChecklist::new(
            "Tee",
            QcStage::Return,
            Some(sku("TEE")),
            vec!["Print".into()],
        )
        .unwrap();
        let receipt =
            QcChecklist::new("In", QcStage::Receipt, None, vec!["Sealed".into()]).unwrap();
        let lists = [general.clone(), for_tee.clone(), receipt.clone()];
        assert_eq!(
            QcChecklist::pick(&lists, &sku("TEE"), QcStage::Return),
            Some(&for_tee)
        );
        assert_eq!(
            QcChecklist::pick(&lists, &sku("MUG"), QcStage::Return),
            Some(&general)
        );
        assert_eq!(
            QcChecklist::pick(&lists, &sku("MUG"), QcStage::Receipt),
            Some(&receipt)
        );
    }

    #[test]
    fn a_checklist_needs_a_name_and_questions() {
        assert_eq!(
            QcChecklist::new(" ", QcStage::Receipt, None, vec!["x".into()]),
            Err(QcError::InvalidName)
        );
        assert_eq!(
            QcChecklist::new("In", QcStage::Receipt, None, vec![" ".into()]),
            Err(QcError::NoQuestions)
        );
    }

    #[test]
    fn stages_and_quarantine_statuses_round_trip_through_their_stored_names() {
        for s in [QcStage::Receipt, QcStage::Return] {
            assert_eq!(QcStage::parse(s.as_str()), Some(s));
        }
        for s in [
            QuarantineStatus::Held,
            QuarantineStatus::Released,
            QuarantineStatus::Disposed,
        ] {
            assert_eq!(QuarantineStatus::parse(s.as_str()), Some(s));
        }
    }
}
