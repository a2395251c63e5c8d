use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{StoreError, TenantId};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Pick,
    Pack,
    PutAway,
    Count,
    Qc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Open,
    Assigned,
    InProgress,
    Done,
    Cancelled,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaskError {
    #[error("task is {0:?}; it cannot be {1}")]
    IllegalTransition(TaskStatus, &'static str),
    #[error("task is assigned to someone else")]
    NotAssignee,
}

/// One unit of floor work, with who did it and when: every step is timestamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseTask {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// What the task is about, e.g. `order:<id>` or `bin:A-01-03-B`.
    pub reference: String,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl WarehouseTask {
    pub fn open(
        tenant_id: TenantId,
        kind: TaskKind,
        reference: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            tenant_id,
            kind,
            status: TaskStatus::Open,
            reference,
            assignee: None,
            created_at: now,
            started_at: None,
            completed_at: None,
        }
    }

    /// Claims an open task for a staff member (or re-assigns an assigned one).
    pub fn assign(&mut self, staff: &str) -> Result<(), TaskError> {
        match self.status {
            TaskStatus::Open | TaskStatus::Assigned => {
                self.status = TaskStatus::Assigned;
                self.assignee = Some(staff.to_owned());
                Ok(())
            }
            other => Err(TaskError::IllegalTransition(other, "assigned")),
        }
    }

    /// The assignee starts work; only they can.
    pub fn start(&mut self, staff: &str, now: DateTime<Utc>) -> Result<(), TaskError> {
        if self.status != TaskStatus::Assigned {
            return Err(TaskError::IllegalTransition(self.status, "started"));
        }
        if self.assignee.as_deref() != Some(staff) {
            return Err(TaskError::NotAssignee);
        }
        self.status = TaskStatus::InProgress;
        self.started_at = Some(now);
        Ok(())
    }

    pub fn complete(&mut self, staff: &str, now: DateTime<Utc>) -> Result<(), TaskError> {
        if self.status != TaskStatus::InProgress {
            return Err(TaskError::IllegalTransition(self.status, "completed"));
        }
        if self.assignee.as_deref() != Some(staff) {
            return Err(TaskError::NotAssignee);
        }
        self.status = TaskStatus::Done;
        self.completed_at = Some(now);
        Ok(())
    }

    pub fn cancel(&mut self) -> Result<(), TaskError> {
        if matches!(self.status, TaskStatus::Done | TaskStatus::Cancelled) {
            return Err(TaskError::IllegalTransition(self.status, "cancelled"));
        }
        self.status = TaskStatus::Cancelled;
        Ok(())
    }
}

#[async_trait]
pub trait TaskRepository: Send + Sync {
    async fn save(&self, task: &WarehouseTask) -> Result<(), StoreError>;
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<WarehouseTask>, StoreError>;
    /// The staff member's queue: assigned or in progress, oldest first.
    async fn queue_of(
        &self,
        tenant: TenantId,
        staff: &str,
    ) -> Result<Vec<WarehouseTask>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> WarehouseTask {
        WarehouseTask::open(
            TenantId::new(),
            TaskKind::Pick,
            "order:1".into(),
            Utc::now(),
        )
    }

    #[test]
    fn a_task_runs_open_assigned_in_progress_done_with_timestamps() {
        let mut t = task();
        t.assign("ana").unwrap();
        t.start("ana", Utc::now()).unwrap();
        t.complete("ana", Utc::now()).unwrap();
        assert_eq!(t.status, TaskStatus::Done);
        assert!(t.started_at.is_some() && t.completed_at.is_some());
    }

    #[test]
    fn only_the_assignee_can_start_a_task() {
        let mut t = task();
        t.assign("ana").unwrap();
        assert_eq!(t.start("ben", Utc::now()), Err(TaskError::NotAssignee));
    }

    #[test]
    fn an_open_task_cannot_be_completed_and_a_done_one_cannot_be_cancelled() {
        let mut t = task();
        assert!(t.complete("ana", Utc::now()).is_err());
        t.assign("ana").unwrap();
        t.start("ana", Utc::now()).unwrap();
        t.complete("ana", Utc::now()).unwrap();
        assert!(t.cancel().is_err());
    }
}
