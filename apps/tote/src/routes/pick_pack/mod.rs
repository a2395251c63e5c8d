//! Pick lists and pack sessions over HTTP: plan from bin stock, scan to confirm, report short
//! picks (written off and re-allocated through the order use cases), pack by scan into the
//! suggested box, finish (the order becomes `packed`) and optionally buy the label.

use super::floor::{BoxResponse, warehouse_of};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::shipping::{LabelRequest, ShippingError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kernel::{OrderId, PageRequest, Quantity, RequestContext, ValidationErrors, WarehouseId};
use order::ports::{OrderFilter, OrderSort};
use order::{Order, OrderStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use warehouse::{
    ItemDims, PackSession, Parcel, PickLine, PickList, PickableOrder, Scan, ScanOutcome,
    choose_box, group_waves,
};

fn units(q: Quantity) -> u32 {
    q.get()
}

fn path_uuid(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

mod packing;
mod picking;

pub use packing::*;
pub use picking::*;
