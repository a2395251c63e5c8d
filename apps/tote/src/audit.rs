//! The audit writer: the access guard records every state-changing call here; a background
//! task appends them in batches, off the request's path (one INSERT per batch, not per call).

use identity::audit::AuditEntry;
use sql::SqlStore;
use tokio::sync::mpsc;

#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<AuditEntry>,
}

const CAPACITY: usize = 10_000;
const BATCH: usize = 500;
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

impl AuditSink {
    /// Starts the writer on the current runtime.
    pub fn spawn(store: SqlStore) -> (AuditSink, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<AuditEntry>(CAPACITY);
        let handle = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                // Linger briefly so a busy API writes one INSERT per ~20 ms, not per call.
                tokio::time::sleep(LINGER).await;
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
                for attempt in 0..3 {
                    match store.append_audit(&batch).await {
                        Ok(()) => break,
                        Err(e) if attempt == 2 => {
                            tracing::error!(error = %e, lost = batch.len(), "audit entries could not be written");
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "audit write failed; retrying");
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    }
                }
                batch.clear();
            }
        });
        (AuditSink { tx }, handle)
    }

    pub fn record(&self, entry: AuditEntry) {
        if let Err(e) = self.tx.try_send(entry) {
            tracing::error!(error = %e, "audit queue full or closed; entry dropped");
        }
    }
}
