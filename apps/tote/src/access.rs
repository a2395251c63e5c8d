//! THE access matrix: which role (and which API-key scope) may call which route. Deny by
//! default: a route that is not listed here answers 403 to everyone, and
//! `tests/api/access_matrix.rs` fails when a documented route has no row. Applied in one place,
//! [`crate::guard`], before any handler runs.
//!
//! To add a route: add one row. Patterns are actix's (`/api/v1/orders/{id}`), methods upper case.

use identity::{Area, Role, Scope};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (sign-up, login, health).
    Public,
    /// The operator token (`TOTE_ADMIN_TOKEN`), checked by the `Operator` extractor.
    Operator,
    /// Any authenticated caller of a tenant: every role and every key, scoped or not.
    AnyCaller,
    /// A tenant's user with one of `roles`, or an API key: full-access keys count as owner,
    /// scoped keys need `scope` (no scope: no scoped key may call).
    Tenant {
        roles: &'static [Role],
        scope: Option<Scope>,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub pattern: &'static str,
    pub access: Access,
}

use Role::{Admin, Manager, Owner, Viewer, WarehouseStaff};
/// Everyone in the tenant.
pub const EVERYONE: &[Role] = &[Owner, Admin, Manager, WarehouseStaff, Viewer];
/// People who work stock on the floor and their managers.
pub const FLOOR: &[Role] = &[Owner, Admin, Manager, WarehouseStaff];
/// People who run the business day to day.
pub const MANAGERS: &[Role] = &[Owner, Admin, Manager];
/// People who run the account: users, keys, webhooks, audit.
pub const ADMINS: &[Role] = &[Owner, Admin];
pub const OWNERS: &[Role] = &[Owner];

const fn tenant(roles: &'static [Role], scope: Option<Scope>) -> Access {
    Access::Tenant { roles, scope }
}
const fn read(area: Area) -> Option<Scope> {
    Some(Scope::read(area))
}
const fn write(area: Area) -> Option<Scope> {
    Some(Scope::write(area))
}

const fn rule(method: &'static str, pattern: &'static str, access: Access) -> Rule {
    Rule {
        method,
        pattern,
        access,
    }
}

#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // operations and account
    rule("GET",    "/health",                                  Access::Public),
    rule("GET",    "/ready",                                   Access::Public),
    rule("GET",    "/api/v1/openapi.json",                     Access::Public),
    rule("POST",   "/api/v1/signup",                           Access::Public),
    rule("POST",   "/api/v1/auth/login",                       Access::Public),
    rule("POST",   "/api/v1/auth/refresh",                     Access::Public),
    rule("POST",   "/api/v1/auth/logout",                      Access::Public),
    rule("GET",    "/api/v1/auth/me",                          Access::AnyCaller),
    rule("POST",   "/api/v1/auth/totp/enrol",                  tenant(ADMINS, None)),
    rule("POST",   "/api/v1/auth/totp/confirm",                tenant(ADMINS, None)),
    rule("POST",   "/api/v1/users",                            tenant(ADMINS, None)),
    rule("GET",    "/api/v1/users",                            tenant(ADMINS, None)),
    rule("GET",    "/api/v1/users/{id}",                       tenant(ADMINS, None)),
    rule("PATCH",  "/api/v1/users/{id}",                       tenant(ADMINS, None)),
    rule("POST",   "/api/v1/api-keys",                         tenant(ADMINS, None)),
    rule("GET",    "/api/v1/api-keys",                         tenant(ADMINS, None)),
    rule("DELETE", "/api/v1/api-keys/{id}",                    tenant(ADMINS, None)),
    rule("GET",    "/api/v1/audit",                            tenant(ADMINS, None)),
    rule("GET",    "/api/v1/tenant/export",                    tenant(OWNERS, None)),
    rule("POST",   "/api/v1/customers/erase",                  tenant(ADMINS, None)),
    // catalogue and stock
    rule("POST",   "/api/v1/products",                         tenant(MANAGERS, write(Area::Products))),
    rule("GET",    "/api/v1/products",                         tenant(EVERYONE, read(Area::Products))),
    rule("GET",    "/api/v1/products/{sku}",                   tenant(EVERYONE, read(Area::Products))),
    rule("GET",    "/api/v1/inventory",                        tenant(EVERYONE, read(Area::Inventory))),
    rule("GET",    "/api/v1/inventory/{sku}",                  tenant(EVERYONE, read(Area::Inventory))),
    rule("PUT",    "/api/v1/inventory/{sku}/quantity",         tenant(FLOOR, write(Area::Inventory))),
    rule("PATCH",  "/api/v1/products/{sku}",                   tenant(MANAGERS, write(Area::Products))),
    rule("DELETE", "/api/v1/products/{sku}",                   tenant(MANAGERS, write(Area::Products))),
    rule("POST",   "/api/v1/catalogue/import",                 tenant(MANAGERS, write(Area::Products))),
    rule("GET",    "/api/v1/catalogue/export",                 tenant(EVERYONE, read(Area::Products))),
    rule("GET",    "/api/v1/inventory/{sku}/movements",        tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/receipts",               tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/ledger/rebuild",                tenant(ADMINS, write(Area::Inventory))),
    rule("GET",    "/api/v1/inventory/replenishment",          tenant(MANAGERS, read(Area::Inventory))),
    rule("GET",    "/api/v1/inventory/valuation",              tenant(MANAGERS, read(Area::Inventory))),
    rule("POST",   "/api/v1/transfers",                        tenant(FLOOR, write(Area::Inventory))),
    rule("GET",    "/api/v1/transfers/{id}",                   tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/transfers/{id}/receive",           tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/warehouses",                       tenant(ADMINS, write(Area::Warehouses))),
    rule("GET",    "/api/v1/warehouses",                       tenant(EVERYONE, read(Area::Warehouses))),
    rule("PATCH",  "/api/v1/warehouses/{code}",                tenant(ADMINS, write(Area::Warehouses))),
    rule("POST",   "/api/v1/reservations",                     tenant(MANAGERS, write(Area::Inventory))),
    rule("GET",    "/api/v1/reservations/{id}",                tenant(EVERYONE, read(Area::Inventory))),
    rule("DELETE", "/api/v1/reservations/{id}",                tenant(MANAGERS, write(Area::Inventory))),
    // the warehouse floor: managers lay it out, floor staff pick and pack
    rule("POST",   "/api/v1/warehouses/{code}/bins",           tenant(MANAGERS, write(Area::Warehouses))),
    rule("GET",    "/api/v1/warehouses/{code}/bins",           tenant(EVERYONE, read(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/put-away",               tenant(FLOOR, write(Area::Inventory))),
    rule("GET",    "/api/v1/inventory/{sku}/bins",             tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/boxes",                            tenant(MANAGERS, write(Area::Warehouses))),
    rule("GET",    "/api/v1/boxes",                            tenant(EVERYONE, read(Area::Warehouses))),
    rule("GET",    "/api/v1/warehouse/tasks/mine",             tenant(FLOOR, read(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/tasks/claim",            tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/tasks/{id}/start",       tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/tasks/{id}/complete",    tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/picklists",              tenant(FLOOR, write(Area::Warehouses))),
    rule("GET",    "/api/v1/warehouse/picklists/{id}",         tenant(EVERYONE, read(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/picklists/{id}/scan",    tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/picklists/{id}/short",   tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/pack-sessions",          tenant(FLOOR, write(Area::Warehouses))),
    rule("GET",    "/api/v1/warehouse/pack-sessions/{id}",     tenant(EVERYONE, read(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/pack-sessions/{id}/scan", tenant(FLOOR, write(Area::Warehouses))),
    rule("POST",   "/api/v1/warehouse/pack-sessions/{id}/finish", tenant(FLOOR, write(Area::Warehouses))),
    // orders
    rule("POST",   "/api/v1/orders",                           tenant(MANAGERS, write(Area::Orders))),
    rule("GET",    "/api/v1/orders",                           tenant(EVERYONE, read(Area::Orders))),
    rule("GET",    "/api/v1/orders/{id}",                      tenant(EVERYONE, read(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/cancel",               tenant(MANAGERS, write(Area::Orders))),
    rule("PATCH",  "/api/v1/orders/{id}",                      tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/hold",                 tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/release",              tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/pick",                 tenant(FLOOR, write(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/pack",                 tenant(FLOOR, write(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/shipments",            tenant(FLOOR, write(Area::Orders))),
    rule("GET",    "/api/v1/orders/{id}/shipments",            tenant(EVERYONE, read(Area::Orders))),
    rule("POST",   "/api/v1/orders/{id}/deliver",              tenant(MANAGERS, write(Area::Orders))),
    rule("GET",    "/api/v1/orders/{id}/timeline",             tenant(EVERYONE, read(Area::Orders))),
    // returns: customer service opens and decides them, the floor receives and inspects
    rule("POST",   "/api/v1/orders/{id}/returns",              tenant(MANAGERS, write(Area::Orders))),
    rule("GET",    "/api/v1/orders/{id}/returns",              tenant(EVERYONE, read(Area::Orders))),
    rule("GET",    "/api/v1/returns",                          tenant(EVERYONE, read(Area::Orders))),
    rule("GET",    "/api/v1/returns/{id}",                     tenant(EVERYONE, read(Area::Orders))),
    rule("POST",   "/api/v1/returns/{id}/approve",             tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/returns/{id}/reject",              tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/returns/{id}/receive",             tenant(FLOOR, write(Area::Orders))),
    rule("POST",   "/api/v1/returns/{id}/inspect",             tenant(FLOOR, write(Area::Orders))),
    rule("POST",   "/api/v1/returns/{id}/refund",              tenant(MANAGERS, write(Area::Orders))),
    // shipping: the floor buys and prints labels; the public quote and tracking page need no key
    rule("POST",   "/api/v1/orders/{id}/labels",               tenant(FLOOR, write(Area::Orders))),
    rule("GET",    "/api/v1/shipments/{id}/label",             tenant(FLOOR, read(Area::Orders))),
    rule("GET",    "/api/v1/shipments/{id}/commercial-invoice", tenant(FLOOR, read(Area::Orders))),
    rule("GET",    "/api/v1/shipments/{id}/tracking",          tenant(EVERYONE, read(Area::Orders))),
    rule("POST",   "/api/v1/shipments/{id}/tracking",          tenant(MANAGERS, write(Area::Orders))),
    rule("POST",   "/api/v1/shipments/{id}/tracking/refresh",  tenant(FLOOR, write(Area::Orders))),
    rule("GET",    "/api/v1/shipping/rate-table",              tenant(MANAGERS, read(Area::Orders))),
    rule("PUT",    "/api/v1/shipping/rate-table",              tenant(ADMINS, write(Area::Orders))),
    rule("POST",   "/api/v1/shipping/quote",                   Access::Public),
    rule("GET",    "/track/{public_id}",                       Access::Public),
    // receiving, cycle counts and QC: managers announce and decide, the floor does the work
    rule("POST",   "/api/v1/inbound-shipments",                tenant(MANAGERS, write(Area::Inventory))),
    rule("GET",    "/api/v1/inbound-shipments",                tenant(EVERYONE, read(Area::Inventory))),
    rule("GET",    "/api/v1/inbound-shipments/{id}",           tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/inbound-shipments/{id}/receive",   tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/inbound-shipments/{id}/close",     tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/warehouse/put-away-tasks/{id}/confirm", tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/warehouse/counts",                 tenant(FLOOR, write(Area::Inventory))),
    rule("GET",    "/api/v1/warehouse/counts/{id}",            tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/warehouse/counts/{id}/lines",      tenant(FLOOR, write(Area::Inventory))),
    rule("POST",   "/api/v1/warehouse/counts/{id}/submit",     tenant(FLOOR, write(Area::Inventory))),
    rule("GET",    "/api/v1/warehouse/accuracy",               tenant(MANAGERS, read(Area::Inventory))),
    rule("POST",   "/api/v1/qc/checklists",                    tenant(MANAGERS, write(Area::Inventory))),
    rule("GET",    "/api/v1/qc/checklists",                    tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/qc/inspections",                   tenant(FLOOR, write(Area::Inventory))),
    rule("GET",    "/api/v1/qc/quarantines",                   tenant(EVERYONE, read(Area::Inventory))),
    rule("POST",   "/api/v1/qc/quarantines/{id}/release",      tenant(MANAGERS, write(Area::Inventory))),
    rule("POST",   "/api/v1/qc/quarantines/{id}/dispose",      tenant(MANAGERS, write(Area::Inventory))),
    rule("GET",    "/api/v1/allocation-rules",                 tenant(MANAGERS, read(Area::Orders))),
    rule("PUT",    "/api/v1/allocation-rules",                 tenant(ADMINS, write(Area::Orders))),
    // events and webhooks
    rule("GET",    "/api/v1/events/stream",                    tenant(EVERYONE, read(Area::Events))),
    rule("POST",   "/api/v1/webhooks",                         tenant(ADMINS, write(Area::Webhooks))),
    rule("GET",    "/api/v1/webhooks",                         tenant(ADMINS, read(Area::Webhooks))),
    rule("DELETE", "/api/v1/webhooks/{id}",                    tenant(ADMINS, write(Area::Webhooks))),
    // customer notifications (they hold customers' addresses: no scoped key)
    rule("GET",    "/api/v1/notification-templates",           tenant(MANAGERS, None)),
    rule("PUT",    "/api/v1/notification-templates/{kind}",    tenant(ADMINS, None)),
    rule("DELETE", "/api/v1/notification-templates/{kind}",    tenant(ADMINS, None)),
    rule("GET",    "/api/v1/notifications",                    tenant(MANAGERS, None)),
    rule("GET",    "/api/v1/webhooks/{id}/deliveries",         tenant(ADMINS, read(Area::Webhooks))),
    rule("POST",   "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", tenant(ADMINS, write(Area::Webhooks))),
    // operators
    rule("GET",    "/api/v1/admin/outbox",                     Access::Operator),
    rule("GET",    "/api/v1/admin/dead-letters",               Access::Operator),
    rule("POST",   "/api/v1/admin/dead-letters/{consumer}/replay", Access::Operator),
    rule("PUT",    "/api/v1/admin/tenants/{id}/plan",          Access::Operator),
];

/// What the matrix says about a matched route and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Rule(Access),
    /// The route exists with other methods: let the router answer (405/404).
    OtherMethod,
    /// A registered route with no row at all: denied, and a bug the matrix test catches.
    Unlisted,
}

pub fn decide(method: &str, pattern: &str) -> Decision {
    let mut other = false;
    for r in RULES.iter().filter(|r| r.pattern == pattern) {
        if r.method == method {
            return Decision::Rule(r.access);
        }
        other = true;
    }
    if other {
        Decision::OtherMethod
    } else {
        Decision::Unlisted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_unique() {
        for (i, a) in RULES.iter().enumerate() {
            for b in &RULES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.pattern == b.pattern),
                    "{} {} listed twice",
                    a.method,
                    a.pattern
                );
            }
        }
    }

    #[test]
    fn an_unlisted_route_is_denied_and_a_swapped_method_goes_to_the_router() {
        assert_eq!(decide("GET", "/api/v1/secret"), Decision::Unlisted);
        assert_eq!(
            decide("DELETE", "/api/v1/orders/{id}"),
            Decision::OtherMethod
        );
        assert!(matches!(
            decide("GET", "/api/v1/orders/{id}"),
            Decision::Rule(_)
        ));
    }
}
