//! The one place domain errors become HTTP: RFC 9457 `application/problem+json` with a stable
//! `type`, a human `title` and `detail`, and field errors for validation. Internals never leak.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use identity::IdentityError;
use inventory::InventoryError;
use kernel::{FieldError, StoreError, ValidationErrors};
use order::OrderError;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt;
use utoipa::ToSchema;

pub const PROBLEM_BASE: &str = "https://tote.dev/problems/";

/// A problem detail as it goes on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable, machine-readable: `https://tote.dev/problems/<slug>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
    /// Extension members of specific problems (e.g. `shortages`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// JSON path of the field, e.g. `lines[2].quantity`.
    pub field: String,
    pub message: String,
}

/// An HTTP-facing error. Boxed: it travels in every handler's `Result`, so keep it small.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    extensions: Map<String, Value>,
    /// Kept for the log of a 5xx; never sent.
    cause: Option<String>,
    /// Seconds, sent as `Retry-After` (429s).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self(Box::new(Inner {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
            cause: None,
            retry_after: None,
        }))
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extensions.insert(key.to_owned(), value);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request could not be read",
            detail,
        )
    }

    pub fn validation(errors: ValidationErrors) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "validation-error",
            "Some fields are not valid",
            format!("{} field(s) need attention: see `errors`", errors.0.len()),
        );
        e.0.errors = errors.0;
        e
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The JSON body could not be read",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            "send `Authorization: Bearer <api key or access token>`; keys come from POST \
             /api/v1/signup, access tokens from POST /api/v1/auth/login",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You may not do this",
            detail,
        )
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        let secs = retry_after_secs.max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("{}; retry in {secs} s", detail.into()),
        )
        .with("retry_after", json!(secs));
        e.0.retry_after = Some(secs);
        e
    }

    /// A plan limit: `429` when it frees up with time (orders/day), else `403`.
    pub fn quota(detail: impl Into<String>, limit: i64, retry_after_secs: Option<u64>) -> Self {
        let mut e = Self::new(
            if retry_after_secs.is_some() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::FORBIDDEN
            },
            "plan-limit",
            "Your plan's limit is reached",
            detail,
        )
        .with("limit", json!(limit));
        e.0.retry_after = retry_after_secs.map(|s| s.max(1));
        e
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
            "the request was not completed; it is safe to retry. If it persists, contact support \
             with the time of the request",
        );
        e.0.cause = Some(cause.to_string());
        e
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    fn body(&self) -> Problem {
        let e = &self.0;
        // Extensions may add members, never replace the standard ones.
        let mut extensions = e.extensions.clone();
        for reserved in ["type", "title", "status", "detail", "errors"] {
            extensions.remove(reserved);
        }
        Problem {
            problem_type: format!("{PROBLEM_BASE}{}", e.slug),
            title: e.title.to_owned(),
            status: e.status.as_u16(),
            detail: e.detail.clone(),
            errors: e
                .errors
                .iter()
                .map(|e| FieldErrorBody {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            extensions,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        write!(f, "{} {}: {}", e.status.as_u16(), e.slug, e.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let e = &self.0;
        if e.status.is_server_error() {
            tracing::error!(cause = e.cause.as_deref().unwrap_or(""), "{self}");
        }
        let mut response = HttpResponse::build(e.status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if e.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(secs) = e.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.body())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // The full cause chain goes to the log, not to the caller.
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        Self::internal(chain)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::validation(e)
    }
}

impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        let detail = e.to_string();
        match e {
            InventoryError::Invalid(v) => Self::validation(v),
            InventoryError::UnknownSku(_) => Self::not_found(detail),
            InventoryError::DuplicateSku(sku) => Self::new(
                StatusCode::CONFLICT,
                "duplicate-sku",
                "This SKU already exists",
                detail,
            )
            .with("sku", json!(sku)),
            InventoryError::VersionMismatch { actual, .. } => Self::new(
                StatusCode::CONFLICT,
                "version-mismatch",
                "The resource changed since you read it",
                detail,
            )
            .with("current_version", json!(actual)),
            InventoryError::BelowReserved { reserved, .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "below-reserved",
                "On hand cannot go below what is reserved",
                detail,
            )
            .with("reserved", json!(reserved)),
            InventoryError::UnknownSkus(skus) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-sku",
                "Some SKUs are not in your catalogue",
                detail,
            )
            .with("skus", json!(skus)),
            InventoryError::UnknownWarehouse(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-warehouse",
                "No such warehouse",
                format!("{detail}; list yours with GET /api/v1/warehouses"),
            ),
            InventoryError::NestedKit(_) | InventoryError::KitHasNoStock(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "kit",
                "Kits have no stock of their own",
                detail,
            ),
            InventoryError::DuplicateWarehouse(code) => Self::new(
                StatusCode::CONFLICT,
                "duplicate-warehouse",
                "This warehouse code already exists",
                detail,
            )
            .with("code", json!(code)),
            InventoryError::InsufficientStock(short) => Self::new(
                StatusCode::CONFLICT,
                "insufficient-stock",
                "Not enough stock",
                format!("{detail}; nothing was reserved"),
            )
            .with(
                "shortages",
                json!(
                    short
                        .iter()
                        .map(|(sku, n)| json!({ "sku": sku, "short": n }))
                        .collect::<Vec<_>>()
                ),
            ),
            InventoryError::HoldNotFound(_) | InventoryError::TransferNotFound(_) => {
                Self::not_found(detail)
            }
            InventoryError::Hold(_) | InventoryError::Transfer(_) => Self::new(
                StatusCode::CONFLICT,
                "illegal-transition",
                "That cannot happen in its current state",
                detail,
            ),
            InventoryError::Store(s) => s.into(),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        let detail = e.to_string();
        match e {
            OrderError::Invalid(v) => Self::validation(v),
            OrderError::NotFound(_) => Self::not_found(detail),
            OrderError::UnknownSkus(skus) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-sku",
                "Some SKUs are not in your catalogue",
                format!("{detail}; create them with POST /api/v1/products first"),
            )
            .with("skus", json!(skus)),
            OrderError::UnknownSku(sku) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-sku",
                "Some SKUs are not in your catalogue",
                detail,
            )
            .with("skus", json!([sku])),
            OrderError::InsufficientStock(shortages) => Self::new(
                StatusCode::CONFLICT,
                "insufficient-stock",
                "Not enough stock",
                format!("{detail}; nothing was written. Send \"allow_backorder\": true to accept a backorder"),
            )
            .with(
                "shortages",
                json!(shortages
                    .iter()
                    .map(|s| json!({ "sku": s.sku, "requested": s.requested, "available": s.available }))
                    .collect::<Vec<_>>()),
            ),
            OrderError::IllegalTransition { from, to } => Self::new(
                StatusCode::CONFLICT,
                "illegal-transition",
                "The order cannot do that in its current status",
                detail,
            )
            .with("order_status", json!(from))
            .with("requested_status", json!(to)),
            OrderError::NotEditable(status) => Self::new(
                StatusCode::CONFLICT,
                "order-not-editable",
                "The order can no longer be edited",
                format!("{detail}; cancel it or ship it as it is"),
            )
            .with("order_status", json!(status)),
            OrderError::NotReturnable(status) => Self::new(
                StatusCode::CONFLICT,
                "order-not-returnable",
                "Nothing of this order has shipped",
                format!("{detail}; a return can be opened once units have shipped"),
            )
            .with("order_status", json!(status)),
            OrderError::IllegalReturnTransition { from, to } => Self::new(
                StatusCode::CONFLICT,
                "illegal-transition",
                "The return cannot do that in its current status",
                detail,
            )
            .with("return_status", json!(from))
            .with("requested_status", json!(to)),
            OrderError::ReturnNotFound(_) => Self::not_found(detail),
            OrderError::IdempotencyKeyReused => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
                format!("{detail}; use a new key for a new request"),
            ),
            OrderError::VersionConflict
            | OrderError::DuplicateExternalId
            | OrderError::DuplicateIdempotencyKey => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "A concurrent change got there first",
                format!("{detail}; retry the request"),
            ),
            OrderError::HoldNotFound(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-reservation",
                "No such reservation hold",
                detail,
            ),
            OrderError::HoldUnusable(_) => Self::new(
                StatusCode::CONFLICT,
                "reservation-unusable",
                "The reservation hold cannot be used for this order",
                format!("{detail}; nothing was written"),
            ),
            OrderError::Store(s) => s.into(),
        }
    }
}

impl From<crate::shipping::ShippingError> for ApiError {
    fn from(e: crate::shipping::ShippingError) -> Self {
        use crate::shipping::ShippingError as S;
        use warehouse::CarrierError as C;
        let detail = e.to_string();
        match e {
            S::Order(e) => e.into(),
            S::Inventory(e) => e.into(),
            S::Invalid(v) => Self::validation(v),
            S::NoRate { level, failures } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no-rate",
                "No carrier can take this parcel at that service level",
                format!("{detail}; try another service_level, or add a band to your rate table"),
            )
            .with("service_level", json!(level.as_str()))
            .with(
                "carrier_errors",
                json!(
                    failures
                        .iter()
                        .map(|(c, e)| json!({"carrier": c, "error": e.to_string()}))
                        .collect::<Vec<_>>()
                ),
            ),
            S::Carrier(C::Rejected { message }) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "carrier-rejected",
                "The carrier refused the shipment",
                message,
            ),
            S::Carrier(C::NotFound { message }) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "carrier-not-found",
                "The carrier does not know this shipment",
                message,
            ),
            S::Carrier(e) => Self::new(
                StatusCode::BAD_GATEWAY,
                "carrier-unavailable",
                "The carrier could not be reached or refused our credentials",
                format!("{e}; nothing was shipped — try again shortly"),
            ),
            S::NoLabel(_) => Self::not_found(detail),
            S::Label(message) => Self::new(
                StatusCode::CONFLICT,
                "carrier-not-configured",
                "The carrier of this label is not configured",
                message,
            ),
            S::Store(s) => s.into(),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        let detail = e.to_string();
        match e {
            IdentityError::Invalid(v) => Self::validation(v),
            IdentityError::Unauthenticated => Self::unauthenticated(),
            IdentityError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Login failed",
                detail,
            ),
            IdentityError::SecondFactorRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "second-factor-required",
                "A second factor is required",
                detail,
            ),
            IdentityError::InvalidSecondFactor => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid-second-factor",
                "The second factor is not right",
                detail,
            ),
            IdentityError::InvalidRefreshToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "The refresh token cannot be used",
                format!("{detail}; log in again"),
            ),
            IdentityError::Forbidden(_) => Self::forbidden(detail),
            IdentityError::NotFound(_) => Self::not_found(detail),
            IdentityError::DuplicateEmail => Self::new(
                StatusCode::CONFLICT,
                "duplicate-email",
                "This email is taken",
                format!("{detail}; log in, or use another email"),
            ),
            IdentityError::Conflict(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
            }
            IdentityError::Store(s) => s.into(),
        }
    }
}

/// Malformed JSON, unknown fields, wrong types, oversized or non-JSON bodies: a 4xx problem.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { length, limit } => too_large(format!(
            "the body is {length} bytes; the limit is {limit} bytes"
        )),
        J::Overflow { limit } => too_large(format!("the body is over the limit of {limit} bytes")),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send JSON",
            "set `Content-Type: application/json`",
        ),
        J::Deserialize(e) => ApiError::malformed_json(e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    }
}

pub fn too_large(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "The request body is too large",
        detail,
    )
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid-query",
        "The query string could not be read",
        err.to_string(),
    )
}

/// A path segment that cannot even be an id cannot name anything of yours.
pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    ApiError::not_found(format!("no such resource ({err})"))
}

impl From<notification::NotificationError> for ApiError {
    fn from(e: notification::NotificationError) -> Self {
        use notification::NotificationError as E;
        match e {
            E::Invalid(errors) => {
                let mut problem = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-template",
                    "The template cannot be used",
                    format!(
                        "{} field(s) need attention: see `errors`; GET /api/v1/notification-templates lists the variables of each kind",
                        errors.0.len()
                    ),
                );
                problem.0.errors = errors.0;
                problem
            }
            E::Store(e) => e.into(),
            other => Self::internal(other.to_string()),
        }
    }
}

fn unprocessable(slug: &'static str, title: &'static str, detail: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
}

fn conflict(slug: &'static str, title: &'static str, detail: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, slug, title, detail)
}

/// Floor errors. Wrong scans are 422 with a slug naming what was wrong (`wrong-bin`,
/// `wrong-item`, `too-many`), and they changed nothing.
impl From<warehouse::FloorError> for ApiError {
    fn from(e: warehouse::FloorError) -> Self {
        use warehouse::{FloorError, PackError, PickError};
        let detail = e.to_string();
        match e {
            FloorError::PickListNotFound | FloorError::PackSessionNotFound => {
                Self::not_found(detail)
            }
            FloorError::Pick(p) => match p {
                PickError::WrongBin { expected } => unprocessable("wrong-bin", "Wrong bin", detail)
                    .with("expected_bin", json!(expected.as_str())),
                PickError::WrongItem { expected_sku } => {
                    unprocessable("wrong-item", "Wrong item", detail)
                        .with("expected_sku", json!(expected_sku))
                }
                PickError::TooMany { remaining } => {
                    unprocessable("too-many", "Too many units", detail)
                        .with("remaining", json!(remaining))
                }
                PickError::AlreadyComplete => {
                    conflict("pick-list-complete", "The pick list is complete", detail)
                }
                PickError::ZeroQuantity => {
                    Self::validation(ValidationErrors::single("quantity", detail))
                }
                PickError::UnknownLine(_) => {
                    unprocessable("unknown-line", "No such pick line", detail)
                }
                PickError::FoundFewerThanPicked { .. } => unprocessable(
                    "found-fewer-than-picked",
                    "Found cannot be fewer than picked",
                    detail,
                ),
                PickError::NotShort { .. } => {
                    unprocessable("not-short", "Nothing is missing", detail)
                }
            },
            FloorError::Pack(p) => match p {
                PackError::WrongItem(barcode) => unprocessable("wrong-item", "Wrong item", detail)
                    .with("barcode", json!(barcode)),
                PackError::TooMany { sku, remaining } => {
                    unprocessable("too-many", "Too many units", detail)
                        .with("sku", json!(sku))
                        .with("remaining", json!(remaining))
                }
                PackError::ZeroQuantity => {
                    Self::validation(ValidationErrors::single("quantity", detail))
                }
                PackError::ZeroWeight => {
                    Self::validation(ValidationErrors::single("weight_g", detail))
                }
                PackError::NotAllScanned { remaining } => {
                    conflict("not-all-scanned", "Units still to scan", detail)
                        .with("remaining", json!(remaining))
                }
                PackError::NoBox => unprocessable("no-box", "Choose a box", detail),
                PackError::NoWeight => unprocessable("no-weight", "Weigh the parcel", detail),
                PackError::AlreadyPacked => {
                    conflict("already-packed", "The order is already packed", detail)
                }
            },
            FloorError::Store(s) => s.into(),
        }
    }
}

impl From<warehouse::TaskError> for ApiError {
    fn from(e: warehouse::TaskError) -> Self {
        let detail = e.to_string();
        match e {
            warehouse::TaskError::IllegalTransition(..) => conflict(
                "illegal-transition",
                "The task cannot do that in its current status",
                detail,
            ),
            warehouse::TaskError::NotAssignee => conflict(
                "not-assignee",
                "The task is someone else's",
                format!("{detail}; claim your own with POST /api/v1/warehouse/tasks/claim"),
            ),
        }
    }
}

impl From<sql::PutAwayFailure> for ApiError {
    fn from(e: sql::PutAwayFailure) -> Self {
        match e {
            sql::PutAwayFailure::UnknownBin(code) => unprocessable(
                "unknown-bin",
                "No such bin",
                format!(
                    "no bin {code} in this warehouse; create it with POST /api/v1/warehouses/{{code}}/bins"
                ),
            ),
            sql::PutAwayFailure::ExceedsOnHand(p) => {
                unprocessable("exceeds-on-hand", "More than is on hand", p.to_string())
            }
            sql::PutAwayFailure::Store(s) => s.into(),
        }
    }
}

impl From<warehouse::InboundError> for ApiError {
    fn from(e: warehouse::InboundError) -> Self {
        use warehouse::{CountError, InboundError as E, QcError, ReceiveError};
        let detail = e.to_string();
        let unprocessable = |slug, title| {
            Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                slug,
                title,
                detail.clone(),
            )
        };
        let conflict = |slug, title| Self::new(StatusCode::CONFLICT, slug, title, detail.clone());
        match e {
            E::NotFound(..) => Self::not_found(detail),
            E::UnknownWarehouse(_) => unprocessable("unknown-warehouse", "No such warehouse"),
            E::UnknownSkus(skus) => {
                unprocessable("unknown-sku", "Some SKUs are not in your catalogue")
                    .with("skus", json!(skus))
            }
            E::UnknownBin { bin, .. } => {
                unprocessable("unknown-bin", "No such bin in this warehouse")
                    .with("bin", json!(bin))
            }
            E::NeedDefaultBin(skus) => {
                unprocessable("no-put-away-bin", "Some SKUs have nowhere to go")
                    .with("skus", json!(skus))
            }
            E::Receive(ReceiveError::NotOnShipment(code)) => unprocessable(
                "not-on-shipment",
                "This item is not on the inbound shipment",
            )
            .with("barcode", json!(code)),
            E::Receive(ReceiveError::Closed) | E::Count(CountError::AlreadySubmitted) => conflict(
                "illegal-transition",
                "That cannot happen in its current state",
            ),
            E::Receive(ReceiveError::DuplicateSku(sku)) => {
                unprocessable("duplicate-sku", "A SKU is listed twice").with("sku", json!(sku))
            }
            E::Receive(_) | E::Count(_) => unprocessable("invalid", "The request breaks a rule"),
            E::Qc(QcError::AlreadySettled(_)) | E::Task(_) => conflict(
                "illegal-transition",
                "That cannot happen in its current state",
            ),
            E::Qc(_) => unprocessable("invalid-qc", "The QC request breaks a rule"),
            E::Stock {
                code: "insufficient-stock",
                ..
            } => conflict("insufficient-stock", "Not enough stock"),
            E::Stock {
                code: "below-reserved",
                ..
            } => unprocessable("below-reserved", "On hand cannot go below what is reserved"),
            E::Stock { .. } => unprocessable("stock-refused", "The stock change was refused"),
            E::IdempotencyKeyReused => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
                format!("{detail}; use a new key for a new request"),
            ),
            E::Invalid(v) => Self::validation(v),
            E::Store(s) => s.into(),
        }
    }
}
