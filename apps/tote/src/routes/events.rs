//! `GET /api/v1/events/stream`: server-sent events of a tenant's changes as they commit.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use kernel::{EventEnvelope, EventId, TenantId};
use serde::Deserialize;
use sql::SqlStore;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use utoipa::IntoParams;

const POLL: Duration = Duration::from_millis(300);
const HEARTBEAT_EVERY: u32 = 50; // polls: ~15 s
/// Look this far behind the newest event sent: a transaction that took its event id earlier
/// but committed later is still caught (ids are UUIDv7, taken before commit).
const LOOK_BACK_MS: u64 = 5_000;
const PAGE: u64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Comma-separated event families, e.g. `order,inventory`. Default: `order,shipment`.
    pub types: Option<String>,
}

/// The smallest UUIDv7 of a millisecond: every event id of that millisecond or later is above it.
fn floor_at(ms: u64) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    uuid::Uuid::from_bytes(bytes)
}

fn ms_of(id: &uuid::Uuid) -> u64 {
    let b = id.as_bytes();
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

fn frame(event: &EventEnvelope) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.id, event.event_type
    ))
}

struct Stream {
    store: SqlStore,
    tenant: TenantId,
    prefixes: Vec<String>,
    /// Nothing at or below this is sent (the client's `Last-Event-ID`, or the connect time).
    resume_after: uuid::Uuid,
    newest_ms: u64,
    sent: HashSet<EventId>,
    sent_order: VecDeque<(u64, EventId)>,
    queued: VecDeque<Bytes>,
    polls: u32,
}

impl Stream {
    async fn next_frame(&mut self) -> Result<Bytes, std::io::Error> {
        loop {
            if let Some(frame) = self.queued.pop_front() {
                return Ok(frame);
            }
            if self.polls > 0 {
                tokio::time::sleep(POLL).await;
            }
            self.polls += 1;
            if self.polls.is_multiple_of(HEARTBEAT_EVERY) {
                return Ok(Bytes::from_static(b": keep-alive\n\n"));
            }
            let floor =
                floor_at(self.newest_ms.saturating_sub(LOOK_BACK_MS)).max(self.resume_after);
            let events = self
                .store
                .events_since(self.tenant, floor, &self.prefixes, PAGE)
                .await
                .map_err(std::io::Error::other)?;
            for event in events {
                if !self.sent.insert(event.id) {
                    continue;
                }
                let ms = ms_of(event.id.as_uuid());
                self.newest_ms = self.newest_ms.max(ms);
                self.sent_order.push_back((ms, event.id));
                self.queued.push_back(frame(&event));
            }
            // Forget what fell out of the look-back window: it can no longer be re-read.
            while let Some((ms, id)) = self.sent_order.front().copied() {
                if ms + 2 * LOOK_BACK_MS >= self.newest_ms {
                    break;
                }
                self.sent.remove(&id);
                self.sent_order.pop_front();
            }
        }
    }
}

/// Live changes of your account as server-sent events (`id`, `event` = type, `data` = the
/// event envelope). Reconnect with `Last-Event-ID` to resume after the last event you got.
/// Delivery is at least once: use the event `id` to drop a repeat.
#[utoipa::path(
    tag = "events",
    params(StreamQuery, ("Last-Event-ID" = Option<String>, Header)),
    security(("api_key" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "the stream"))
)]
#[get("/events/stream")]
pub async fn stream(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let prefixes: Vec<String> = query
        .types
        .as_deref()
        .unwrap_or("order,shipment")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                Ok(format!("{t}."))
            } else {
                Err(ApiError::bad_request(format!(
                    "unknown event family {t:?}; use e.g. types=order,inventory"
                )))
            }
        })
        .collect::<Result<_, _>>()?;
    let resume_after = match req.headers().get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
            .ok_or_else(|| {
                ApiError::bad_request("`Last-Event-ID` must be an event id from this stream")
            })?,
        None => floor_at(chrono::Utc::now().timestamp_millis().max(0) as u64),
    };
    let state = Stream {
        store: state.store.clone(),
        tenant: ctx.tenant_id,
        prefixes,
        resume_after,
        newest_ms: ms_of(&resume_after),
        sent: HashSet::new(),
        sent_order: VecDeque::new(),
        queued: VecDeque::from([Bytes::from_static(b"retry: 2000\n\n")]),
        polls: 0,
    };
    let body = futures::stream::unfold(state, |mut s| async move {
        match s.next_frame().await {
            Ok(frame) => Some((Ok::<_, std::io::Error>(frame), s)),
            Err(e) => {
                tracing::warn!(error = %e, "event stream ended");
                None
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_of_a_millisecond_is_below_every_id_of_it_and_above_earlier_ones() {
        let id = uuid::Uuid::now_v7();
        let ms = ms_of(&id);
        assert!(floor_at(ms) <= id);
        assert!(floor_at(ms + 1) > id);
        assert_eq!(ms_of(&floor_at(ms)), ms);
    }
}
