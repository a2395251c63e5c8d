//! Receiving (inbound shipments / ASN, receive by scan, close, put-away), cycle counts with
//! accuracy, and QC (checklists, inspections, quarantine release/dispose). Thin: parse, call
//! `warehouse::InboundService`, map.

use super::{encode_cursor, page_request};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use warehouse::{
    Accuracy, ClosedInbound, CycleCount, DailyAccuracy, Discrepancy, IdempotencyKey, InboundStatus,
    InboundView, InspectCmd, InspectionOutcome, NewInbound, PutAwayTask, QcChecklist,
    QuarantineRecord, QuarantineStatus, ReceiveScan, Variance,
};

fn path_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

/// `Idempotency-Key` plus a fingerprint of the (parsed, re-serialised) body it came with.
fn idempotency<T: Serialize>(
    req: &HttpRequest,
    body: &T,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request(
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    }
    let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        fingerprint: hex::encode(Sha256::digest(&canonical)),
    }))
}

fn cursor_page(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<kernel::PageRequest<Uuid>, ApiError> {
    page_request(limit, cursor, |c| c.parse::<Uuid>().ok())
}

mod counts;
mod qc;
mod receiving;

pub use counts::*;
pub use qc::*;
pub use receiving::*;
