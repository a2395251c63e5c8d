//! Who may do what: user roles and API-key scopes. The route matrix (in the app) names them.

use std::fmt;

/// A user's role in its tenant, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Manager,
    WarehouseStaff,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::WarehouseStaff,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::WarehouseStaff => "warehouse_staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// Owners and admins manage users, keys and security settings, and must be able to use TOTP.
    pub fn is_administrative(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether a user of this role may grant `other` to someone: never above their own rank, and
    /// only owners make owners.
    pub fn may_grant(self, other: Role) -> bool {
        self.is_administrative() && self <= other
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API-key permission: `<area>:<read|write>`, e.g. `orders:write`. `write` implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope {
    pub area: Area,
    pub write: bool,
}

/// What a scope is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Orders,
    Inventory,
    Products,
    Webhooks,
    Events,
    Warehouses,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Orders,
        Area::Inventory,
        Area::Products,
        Area::Webhooks,
        Area::Events,
        Area::Warehouses,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Orders => "orders",
            Area::Inventory => "inventory",
            Area::Products => "products",
            Area::Webhooks => "webhooks",
            Area::Events => "events",
            Area::Warehouses => "warehouses",
        }
    }
}

impl Scope {
    pub const fn read(area: Area) -> Scope {
        Scope { area, write: false }
    }

    pub const fn write(area: Area) -> Scope {
        Scope { area, write: true }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        let (area, access) = raw.trim().split_once(':')?;
        let area = Area::ALL.into_iter().find(|a| a.as_str() == area)?;
        match access {
            "read" => Some(Scope::read(area)),
            "write" => Some(Scope::write(area)),
            _ => None,
        }
    }

    /// Does holding `self` allow what `needed` asks?
    pub fn covers(self, needed: Scope) -> bool {
        self.area == needed.area && (self.write || !needed.write)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = if self.write { "write" } else { "read" };
        write!(f, "{}:{access}", self.area.as_str())
    }
}

/// What a caller was granted: a user's role, or an API key's scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Role(Role),
    /// `None`: a key from before scopes existed, with full access (owner-equivalent).
    Scopes(Option<Vec<Scope>>),
}

impl Grant {
    /// Deny by default: `roles` lists who may call, `scope` what a scoped key needs (none:
    /// scoped keys may not call at all).
    pub fn allows(&self, roles: &[Role], scope: Option<Scope>) -> bool {
        match self {
            Grant::Role(role) => roles.contains(role),
            Grant::Scopes(None) => roles.contains(&Role::Owner),
            Grant::Scopes(Some(held)) => {
                scope.is_some_and(|needed| held.iter().any(|h| h.covers(needed)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn admins_grant_admin_and_below_but_only_owners_make_owners() {
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(Role::Admin.may_grant(Role::Viewer));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(!Role::Manager.may_grant(Role::Viewer));
    }

    #[test]
    fn scopes_parse_and_write_implies_read() {
        let w = Scope::parse("orders:write").unwrap();
        assert!(w.covers(Scope::read(Area::Orders)));
        assert!(w.covers(Scope::write(Area::Orders)));
        assert!(!w.covers(Scope::read(Area::Inventory)));
        let r = Scope::parse("inventory:read").unwrap();
        assert!(!r.covers(Scope::write(Area::Inventory)));
        assert_eq!(r.to_string(), "inventory:read");
        for bad in ["", "orders", "orders:admin", "users:read", "ORDERS:read"] {
            assert!(Scope::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn grants_deny_by_default() {
        let viewer = Grant::Role(Role::Viewer);
        assert!(viewer.allows(&[Role::Owner, Role::Viewer], None));
        assert!(!viewer.allows(&[Role::Owner], Some(Scope::read(Area::Orders))));
        let legacy = Grant::Scopes(None);
        assert!(legacy.allows(&[Role::Owner], None));
        assert!(!legacy.allows(&[], None));
        let scoped = Grant::Scopes(Some(vec![Scope::read(Area::Orders)]));
        assert!(scoped.allows(&[], Some(Scope::read(Area::Orders))));
        assert!(!scoped.allows(&[Role::Owner], Some(Scope::write(Area::Orders))));
        assert!(!scoped.allows(&[Role::Owner], None));
    }
}
