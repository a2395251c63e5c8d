//! Identity, audit, GDPR and row-level security against real databases (PostgreSQL and SQLite).

use chrono::{Duration, Utc};
use identity::audit::{AuditEntry, AuditFilter};
use identity::ports::{ApiKeyRepository, RefreshTokenRepository, TenantRepository, UserRepository};
use identity::token::RefreshToken;
use identity::{ApiKey, NewTenant, Role, Scope, User};
use inventory::NewProduct;
use inventory::service::InventoryService;
use kernel::{PageRequest, RequestContext, SystemClock, TenantId};
use order::service::{OrderService, Placement};
use order::{Address, NewOrder, NewOrderLine};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use sql::SqlStore;
use testkit::{Backend, TestDb, on_both_databases};
use uuid::Uuid;

on_both_databases!(
    a_user_email_is_unique_across_tenants_and_users_stay_in_their_tenant,
    a_refresh_token_is_marked_used_once_and_its_family_revokes_together,
    a_recovery_code_is_spent_once_even_by_two_concurrent_logins,
    api_key_scopes_round_trip_and_revoking_is_tenant_scoped,
    the_audit_log_pages_newest_first_filters_and_stays_in_its_tenant,
    erasing_a_customer_anonymises_their_orders_and_keeps_totals,
    order_quota_counts_only_todays_orders_of_the_tenant,
);

/// Now, to the microsecond: what PostgreSQL keeps.
fn now() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

async fn tenant(
    store: &SqlStore,
    email: &str,
    owner_password_hash: Option<&str>,
) -> (TenantId, Option<User>) {
    let t = NewTenant {
        company: "Acme".into(),
        email: email.into(),
    }
    .validate(TenantId::new(), now())
    .unwrap();
    let (key, _) = ApiKey::generate(t.id, "default", now());
    let owner =
        owner_password_hash.map(|h| User::new(t.id, t.email.clone(), Role::Owner, h.into(), now()));
    assert!(
        store
            .create_with_key(&t, &key, owner.clone())
            .await
            .unwrap()
    );
    (t.id, owner)
}

async fn a_user_email_is_unique_across_tenants_and_users_stay_in_their_tenant(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (a, owner) = tenant(s, "ada@a.example", Some("$argon2id$x")).await;
    let owner = owner.unwrap();
    let (b, _) = tenant(s, "bob@b.example", None).await;
    // Sign-up with a taken owner email stores nothing.
    let t = NewTenant {
        company: "Copy".into(),
        email: "ada@a.example".into(),
    }
    .validate(TenantId::new(), now())
    .unwrap();
    let (key, _) = ApiKey::generate(t.id, "default", now());
    let dup = User::new(t.id, t.email.clone(), Role::Owner, "h".into(), now());
    assert!(!s.create_with_key(&t, &key, Some(dup)).await.unwrap());
    assert_eq!(s.plan(t.id).await.unwrap(), identity::Plan::default());

    let staff = User::new(b, "ada@a.example".into(), Role::Viewer, "h".into(), now());
    assert!(
        !UserRepository::insert(s, &staff).await.unwrap(),
        "email taken in another tenant"
    );
    let staff = User::new(b, "pat@b.example".into(), Role::Viewer, "h".into(), now());
    assert!(UserRepository::insert(s, &staff).await.unwrap());

    assert_eq!(
        s.find_by_email("ada@a.example").await.unwrap().unwrap(),
        owner
    );
    assert!(UserRepository::get(s, a, staff.id).await.unwrap().is_none());
    assert_eq!(
        UserRepository::list(s, b).await.unwrap(),
        vec![staff.clone()]
    );

    let mut changed = staff.clone();
    changed.role = Role::Manager;
    changed.active = false;
    changed.totp_secret = Some("ABC".into());
    changed.recovery_codes = vec!["h1".into()];
    // An update naming the wrong tenant changes nothing.
    let mut foreign = changed.clone();
    foreign.tenant_id = a;
    s.update(&foreign).await.unwrap();
    assert_eq!(
        UserRepository::get(s, b, staff.id).await.unwrap().unwrap(),
        staff
    );
    s.update(&changed).await.unwrap();
    let got = UserRepository::get(s, b, staff.id).await.unwrap().unwrap();
    assert_eq!(
        (got.role, got.active, got.recovery_codes),
        (Role::Manager, false, vec!["h1".to_owned()])
    );
}

async fn a_recovery_code_is_spent_once_even_by_two_concurrent_logins(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (_, owner) = tenant(s, "ada@a.example", Some("h")).await;
    let mut owner = owner.unwrap();
    owner.recovery_codes = vec!["c1".into(), "c2".into()];
    owner.updated_at = now();
    s.update(&owner).await.unwrap();
    let owner = s.find_by_email("ada@a.example").await.unwrap().unwrap();
    let spend = |code: &str| {
        let mut u = owner.clone();
        u.recovery_codes.retain(|c| c != code);
        u.updated_at = now() + Duration::milliseconds(1);
        u
    };
    let (first, second) = (spend("c1"), spend("c1"));
    let (x, y) = tokio::join!(
        s.swap_recovery_codes(&first, &owner.recovery_codes),
        s.swap_recovery_codes(&second, &owner.recovery_codes)
    );
    assert!(x.unwrap() ^ y.unwrap(), "exactly one spender wins");
    let after = s.find_by_email("ada@a.example").await.unwrap().unwrap();
    assert_eq!(after.recovery_codes, vec!["c2".to_owned()]);
    assert!(
        !s.swap_recovery_codes(&spend("c1"), &owner.recovery_codes)
            .await
            .unwrap()
    );
}

async fn a_refresh_token_is_marked_used_once_and_its_family_revokes_together(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (t, owner) = tenant(s, "ada@a.example", Some("h")).await;
    let owner = owner.unwrap();
    let family = Uuid::now_v7();
    let now = now();
    let (first, secret) = RefreshToken::issue(t, owner.id, family, now);
    let (second, _) = RefreshToken::issue(t, owner.id, family, now);
    RefreshTokenRepository::insert(s, &first).await.unwrap();
    RefreshTokenRepository::insert(s, &second).await.unwrap();
    let found = s.find_by_hash(&secret.hash()).await.unwrap().unwrap();
    assert_eq!(found.id, first.id);
    // Two racing refreshes: exactly one wins.
    let (x, y) = tokio::join!(s.mark_used(first.id, now), s.mark_used(first.id, now));
    assert!(x.unwrap() ^ y.unwrap());
    assert!(s.session_active(family).await.unwrap());
    s.revoke_family(family, now).await.unwrap();
    assert!(!s.session_active(family).await.unwrap());
    let after = s.find_by_hash(&second.hash).await.unwrap().unwrap();
    assert!(after.revoked_at.is_some());
}

async fn api_key_scopes_round_trip_and_revoking_is_tenant_scoped(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    let scopes = vec![Scope::parse("orders:write").unwrap()];
    let (key, secret) = ApiKey::generate_scoped(a, "shop", Some(scopes.clone()), now());
    ApiKeyRepository::create(s, &key).await.unwrap();
    let active = s
        .find_active_by_hash(&secret.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((active.tenant_id, active.scopes), (a, Some(scopes)));
    let listed = ApiKeyRepository::list(s, a).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed.iter().filter(|k| k.scopes.is_none()).count(),
        1,
        "the sign-up key is full access"
    );
    assert!(
        !s.revoke(b, key.id, now()).await.unwrap(),
        "another tenant cannot revoke it"
    );
    assert!(
        s.find_active_by_hash(&secret.hash())
            .await
            .unwrap()
            .is_some()
    );
    assert!(s.revoke(a, key.id, now()).await.unwrap());
    assert!(!s.revoke(a, key.id, now()).await.unwrap(), "once");
    assert!(
        s.find_active_by_hash(&secret.hash())
            .await
            .unwrap()
            .is_none()
    );
}

fn entry(tenant: TenantId, action: &str, outcome: u16) -> AuditEntry {
    AuditEntry {
        id: Uuid::now_v7(),
        tenant_id: Some(tenant),
        actor: "user:x".into(),
        action: action.into(),
        target: Some("/api/v1/x".into()),
        request_id: "req".into(),
        outcome,
        occurred_at: now(),
    }
}

async fn the_audit_log_pages_newest_first_filters_and_stays_in_its_tenant(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    let mut entries: Vec<_> = (0..5)
        .map(|i| entry(a, &format!("POST /api/v1/orders#{i}"), 201))
        .collect();
    entries.push(entry(a, "DELETE /api/v1/webhooks/{id}", 404));
    entries.push(entry(b, "POST /api/v1/orders", 201));
    s.append_audit(&entries).await.unwrap();
    let all = AuditFilter::default();
    let first = s
        .list_audit(a, &all, PageRequest::new(None, Some(4)))
        .await
        .unwrap();
    assert_eq!(first.items[0].action, "DELETE /api/v1/webhooks/{id}");
    let second = s
        .list_audit(a, &all, PageRequest::new(first.next_cursor, Some(4)))
        .await
        .unwrap();
    assert_eq!(first.items.len() + second.items.len(), 6);
    assert!(second.next_cursor.is_none());
    let failed = AuditFilter {
        failed: Some(true),
        ..Default::default()
    };
    assert_eq!(
        s.list_audit(a, &failed, PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let orders = AuditFilter {
        action_prefix: Some("POST /api/v1/orders".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_audit(a, &orders, PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .len(),
        5
    );
    let future = AuditFilter {
        since: Some(now() + Duration::hours(1)),
        ..Default::default()
    };
    assert!(
        s.list_audit(a, &future, PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn place(store: &SqlStore, t: TenantId, email: Option<&str>) -> order::Order {
    let inventory = InventoryService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        SystemClock,
    );
    let ctx = RequestContext::new(t, "test");
    let _ = inventory
        .register_product(
            &ctx,
            NewProduct {
                sku: "SKU-1".into(),
                name: "One".into(),
                ..Default::default()
            },
        )
        .await;
    let orders = OrderService::new(store.clone(), store.clone(), SystemClock);
    let draft = NewOrder {
        hold_id: None,
        service_level: Default::default(),
        channel: None,
        external_id: None,
        allow_backorder: true,
        ship_to: Address {
            name: "Grace Hopper".into(),
            line1: "1 Navy Way".into(),
            city: "Arlington".into(),
            country: "US".into(),
            phone: Some("+1 555 0100".into()),
            email: email.map(str::to_owned),
            ..Default::default()
        },
        lines: vec![NewOrderLine {
            sku: "SKU-1".into(),
            quantity: 2,
            unit_price_minor: 999,
            currency: "USD".into(),
        }],
    };
    match orders.place(&ctx, draft, None).await.unwrap() {
        Placement::Created(o) => o,
        _ => panic!("expected a new order"),
    }
}

async fn erasing_a_customer_anonymises_their_orders_and_keeps_totals(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    let mine = place(s, a, Some("grace@navy.example")).await;
    let other = place(s, a, Some("someone@else.example")).await;
    let foreign = place(s, b, Some("grace@navy.example")).await;
    assert_eq!(s.erase_customer(a, "Grace@Navy.example").await.unwrap(), 1);
    use order::ports::OrderQueries;
    let erased = OrderQueries::get(s, a, mine.id).await.unwrap().unwrap();
    assert_eq!(erased.ship_to.name, "erased");
    assert_eq!(erased.ship_to.email, None);
    assert_eq!(erased.ship_to.phone, None);
    let by_email = order::ports::OrderFilter {
        customer_email: Some("grace@navy.example".into()),
        ..Default::default()
    };
    let found = OrderQueries::list(
        s,
        a,
        &by_email,
        order::ports::OrderSort::Newest,
        kernel::PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert!(found.items.is_empty(), "the e-mail is searchable no more");
    assert_eq!(erased.ship_to.country, "US");
    assert_eq!(erased.total, mine.total);
    assert_eq!(erased.lines, mine.lines);
    assert_eq!(erased.version, mine.version + 1, "a change like any other");
    assert_eq!(
        OrderQueries::get(s, a, other.id)
            .await
            .unwrap()
            .unwrap()
            .ship_to,
        other.ship_to
    );
    assert_eq!(
        OrderQueries::get(s, b, foreign.id)
            .await
            .unwrap()
            .unwrap()
            .ship_to,
        foreign.ship_to,
        "other tenant untouched"
    );
}

async fn order_quota_counts_only_todays_orders_of_the_tenant(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    let start = now() - Duration::seconds(1);
    place(s, a, None).await;
    place(s, a, None).await;
    place(s, b, None).await;
    assert_eq!(s.orders_since(a, start).await.unwrap(), 2);
    assert_eq!(
        s.orders_since(a, now() + Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.sku_count(a).await.unwrap(), 1);
}

/// Row-level security, proven with a role that is neither superuser nor table owner (both
/// bypass policies): without the tenant setting it sees nothing; with it, only that tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_level_security_hides_other_tenants_rows_from_a_plain_role_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    place(s, a, None).await;
    place(s, a, None).await;
    place(s, b, None).await;
    // Creating roles and switching to them takes the superuser (the store runs as tote_app).
    let su = superuser(&db).await;
    let conn = su.connection();
    // Roles are cluster-wide: create it once, tolerate a concurrent test doing the same.
    conn.execute_unprepared(
        "DO $$ BEGIN CREATE ROLE tote_rls_probe NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .await
    .unwrap();
    conn.execute_unprepared(
        "GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO tote_rls_probe",
    )
    .await
    .unwrap();
    // Every tenant table, found dynamically, has the policy.
    let uncovered = conn
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM information_schema.columns c \
             JOIN pg_class k ON k.relname = c.table_name AND k.relkind = 'r' \
             WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() \
             AND NOT k.relrowsecurity",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(uncovered, 0, "a tenant table without row-level security");

    let count = |setting: Option<String>, bypass: bool| async move {
        let tx = conn.begin().await.unwrap();
        tx.execute_unprepared("SET LOCAL ROLE tote_rls_probe")
            .await
            .unwrap();
        if let Some(t) = setting {
            tx.execute_unprepared(&format!("SELECT set_config('app.tenant_id', '{t}', true)"))
                .await
                .unwrap();
        }
        if bypass {
            tx.execute_unprepared("SELECT set_config('app.bypass_rls', 'on', true)")
                .await
                .unwrap();
        }
        let n = tx
            .query_one(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT count(*) AS n FROM orders",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        // A write aimed at the other tenant's rows touches nothing.
        let touched = tx
            .execute_unprepared(&format!(
                "UPDATE orders SET version = version WHERE tenant_id = '{b}'"
            ))
            .await
            .map(|r| r.rows_affected())
            .unwrap_or(u64::MAX);
        tx.rollback().await.unwrap();
        (n, touched)
    };
    assert_eq!(
        count(None, false).await.0,
        0,
        "no tenant set: nothing visible"
    );
    let (seen, touched) = count(Some(a.into_uuid().to_string()), false).await;
    assert_eq!(seen, 2, "tenant A sees its own two orders only");
    assert_eq!(touched, 0, "and cannot update tenant B's");
    assert_eq!(
        count(None, true).await.0,
        3,
        "the deliberate bypass sees all"
    );
    su.close().await.ok();
}

async fn superuser(db: &TestDb) -> SqlStore {
    SqlStore::connect(&sql::SqlConfig {
        url: db.superuser_url().expect("a PostgreSQL test database"),
        max_connections: 2,
    })
    .await
    .unwrap()
}

/// The app's own role owns the tables (it ran the migrations) yet is bound by the policies:
/// they are forced. Outside any tenant setting a raw query sees no order although two tenants
/// have some; with `app.tenant_id` it sees that tenant's only; and a row written for another
/// tenant under a tenant setting is refused by the policy's `WITH CHECK`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_row_level_security_binds_the_owner_role_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    place(s, a, None).await;
    place(s, a, None).await;
    place(s, b, None).await;
    let conn = s.connection();
    let scalar = |sql: String| async move {
        conn.query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql,
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    // The store's connection is the owner, and neither superuser nor BYPASSRLS.
    assert_eq!(
        scalar(
            "SELECT count(*) AS n FROM pg_roles r JOIN pg_class c ON c.relowner = r.oid \
             WHERE c.relname = 'orders' AND r.rolname = current_user \
             AND NOT r.rolsuper AND NOT r.rolbypassrls"
                .into()
        )
        .await,
        1,
        "the test store connects as the tables' owner, a plain role"
    );
    assert_eq!(
        scalar(
            "SELECT count(*) AS n FROM information_schema.columns c \
             JOIN pg_class k ON k.relname = c.table_name AND k.relkind = 'r' \
             WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() \
             AND NOT (k.relrowsecurity AND k.relforcerowsecurity)"
                .into()
        )
        .await,
        0,
        "a tenant table whose row-level security is not forced"
    );
    assert_eq!(
        scalar("SELECT count(*) AS n FROM orders".into()).await,
        0,
        "no tenant set: the owner sees no order"
    );
    let su = superuser(&db).await;
    let all = su
        .connection()
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM orders",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(all, 3, "the orders are there (the superuser sees them)");
    su.close().await.ok();

    let tx = conn.begin().await.unwrap();
    tx.execute_unprepared(&format!(
        "SELECT set_config('app.tenant_id', '{}', true)",
        a.into_uuid()
    ))
    .await
    .unwrap();
    let n = tx
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM orders",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(n, 2, "tenant A sees its own two orders only");
    // The per-request API-key look-up sets the bypass for its own query only, then puts the
    // setting back: the rest of the transaction is still A's alone.
    let keys = tx
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM api_keys k \
             WHERE EXISTS (SELECT 1 FROM tote_active_api_key(k.hash))",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(keys, 1, "A's key is visible, and the function finds it");
    let after = tx
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM orders",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(after, 2, "the look-up's bypass did not outlive its query");
    // A copy of one of A's orders, once for A (accepted), once for B (refused).
    tx.execute_unprepared("CREATE TEMP TABLE copy ON COMMIT DROP AS SELECT * FROM orders LIMIT 1")
        .await
        .unwrap();
    tx.execute_unprepared("UPDATE copy SET id = gen_random_uuid(), external_id = NULL")
        .await
        .unwrap();
    tx.execute_unprepared("INSERT INTO orders SELECT * FROM copy")
        .await
        .expect("a row of the tenant set is accepted");
    tx.execute_unprepared(&format!(
        "UPDATE copy SET id = gen_random_uuid(), tenant_id = '{}'",
        b.into_uuid()
    ))
    .await
    .unwrap();
    let refused = tx
        .execute_unprepared("INSERT INTO orders SELECT * FROM copy")
        .await
        .expect_err("a row of another tenant is refused");
    assert!(
        refused
            .to_string()
            .contains("violates row-level security policy"),
        "{refused}"
    );
    tx.rollback().await.unwrap();
}

/// The units of work set `app.tenant_id` on their transaction: connected as a plain role that
/// row-level security applies to, counting stock and placing an order (the hot path) work for
/// the tenant's own rows, and another tenant's unit of work cannot reach them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_of_work_run_under_row_level_security_as_a_plain_role_on_postgres() {
    use inventory::service::SetCountedQuantity;
    use inventory::{InventoryError, ports::StockQueries};
    use kernel::{Quantity, Sku};
    let db = TestDb::new(Backend::Postgres).await;
    let s = &db.store;
    let (a, _) = tenant(s, "a@a.example", None).await;
    let (b, _) = tenant(s, "b@b.example", None).await;
    place(s, a, None).await; // registers SKU-1 for A (as the owner connection)
    let su = superuser(&db).await;
    let conn = su.connection();
    conn.execute_unprepared(
        "DO $$ BEGIN CREATE ROLE tote_rls_app LOGIN NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .await
    .unwrap();
    conn.execute_unprepared(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tote_rls_app",
    )
    .await
    .unwrap();
    let url = testkit::with_user(&db.url, "tote_rls_app");
    let app = SqlStore::connect(&sql::SqlConfig {
        url,
        max_connections: 4,
    })
    .await
    .unwrap();
    let inventory = InventoryService::new(
        app.clone(),
        app.clone(),
        app.clone(),
        app.clone(),
        SystemClock,
    );
    let count = |t: TenantId, n: i64| {
        let inventory = &inventory;
        async move {
            inventory
                .set_counted_quantity(
                    &RequestContext::new(t, "test"),
                    SetCountedQuantity {
                        warehouse: None,
                        sku: Sku::parse("SKU-1").unwrap(),
                        on_hand: Quantity::new(n).unwrap(),
                        reason: "count".into(),
                        expected_version: None,
                    },
                )
                .await
        }
    };
    let level = count(a, 10)
        .await
        .expect("A counts its own stock under RLS");
    assert_eq!(level.on_hand.get(), 10);
    assert!(matches!(
        count(b, 0).await,
        Err(InventoryError::UnknownSku(_))
    ));

    let orders = OrderService::new(app.clone(), app.clone(), SystemClock);
    let draft = NewOrder {
        hold_id: None,
        service_level: Default::default(),
        channel: None,
        external_id: None,
        allow_backorder: false,
        ship_to: Address {
            name: "Grace Hopper".into(),
            line1: "1 Navy Way".into(),
            city: "Arlington".into(),
            country: "US".into(),
            ..Default::default()
        },
        lines: vec![NewOrderLine {
            sku: "SKU-1".into(),
            quantity: 3,
            unit_price_minor: 999,
            currency: "USD".into(),
        }],
    };
    let placed = orders
        .place(&RequestContext::new(a, "test"), draft, None)
        .await
        .expect("order placement runs under RLS");
    let Placement::Created(order) = placed else {
        panic!("expected a new order")
    };
    assert_eq!(order.status, order::OrderStatus::Allocated);
    // Checked through the owner connection: A's stock moved, nothing else did.
    let sku = Sku::parse("SKU-1").unwrap();
    let level = StockQueries::levels(s, a, &sku).await.unwrap().remove(0);
    assert_eq!((level.on_hand.get(), level.reserved.get()), (10, 3));
    // Reads set their tenant too: A's read finds the order, B's does not, and a raw query
    // outside any tenant setting sees nothing — the wall is up for this role.
    use order::ports::OrderQueries;
    assert!(
        OrderQueries::get(&app, a, order.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        OrderQueries::get(&app, b, order.id)
            .await
            .unwrap()
            .is_none()
    );
    let raw = app
        .connection()
        .query_one(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM orders",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(raw, 0);
    app.close().await.ok();
    su.close().await.ok();
}
