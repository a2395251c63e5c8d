//! Users, logins and tokens over HTTP: rotation and reuse detection, logout, JWT attacks, TOTP,
//! user management, scoped keys, and mass assignment.

use crate::on_both_databases;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use e2e::{PASSWORD, jwt_key_file, order_body, spawn_app, spawn_app_with};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    refresh_rotates_and_a_reused_token_revokes_the_family_and_logout_ends_the_session,
    totp_guards_an_owner_login_with_codes_and_one_time_recovery_codes,
    deactivating_or_demoting_a_user_ends_their_sessions,
    scoped_keys_reach_only_their_scopes_and_revoked_keys_nothing,
);

async fn me(app: &e2e::TestApp, token: &str) -> e2e::Reply {
    app.call(Method::GET, "/api/v1/auth/me", Some(token), None)
        .await
}

async fn refresh(app: &e2e::TestApp, token: &str) -> e2e::Reply {
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({ "refresh_token": token })),
    )
    .await
}

async fn refresh_rotates_and_a_reused_token_revokes_the_family_and_logout_ends_the_session(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (seller, first) = app.signup_owner("Acme", "owner@acme.example").await;
    let who = me(&app, &first.access).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.body);
    assert_eq!(who.body["role"], "owner");
    assert_eq!(who.body["tenant_id"], seller.tenant_id.as_str());

    let reply = refresh(&app, &first.refresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let second = reply.body["refresh_token"].as_str().unwrap().to_owned();
    let second_access = reply.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first.refresh);
    assert_eq!(me(&app, &second_access).await.status, StatusCode::OK);

    // The first token again: reuse. Refused, and the whole family with it.
    assert_eq!(
        refresh(&app, &first.refresh).await.assert_problem(401),
        "invalid-refresh-token"
    );
    assert_eq!(
        refresh(&app, &second).await.assert_problem(401),
        "invalid-refresh-token"
    );
    assert_eq!(
        me(&app, &second_access).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A new login, then logout: the access token and refresh token both stop working.
    let session = app.login("owner@acme.example", PASSWORD).await;
    assert_eq!(me(&app, &session.access).await.status, StatusCode::OK);
    let out = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({ "refresh_token": session.refresh })),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        me(&app, &session.access).await.assert_problem(401),
        "unauthenticated"
    );
    assert_eq!(
        refresh(&app, &session.refresh).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Wrong password and unknown email look the same.
    let a = app
        .try_login("owner@acme.example", "wrong password!!")
        .await;
    let b = app.try_login("nobody@acme.example", PASSWORD).await;
    assert_eq!(a.assert_problem(401), "invalid-credentials");
    assert_eq!(a.body["detail"], b.body["detail"]);
    // The sign-up key still works (full access).
    let orders = app
        .call(Method::GET, "/api/v1/orders", Some(&seller.api_key), None)
        .await;
    assert_eq!(orders.status, StatusCode::OK);
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn sign(pem: &str, kid: &str, typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Every forged or broken token is refused with a 401; a correctly made one is accepted (so
/// the forgeries fail for the reason they test, not because the test is wrong).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jwt_attacks_are_all_refused() {
    let (spec, pem) = jwt_key_file("k1");
    let app = spawn_app_with(Backend::Sqlite, &[("TOTE_JWT_KEYS", spec.as_str())]).await;
    let (_, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let viewer = app
        .user_with_role(&owner, "viewer@acme.example", "viewer")
        .await;
    let genuine = payload_of(&viewer.access);
    assert_eq!(genuine["role"], "viewer");
    let header_of = |t: &str| -> Value {
        serde_json::from_slice(&B64.decode(t.split('.').next().unwrap()).unwrap()).unwrap()
    };
    assert_eq!(header_of(&viewer.access)["kid"], "k1");
    assert_eq!(header_of(&viewer.access)["alg"], "EdDSA");

    let with = |patch: Value| {
        let mut c = genuine.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    // Control: our key, our claims, fresh times → accepted.
    let control = sign(
        &pem,
        "k1",
        Some("at+jwt"),
        &with(json!({ "iat": now(), "nbf": now(), "exp": now() + 600 })),
    );
    assert_eq!(me(&app, &control).await.status, StatusCode::OK);

    let (_, payload, _) = {
        let mut parts = viewer.access.split('.');
        (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        )
    };
    let mut forged: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = B64.encode(format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"k1"}}"#));
        forged.push((format!("alg {alg}"), format!("{header}.{payload}.")));
        forged.push((format!("alg {alg}, no dot"), format!("{header}.{payload}")));
    }
    // HS256 keyed with our public key (the classic RS/HS confusion).
    let public = tote::jwt::KeySet::from_pems(&[("k1".into(), pem.clone())])
        .unwrap()
        .public_pem("k1")
        .unwrap()
        .to_owned();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    hs.typ = Some("at+jwt".into());
    let elevated = with(json!({ "role": "owner" }));
    forged.push((
        "HS256 with our public key".into(),
        jsonwebtoken::encode(&hs, &elevated, &EncodingKey::from_secret(public.as_bytes())).unwrap(),
    ));
    forged.push((
        "expired".into(),
        sign(
            &pem,
            "k1",
            Some("at+jwt"),
            &with(json!({ "iat": now() - 1200, "nbf": now() - 1200, "exp": now() - 300 })),
        ),
    ));
    forged.push((
        "not yet valid".into(),
        sign(
            &pem,
            "k1",
            Some("at+jwt"),
            &with(json!({ "nbf": now() + 600, "exp": now() + 1200 })),
        ),
    ));
    forged.push((
        "wrong aud".into(),
        sign(
            &pem,
            "k1",
            Some("at+jwt"),
            &with(json!({ "aud": "someone-else" })),
        ),
    ));
    forged.push((
        "wrong iss".into(),
        sign(
            &pem,
            "k1",
            Some("at+jwt"),
            &with(json!({ "iss": "https://evil.example" })),
        ),
    ));
    forged.push(("no exp".into(), {
        let mut c = genuine.clone();
        c.as_object_mut().unwrap().remove("exp");
        sign(&pem, "k1", Some("at+jwt"), &c)
    }));
    forged.push(("wrong typ".into(), sign(&pem, "k1", Some("JWT"), &genuine)));
    forged.push(("no typ".into(), sign(&pem, "k1", None, &genuine)));
    forged.push((
        "unknown kid".into(),
        sign(&pem, "k2", Some("at+jwt"), &genuine),
    ));
    forged.push((
        "kid as a URL".into(),
        sign(
            &pem,
            "https://evil.example/jwks.json",
            Some("at+jwt"),
            &genuine,
        ),
    ));
    let stranger = tote::jwt::KeySet::generate_pem();
    forged.push((
        "a stranger's key under our kid".into(),
        sign(&stranger, "k1", Some("at+jwt"), &elevated),
    ));
    // Tampered payload: the viewer makes itself owner and keeps the signature.
    let mut parts: Vec<String> = viewer.access.split('.').map(str::to_owned).collect();
    parts[1] = B64.encode(elevated.to_string());
    forged.push(("tampered payload".into(), parts.join(".")));
    forged.push(("garbage".into(), "not.a.jwt".into()));

    for (what, token) in forged {
        let reply = me(&app, &token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            reply.body
        );
        assert_eq!(reply.assert_problem(401), "unauthenticated", "{what}");
    }
    // The viewer is still only a viewer.
    let attempt = app
        .call(Method::GET, "/api/v1/users", Some(&viewer.access), None)
        .await;
    assert_eq!(attempt.assert_problem(403), "forbidden");
    let _ = std::fs::remove_file(spec.split_once('=').unwrap().1);
}

async fn totp_guards_an_owner_login_with_codes_and_one_time_recovery_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let enrol = app
        .call(
            Method::POST,
            "/api/v1/auth/totp/enrol",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    let secret = enrol.body["secret"].as_str().unwrap().to_owned();
    assert!(
        enrol.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let bad = app
        .call(
            Method::POST,
            "/api/v1/auth/totp/confirm",
            Some(&owner.access),
            Some(json!({ "code": "abc" })),
        )
        .await;
    assert_eq!(bad.assert_problem(401), "invalid-second-factor");
    let code = identity::totp::code_at(&secret, now() as u64).unwrap();
    let confirm = app
        .call(
            Method::POST,
            "/api/v1/auth/totp/confirm",
            Some(&owner.access),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let recovery: Vec<String> =
        serde_json::from_value(confirm.body["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);

    let without = app.try_login("owner@acme.example", PASSWORD).await;
    assert_eq!(without.assert_problem(401), "second-factor-required");
    let login = |extra: Value| {
        let mut body = json!({ "email": "owner@acme.example", "password": PASSWORD });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.call(Method::POST, "/api/v1/auth/login", None, Some(body))
    };
    let code = identity::totp::code_at(&secret, now() as u64).unwrap();
    assert_eq!(
        login(json!({ "totp_code": code })).await.status,
        StatusCode::OK
    );
    assert_eq!(
        login(json!({ "recovery_code": recovery[0] })).await.status,
        StatusCode::OK
    );
    let again = login(json!({ "recovery_code": recovery[0] })).await;
    assert_eq!(
        again.assert_problem(401),
        "invalid-second-factor",
        "a recovery code works once"
    );
}

async fn deactivating_or_demoting_a_user_ends_their_sessions(backend: Backend) {
    let app = spawn_app_with(backend, &[("TOTE_LOGIN_ATTEMPTS_PER_MINUTE", "100")]).await;
    let (_, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let admin = app
        .user_with_role(&owner, "admin@acme.example", "admin")
        .await;
    let staff = app
        .user_with_role(&admin, "pat@acme.example", "warehouse_staff")
        .await;
    // Admins grant admin and below, never owner.
    let grab = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin.access),
            Some(json!({ "email": "o2@acme.example", "role": "owner", "password": PASSWORD })),
        )
        .await;
    assert_eq!(grab.assert_problem(403), "forbidden");
    let dup = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin.access),
            Some(json!({ "email": "PAT@acme.example", "role": "viewer", "password": PASSWORD })),
        )
        .await;
    assert_eq!(dup.assert_problem(409), "duplicate-email");
    let users = app
        .call(Method::GET, "/api/v1/users", Some(&admin.access), None)
        .await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 3);
    let pat_id = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "pat@acme.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        me(&app, &staff.access).await.body["role"],
        "warehouse_staff"
    );
    let demote = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{pat_id}"),
            Some(&admin.access),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK, "{}", demote.body);
    assert_eq!(demote.body["role"], "viewer");
    assert_eq!(
        me(&app, &staff.access).await.status,
        StatusCode::UNAUTHORIZED,
        "old role's token is dead"
    );
    let staff = app.login("pat@acme.example", PASSWORD).await;
    assert_eq!(me(&app, &staff.access).await.body["role"], "viewer");

    let off = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{pat_id}"),
            Some(&admin.access),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(off.body["active"], false);
    assert_eq!(
        me(&app, &staff.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("pat@acme.example", PASSWORD)
            .await
            .assert_problem(401),
        "invalid-credentials"
    );
}

async fn scoped_keys_reach_only_their_scopes_and_revoked_keys_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Acme").await;
    app.create_product(&seller, "SKU-1").await;
    let key = app
        .scoped_key(&seller, &["orders:read", "inventory:write"])
        .await;
    let call = |m: Method, p: &'static str, body: Option<Value>| app.call(m, p, Some(&key), body);
    let who = me(&app, &key).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.body);
    assert_eq!(
        who.body["scopes"],
        json!(["orders:read", "inventory:write"])
    );
    assert!(who.body["role"].is_null());
    assert_eq!(
        call(Method::GET, "/api/v1/orders", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::GET, "/api/v1/inventory", None).await.status,
        StatusCode::OK,
        "write includes read"
    );
    let put = call(
        Method::PUT,
        "/api/v1/inventory/SKU-1/quantity",
        Some(json!({ "on_hand": 3, "reason": "count" })),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let refused = call(
        Method::POST,
        "/api/v1/orders",
        Some(order_body(&[("SKU-1", 1)])),
    )
    .await;
    assert_eq!(refused.assert_problem(403), "forbidden");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("orders:write")
    );
    assert_eq!(
        call(Method::GET, "/api/v1/products", None)
            .await
            .assert_problem(403),
        "forbidden"
    );
    assert_eq!(
        call(Method::GET, "/api/v1/users", None)
            .await
            .assert_problem(403),
        "forbidden"
    );
    assert_eq!(
        call(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({ "name": "x", "scopes": ["orders:write"] }))
        )
        .await
        .assert_problem(403),
        "forbidden",
        "a key cannot mint keys"
    );

    let keys = app
        .call(Method::GET, "/api/v1/api-keys", Some(&seller.api_key), None)
        .await;
    let items = keys.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|k| k.get("api_key").is_none() && k.get("hash").is_none()),
        "secrets never listed"
    );
    let scoped = items.iter().find(|k| k["scopes"].is_array()).unwrap();
    assert_eq!(scoped["scopes"], json!(["orders:read", "inventory:write"]));
    let id = scoped["id"].as_str().unwrap();
    let del = app
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(Method::GET, "/api/v1/orders", None)
            .await
            .assert_problem(401),
        "unauthenticated"
    );
    let bad = app
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&seller.api_key),
            Some(json!({ "name": "x", "scopes": ["root:all"] })),
        )
        .await;
    assert_eq!(bad.assert_problem(400), "validation-error");
}

/// Fields a caller must never set are refused (unknown fields are a 400), never applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mass_assignment_is_refused_and_nothing_is_applied() {
    let app = spawn_app(Backend::Sqlite).await;
    let (seller, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let other = app.signup("Other").await;
    app.create_product(&seller, "SKU-1").await;
    app.set_stock(&seller, "SKU-1", 5).await;
    let mut order = order_body(&[("SKU-1", 1)]);
    for (field, value) in [
        ("tenant_id", json!(other.tenant_id)),
        ("status", json!("shipped")),
        ("total", json!({ "amount_minor": 1, "currency": "GBP" })),
        ("id", json!(uuid::Uuid::now_v7())),
        ("version", json!(99)),
    ] {
        order[field] = value.clone();
        let reply = app.place_order(&seller, order.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.body
        );
        order.as_object_mut().unwrap().remove(field);
    }
    let mut line_reserved = order_body(&[("SKU-1", 1)]);
    line_reserved["lines"][0]["allocated"] = json!(1);
    assert_eq!(
        app.place_order(&seller, line_reserved).await.status,
        StatusCode::BAD_REQUEST
    );
    let orders = app
        .call(Method::GET, "/api/v1/orders", Some(&seller.api_key), None)
        .await;
    assert_eq!(orders.body["items"], json!([]), "nothing was placed");

    let count = app
        .call(
            Method::PUT,
            "/api/v1/inventory/SKU-1/quantity",
            Some(&seller.api_key),
            Some(json!({ "on_hand": 9, "reserved": 9, "reason": "x" })),
        )
        .await;
    assert_eq!(count.status, StatusCode::BAD_REQUEST);
    let stock = app.stock(&seller, "SKU-1").await;
    assert_eq!(
        (stock["on_hand"].clone(), stock["reserved"].clone()),
        (json!(5), json!(0))
    );

    let product = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&seller.api_key),
            Some(json!({ "sku": "SKU-2", "name": "Two", "tenant_id": other.tenant_id })),
        )
        .await;
    assert_eq!(product.status, StatusCode::BAD_REQUEST);
    let theirs = app
        .call(Method::GET, "/api/v1/products", Some(&other.api_key), None)
        .await;
    assert_eq!(theirs.body["items"], json!([]));

    let user = app
        .call(Method::POST, "/api/v1/users", Some(&owner.access),
            Some(json!({ "email": "x@acme.example", "role": "viewer", "password": PASSWORD, "tenant_id": other.tenant_id, "active": true })))
        .await;
    assert_eq!(user.status, StatusCode::BAD_REQUEST);
    let me_now = me(&app, &owner.access).await;
    let my_id = me_now.body["actor"]
        .as_str()
        .unwrap()
        .trim_start_matches("user:")
        .to_owned();
    let patch = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{my_id}"),
            Some(&owner.access),
            Some(json!({ "email": "evil@x.example", "tenant_id": other.tenant_id })),
        )
        .await;
    assert_eq!(patch.status, StatusCode::BAD_REQUEST);
    let signup = app
        .call(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({ "company": "X", "email": "x@x.example", "tenant_id": seller.tenant_id })),
        )
        .await;
    assert_eq!(signup.status, StatusCode::BAD_REQUEST);
    let key = app
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&seller.api_key),
            Some(json!({ "name": "x", "scopes": ["orders:read"], "tenant_id": other.tenant_id })),
        )
        .await;
    assert_eq!(key.status, StatusCode::BAD_REQUEST);
}
