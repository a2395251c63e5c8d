//! HTTP controllers: parse, call a use case, map the result. No business rule lives here.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod events;
pub mod floor;
pub mod floor_inbound;
pub mod fulfilment;
pub mod health;
pub mod inventory;
pub mod notifications;
pub mod orders;
pub mod pick_pack;
pub mod products;
pub mod returns;
pub mod routing;
pub mod shipping;
pub mod signup;
pub mod stock_ops;
pub mod users;
pub mod warehouses;
pub mod webhooks;

use crate::error::ApiError;
use actix_web::web;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kernel::{Money, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(shipping::public_tracking)
        .service(
            web::scope("/api/v1")
                // The order path first: the router tries resources in this order, and each
                // pattern with a `{param}` before a match costs a regex run.
                .service(orders::create)
                .service(orders::list)
                .service(orders::get)
                .service(orders::cancel)
                .service(crate::openapi::document)
                .service(signup::signup)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::me)
                .service(auth::totp_enrol)
                .service(auth::totp_confirm)
                .service(users::create)
                .service(users::list)
                .service(users::get)
                .service(users::update)
                .service(users::create_key)
                .service(users::list_keys)
                .service(users::revoke_key)
                .service(audit::list)
                .service(audit::export)
                .service(audit::erase)
                .service(admin::set_plan)
                .service(products::create)
                .service(products::list)
                .service(products::get)
                .service(products::update)
                .service(products::archive)
                .service(stock_ops::import)
                .service(stock_ops::export)
                // Fixed paths before `/inventory/{sku}`, which would otherwise take them.
                .service(stock_ops::receive)
                .service(stock_ops::replenishment)
                .service(stock_ops::valuation)
                .service(stock_ops::rebuild)
                .service(stock_ops::create_transfer)
                .service(stock_ops::get_transfer)
                .service(stock_ops::receive_transfer)
                .service(floor::bins_of_sku)
                .service(inventory::list)
                .service(inventory::get)
                .service(inventory::set_quantity)
                .service(inventory::movements)
                .service(warehouses::create)
                .service(warehouses::list)
                .service(warehouses::update)
                .service(warehouses::create_hold)
                .service(warehouses::get_hold)
                .service(warehouses::release_hold)
                .service(floor::create_bin)
                .service(floor::list_bins)
                .service(floor::put_away)
                .service(floor::create_box)
                .service(floor::list_boxes)
                // Fixed paths before `/warehouse/tasks/{id}/...`.
                .service(floor::my_tasks)
                .service(floor::claim_task)
                .service(floor::start_task)
                .service(floor::complete_task)
                .service(pick_pack::create_pick_lists)
                .service(pick_pack::get_pick_list)
                .service(pick_pack::scan_pick)
                .service(pick_pack::report_short)
                .service(pick_pack::open_pack_session)
                .service(pick_pack::get_pack_session)
                .service(pick_pack::scan_pack)
                .service(pick_pack::finish_pack)
                .service(fulfilment::edit)
                .service(fulfilment::hold)
                .service(fulfilment::release)
                .service(fulfilment::pick)
                .service(fulfilment::pack)
                .service(fulfilment::ship)
                .service(fulfilment::shipments)
                .service(fulfilment::deliver)
                .service(fulfilment::timeline)
                .service(returns::create)
                .service(returns::of_order)
                .service(returns::list)
                .service(returns::get)
                .service(returns::approve)
                .service(returns::reject)
                .service(returns::receive)
                .service(returns::inspect)
                .service(returns::refund)
                .service(floor_inbound::create_inbound)
                .service(floor_inbound::list_inbound)
                .service(floor_inbound::get_inbound)
                .service(floor_inbound::receive)
                .service(floor_inbound::close)
                .service(floor_inbound::confirm_put_away)
                .service(floor_inbound::open_count)
                .service(floor_inbound::get_count)
                .service(floor_inbound::count_line_route)
                .service(floor_inbound::submit_count)
                .service(floor_inbound::accuracy)
                .service(floor_inbound::create_checklist)
                .service(floor_inbound::list_checklists)
                .service(floor_inbound::inspect)
                .service(floor_inbound::list_quarantines)
                .service(floor_inbound::release_quarantine)
                .service(floor_inbound::dispose_quarantine)
                .service(shipping::buy_label)
                .service(shipping::print_label)
                .service(shipping::commercial_invoice)
                .service(shipping::tracking)
                .service(shipping::push_tracking)
                .service(shipping::refresh_tracking)
                .service(shipping::get_rate_table)
                .service(shipping::put_rate_table)
                .service(shipping::quote)
                .service(routing::get)
                .service(routing::put)
                .service(events::stream)
                .service(admin::outbox)
                .service(admin::dead_letters)
                .service(admin::replay)
                .service(webhooks::create)
                .service(webhooks::list)
                .service(webhooks::remove)
                .service(webhooks::deliveries)
                .service(webhooks::replay)
                .service(notifications::list_templates)
                .service(notifications::put_template)
                .service(notifications::delete_template)
                .service(notifications::log),
        );
}

/// An amount of money in integer minor units (cents), never a float.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyDto {
    /// e.g. 1999 for 19.99
    pub amount_minor: i64,
    /// ISO 4217, e.g. `USD`
    pub currency: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self {
            amount_minor: m.amount_minor,
            currency: m.currency.to_string(),
        }
    }
}

/// Keyset pagination: pass the previous page's `next_cursor` to get the next page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Cursors are opaque to callers: base64url of the last key seen.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

pub fn page_request<C>(
    limit: Option<u32>,
    cursor: Option<&str>,
    parse: impl Fn(&str) -> Option<C>,
) -> Result<PageRequest<C>, ApiError> {
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => {
            let text = URL_SAFE_NO_PAD
                .decode(raw)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let key = text.as_deref().and_then(&parse);
            Some(key.ok_or_else(|| {
                ApiError::bad_request("`cursor` is not one this API handed out; start without it")
            })?)
        }
    };
    Ok(PageRequest::new(after, limit))
}

/// A page request keyed by SKU (catalogue and stock lists).
pub fn sku_page(query: &PageQuery) -> Result<PageRequest<kernel::Sku>, ApiError> {
    page_request(query.limit, query.cursor.as_deref(), |s| {
        kernel::Sku::parse(s).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let c = encode_cursor("TEE/BLUE");
        let page = page_request(Some(10), Some(&c), |s| Some(s.to_owned())).unwrap();
        assert_eq!(page.after.as_deref(), Some("TEE/BLUE"));
        assert!(page_request(None, Some("%%%"), |s| Some(s.to_owned())).is_err());
    }
}
