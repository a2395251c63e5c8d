use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{StoreError, TenantId, WarehouseId};
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

impl TaskKind {
    pub const ALL: [TaskKind; 5] = [Self::Pick, Self::Pack, Self::PutAway, Self::Count, Self::Qc];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pick => "pick",
            Self::Pack => "pack",
            Self::PutAway => "put_away",
            Self::Count => "count",
            Self::Qc => "qc",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [
        Self::Open,
        Self::Assigned,
        Self::InProgress,
        Self::Done,
        Self::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
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
    pub warehouse: WarehouseId,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// What the task is about, e.g. `order:<id>` or `bin:A-01-03-B`.
    pub reference: String,
    pub assignee: Option<String>,
    /// When the work must be done by (an order's ship-by); `None` for work with no deadline.
    pub ship_by: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl WarehouseTask {
    pub fn open(
        tenant_id: TenantId,
        warehouse: WarehouseId,
        kind: TaskKind,
        reference: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            tenant_id,
            warehouse,
            kind,
            status: TaskStatus::Open,
            reference,
            assignee: None,
            ship_by: None,
            created_at: now,
            started_at: None,
            completed_at: None,
        }
    }

    /// Sets the deadline the queue orders by.
    pub fn due(mut self, ship_by: DateTime<Utc>) -> Self {
        self.ship_by = Some(ship_by);
        self
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

/// The open task to hand out next: earliest ship-by first (tasks without one after those
/// with one), then the oldest, then by id. Claim it with [`WarehouseTask::assign`].
pub fn claim_next(queue: &[WarehouseTask]) -> Option<&WarehouseTask> {
    queue
        .iter()
        .filter(|t| t.status == TaskStatus::Open)
        .min_by_key(|t| (t.ship_by.is_none(), t.ship_by, t.created_at, t.id))
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
            WarehouseId::new(),
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

    fn at(hour: u32) -> DateTime<Utc> {
        format!("2025-03-01T{hour:02}:00:00Z").parse().unwrap()
    }

    fn open(n: u128, created_hour: u32, ship_by_hour: Option<u32>) -> WarehouseTask {
        let mut t = WarehouseTask::open(
            TenantId::from_uuid(Uuid::from_u128(1)),
            WarehouseId::from_uuid(Uuid::from_u128(2)),
            TaskKind::Pick,
            format!("order:{n}"),
            at(created_hour),
        );
        t.id = Uuid::from_u128(n);
        t.ship_by = ship_by_hour.map(at);
        t
    }

    #[test]
    fn the_next_task_is_the_open_one_with_the_earliest_ship_by_then_the_oldest() {
        let mut taken = open(1, 1, Some(9));
        taken.assign("ana").unwrap();
        let queue = [
            taken,
            open(2, 3, Some(12)),
            open(3, 2, None),
            open(4, 5, Some(10)),
            open(5, 4, Some(10)),
        ];
        assert_eq!(claim_next(&queue).map(|t| t.id), Some(Uuid::from_u128(5)));
        let undated = [open(6, 5, None), open(7, 4, None)];
        assert_eq!(claim_next(&undated).map(|t| t.id), Some(Uuid::from_u128(7)));
        assert!(claim_next(&[]).is_none());
    }

    #[test]
    fn kinds_and_statuses_round_trip_through_their_stored_names() {
        for k in TaskKind::ALL {
            assert_eq!(TaskKind::parse(k.as_str()), Some(k));
        }
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(TaskKind::PutAway.as_str(), "put_away");
        assert_eq!(TaskStatus::parse("finished"), None);
    }

    #[test]
    fn a_task_can_carry_a_ship_by_deadline() {
        assert_eq!(task().due(at(9)).ship_by, Some(at(9)));
    }
}
