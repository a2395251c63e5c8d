//! The role × route matrix (`apps/tote/src/access.rs`), called for real: every route as every
//! role, as full-access and scoped API keys, with no credentials, and with swapped methods.
//! A documented route without a matrix row fails here, loudly.

use e2e::{ADMIN_TOKEN, spawn_app_with};
use identity::{Grant, Role, Scope};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;
use testkit::Backend;
use tote::access::{Access, Decision, RULES, decide};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A concrete path for a pattern: SKUs and consumers by name, every other parameter a UUID
/// (of nothing: allowed calls then answer 404 or 400, never 401/403).
fn fill(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').expect("closed parameter");
        out.push_str(&rest[..start]);
        out.push_str(match &rest[start + 1..end] {
            "sku" => "NO-SUCH-SKU",
            "consumer" => "no-such-consumer",
            _ => "",
        });
        if !matches!(&rest[start + 1..end], "sku" | "consumer") {
            out.push_str(&uuid::Uuid::now_v7().to_string());
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Status only: never reads the body (the event stream never ends).
async fn status_of(
    app: &e2e::TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> StatusCode {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method.clone(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if method != Method::GET && method != Method::DELETE {
        req = req.json(&json!({}));
    }
    let response = req
        .timeout(std::time::Duration::from_secs(20))
        .send()
        .await
        .expect("sent");
    response.status()
}

struct Principal {
    name: String,
    token: Option<String>,
    grant: Option<Grant>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_caller_exactly_as_the_matrix_says() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("TOTE_LOGIN_ATTEMPTS_PER_MINUTE", "1000"),
            ("TOTE_ADMIN_TOKEN", ADMIN_TOKEN),
        ],
    )
    .await;
    let (seller, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let mut principals = vec![
        Principal {
            name: "anonymous".into(),
            token: None,
            grant: None,
        },
        Principal {
            name: "owner".into(),
            token: Some(owner.access.clone()),
            grant: Some(Grant::Role(Role::Owner)),
        },
        Principal {
            name: "full-access key".into(),
            token: Some(seller.api_key.clone()),
            grant: Some(Grant::Scopes(None)),
        },
    ];
    for role in [
        Role::Admin,
        Role::Manager,
        Role::WarehouseStaff,
        Role::Viewer,
    ] {
        let s = app
            .user_with_role(&owner, &format!("{role}@acme.example"), role.as_str())
            .await;
        principals.push(Principal {
            name: role.to_string(),
            token: Some(s.access),
            grant: Some(Grant::Role(role)),
        });
    }
    let scopes: BTreeSet<String> = RULES
        .iter()
        .filter_map(|r| match r.access {
            Access::Tenant { scope: Some(s), .. } => Some(s.to_string()),
            _ => None,
        })
        .chain(["warehouses:read".to_owned()])
        .collect();
    for scope in &scopes {
        let key = app.scoped_key(&seller, &[scope.as_str()]).await;
        principals.push(Principal {
            name: format!("key[{scope}]"),
            token: Some(key),
            grant: Some(Grant::Scopes(Some(vec![Scope::parse(scope).unwrap()]))),
        });
    }
    principals.push(Principal {
        name: "operator".into(),
        token: Some(ADMIN_TOKEN.into()),
        grant: None,
    });

    let mut checked = 0;
    for rule in RULES {
        for p in &principals {
            let path = fill(rule.pattern);
            let status = status_of(&app, rule.method, &path, p.token.as_deref()).await;
            let what = format!("{} {} as {}", rule.method, rule.pattern, p.name);
            assert!(!status.is_server_error(), "{what}: {status}");
            match (rule.access, &p.grant) {
                (Access::Public, _) => {
                    assert!(status != StatusCode::FORBIDDEN, "{what}: {status}");
                }
                (Access::Operator, _) => {
                    let operator = p.name == "operator";
                    assert_eq!(
                        status == StatusCode::UNAUTHORIZED,
                        !operator,
                        "{what}: {status}"
                    );
                }
                (Access::AnyCaller, grant) => {
                    let expected_401 = grant.is_none();
                    assert_eq!(
                        status == StatusCode::UNAUTHORIZED,
                        expected_401,
                        "{what}: {status}"
                    );
                    assert!(status != StatusCode::FORBIDDEN, "{what}: {status}");
                }
                (Access::Tenant { .. }, None) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                }
                (Access::Tenant { roles, scope }, Some(grant)) => {
                    if grant.allows(roles, scope) {
                        // Let through: whatever the handler says, it is not the guard's refusal
                        // (TOTP belongs to users, so a key gets the handler's 403 there).
                        let totp_by_key =
                            rule.pattern.contains("/totp/") && matches!(grant, Grant::Scopes(_));
                        assert!(
                            status != StatusCode::UNAUTHORIZED
                                && (status != StatusCode::FORBIDDEN || totp_by_key),
                            "{what}: allowed by the matrix, got {status}"
                        );
                    } else {
                        assert_eq!(
                            status,
                            StatusCode::FORBIDDEN,
                            "{what}: denied by the matrix"
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= RULES.len() * principals.len());

    // Method swaps: a method a route does not have is never let through to anything.
    let patterns: BTreeSet<&str> = RULES.iter().map(|r| r.pattern).collect();
    for pattern in patterns {
        for method in METHODS {
            if RULES
                .iter()
                .any(|r| r.pattern == pattern && r.method == method)
            {
                continue;
            }
            for token in [
                Some(owner.access.as_str()),
                Some(seller.api_key.as_str()),
                None,
            ] {
                let status = status_of(&app, method, &fill(pattern), token).await;
                assert!(
                    status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {pattern}: {status}"
                );
            }
        }
    }
}

/// Every documented route (the OpenAPI document is generated from the handlers) has a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_has_a_row_in_the_access_matrix() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let paths = doc.body["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method.to_ascii_lowercase()).is_some()
                && !matches!(decide(method, path), Decision::Rule(_))
            {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a row in apps/tote/src/access.rs (deny by default: they answer 403 to \
         everyone until you add one): {missing:#?}"
    );
    assert!(paths.len() >= 20);
}
