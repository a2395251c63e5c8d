use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::{StoreError, TenantId};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    Queued,
    Running,
    Succeeded,
    /// Failed, will retry at `next_run_at`.
    Failed,
    /// Gave up after `max_attempts`; waits for a manual replay.
    Dead,
}

/// One unit of work against a channel (pull orders, push tracking, push stock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub connection_id: Uuid,
    pub kind: String,
    pub state: SyncState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub next_run_at: DateTime<Utc>,
}

const BASE_DELAY_SECS: i64 = 5;
const MAX_DELAY_SECS: i64 = 3_600;

impl SyncJob {
    pub fn queue(tenant_id: TenantId, connection_id: Uuid, kind: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            tenant_id,
            connection_id,
            kind: kind.to_owned(),
            state: SyncState::Queued,
            attempts: 0,
            max_attempts: 8,
            last_error: None,
            next_run_at: now,
        }
    }

    pub fn start(&mut self) {
        self.state = SyncState::Running;
        self.attempts += 1;
    }

    pub fn succeed(&mut self) {
        self.state = SyncState::Succeeded;
        self.last_error = None;
    }

    /// Records the failure and schedules the next try: 5 s × 2^(attempt−1), capped at an hour,
    /// scaled by `jitter` in `[0.5, 1.0]` so many failing jobs do not retry in lockstep.
    pub fn fail(&mut self, error: &str, now: DateTime<Utc>, jitter: f64) {
        self.last_error = Some(error.to_owned());
        if self.attempts >= self.max_attempts {
            self.state = SyncState::Dead;
            return;
        }
        let exp = BASE_DELAY_SECS.saturating_mul(1 << self.attempts.saturating_sub(1).min(20));
        let delay = exp.min(MAX_DELAY_SECS) as f64 * jitter.clamp(0.5, 1.0);
        self.state = SyncState::Failed;
        self.next_run_at = now + Duration::milliseconds((delay * 1000.0) as i64);
    }

    /// A person asked to try a dead job again.
    pub fn replay(&mut self, now: DateTime<Utc>) {
        self.state = SyncState::Queued;
        self.attempts = 0;
        self.next_run_at = now;
    }
}

#[async_trait]
pub trait SyncJobRepository: Send + Sync {
    async fn save(&self, job: &SyncJob) -> Result<(), StoreError>;
    /// Jobs whose `next_run_at` has passed, oldest first, at most `limit`.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<SyncJob>, StoreError>;
    async fn list(&self, tenant: TenantId) -> Result<Vec<SyncJob>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SyncJob {
        SyncJob::queue(TenantId::new(), Uuid::now_v7(), "pull_orders", Utc::now())
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let now = Utc::now();
        let mut j = job();
        let mut delays = Vec::new();
        for _ in 0..7 {
            j.start();
            j.fail("HTTP 503", now, 1.0);
            delays.push((j.next_run_at - now).num_seconds());
        }
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 320]);
        let mut long = job();
        long.max_attempts = 100;
        for _ in 0..20 {
            long.start();
            long.fail("x", now, 1.0);
        }
        assert_eq!((long.next_run_at - now).num_seconds(), 3_600);
    }

    #[test]
    fn jitter_shortens_the_delay_at_most_by_half() {
        let now = Utc::now();
        let mut j = job();
        j.start();
        j.fail("x", now, 0.1);
        assert_eq!((j.next_run_at - now).num_milliseconds(), 2_500);
    }

    #[test]
    fn a_job_is_dead_after_its_last_attempt_and_a_replay_revives_it() {
        let now = Utc::now();
        let mut j = job();
        for _ in 0..j.max_attempts {
            j.start();
            j.fail("timeout", now, 1.0);
        }
        assert_eq!(j.state, SyncState::Dead);
        assert_eq!(j.last_error.as_deref(), Some("timeout"));
        j.replay(now);
        assert_eq!((j.state, j.attempts), (SyncState::Queued, 0));
    }
}
