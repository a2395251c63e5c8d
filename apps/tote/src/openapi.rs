//! The OpenAPI 3.1 document, generated from the handlers' and DTOs' annotations.

use crate::routes;
use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tote API",
        description = "Order fulfilment for e-commerce sellers: catalogue, stock, orders. \
                       Errors are RFC 9457 problem+json. Money is integer minor units; time is UTC."
    ),
    paths(routes::health::health, routes::health::ready, routes::shipping::public_tracking),
    modifiers(&BearerApiKey),
    tags(
        (name = "account", description = "Sign-up, login and tokens, users and roles, API keys, audit log, data export and erasure"),
        (name = "catalogue", description = "Products"),
        (name = "inventory", description = "Stock levels and counts"),
        (name = "orders", description = "Orders and their reservations"),
        (name = "shipping", description = "Rate tables and quotes, labels (PDF, ZPL), commercial invoices, tracking and the public tracking page"),
        (name = "warehouse", description = "The floor: bins and put-away, box catalogue, task queues, pick lists (scan to confirm, short picks) and pack sessions"),
        (name = "returns", description = "Returns (RMA): approve, receive, inspect, refund; exchanges"),
        (name = "receiving", description = "Inbound shipments (ASN): receive by scan, close with discrepancies and receipts, put-away"),
        (name = "counts", description = "Cycle counts per bin: variances adjust stock; accuracy per day"),
        (name = "qc", description = "QC checklists, inspections, quarantine release and disposal"),
        (name = "webhooks", description = "Signed event deliveries to your endpoints"),
        (name = "notifications", description = "Customer e-mails: templates per kind and the log of what was sent"),
        (name = "events", description = "Live updates (server-sent events)"),
        (name = "operations", description = "Health and readiness")
    )
)]
pub struct ApiDoc;

/// Everything under `/api/v1` (handlers are declared relative to that scope).
#[derive(OpenApi)]
#[openapi(paths(
    routes::signup::signup,
    routes::auth::login,
    routes::auth::refresh,
    routes::auth::logout,
    routes::auth::me,
    routes::auth::totp_enrol,
    routes::auth::totp_confirm,
    routes::users::create,
    routes::users::list,
    routes::users::get,
    routes::users::update,
    routes::users::create_key,
    routes::users::list_keys,
    routes::users::revoke_key,
    routes::audit::list,
    routes::audit::export,
    routes::audit::erase,
    routes::admin::set_plan,
    routes::products::create,
    routes::products::list,
    routes::products::get,
    routes::inventory::list,
    routes::inventory::get,
    routes::inventory::set_quantity,
    routes::inventory::movements,
    routes::products::update,
    routes::products::archive,
    routes::stock_ops::import,
    routes::stock_ops::export,
    routes::stock_ops::receive,
    routes::stock_ops::replenishment,
    routes::stock_ops::valuation,
    routes::stock_ops::rebuild,
    routes::stock_ops::create_transfer,
    routes::stock_ops::get_transfer,
    routes::stock_ops::receive_transfer,
    routes::warehouses::create,
    routes::warehouses::list,
    routes::warehouses::update,
    routes::warehouses::create_hold,
    routes::warehouses::get_hold,
    routes::warehouses::release_hold,
    routes::floor::create_bin,
    routes::floor::list_bins,
    routes::floor::put_away,
    routes::floor::bins_of_sku,
    routes::floor::create_box,
    routes::floor::list_boxes,
    routes::floor::my_tasks,
    routes::floor::claim_task,
    routes::floor::start_task,
    routes::floor::complete_task,
    routes::pick_pack::create_pick_lists,
    routes::pick_pack::get_pick_list,
    routes::pick_pack::scan_pick,
    routes::pick_pack::report_short,
    routes::pick_pack::open_pack_session,
    routes::pick_pack::get_pack_session,
    routes::pick_pack::scan_pack,
    routes::pick_pack::finish_pack,
    routes::orders::create,
    routes::orders::list,
    routes::orders::get,
    routes::orders::cancel,
    routes::fulfilment::edit,
    routes::fulfilment::hold,
    routes::fulfilment::release,
    routes::fulfilment::pick,
    routes::fulfilment::pack,
    routes::fulfilment::ship,
    routes::fulfilment::shipments,
    routes::fulfilment::deliver,
    routes::fulfilment::timeline,
    routes::returns::create,
    routes::returns::of_order,
    routes::returns::list,
    routes::returns::get,
    routes::returns::approve,
    routes::returns::reject,
    routes::returns::receive,
    routes::returns::inspect,
    routes::returns::refund,
    routes::shipping::buy_label,
    routes::shipping::print_label,
    routes::shipping::commercial_invoice,
    routes::shipping::tracking,
    routes::shipping::push_tracking,
    routes::shipping::refresh_tracking,
    routes::shipping::get_rate_table,
    routes::shipping::put_rate_table,
    routes::shipping::quote,
    routes::floor_inbound::create_inbound,
    routes::floor_inbound::list_inbound,
    routes::floor_inbound::get_inbound,
    routes::floor_inbound::receive,
    routes::floor_inbound::close,
    routes::floor_inbound::confirm_put_away,
    routes::floor_inbound::open_count,
    routes::floor_inbound::get_count,
    routes::floor_inbound::count_line_route,
    routes::floor_inbound::submit_count,
    routes::floor_inbound::accuracy,
    routes::floor_inbound::create_checklist,
    routes::floor_inbound::list_checklists,
    routes::floor_inbound::inspect,
    routes::floor_inbound::list_quarantines,
    routes::floor_inbound::release_quarantine,
    routes::floor_inbound::dispose_quarantine,
    routes::routing::get,
    routes::routing::put,
    routes::events::stream,
    routes::admin::outbox,
    routes::admin::dead_letters,
    routes::admin::replay,
    routes::webhooks::create,
    routes::webhooks::list,
    routes::webhooks::remove,
    routes::webhooks::deliveries,
    routes::webhooks::replay,
    routes::notifications::list_templates,
    routes::notifications::put_template,
    routes::notifications::delete_template,
    routes::notifications::log,
))]
struct V1Doc;

impl ApiDoc {
    /// The whole document, built once.
    pub fn document() -> &'static utoipa::openapi::OpenApi {
        static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
        DOC.get_or_init(|| ApiDoc::openapi().nest("/api/v1", V1Doc::openapi()))
    }
}

struct BearerApiKey;

impl Modify for BearerApiKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`tote_sk_…`, from sign-up or POST /api/v1/api-keys) or a \
                         user's access token (EdDSA JWT from POST /api/v1/auth/login). Which \
                         roles and key scopes may call each route: apps/tote/src/access.rs",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token, TOTE_ADMIN_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// This API's OpenAPI document.
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::document())
}
