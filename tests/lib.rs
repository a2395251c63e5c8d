//! Helpers for end-to-end tests: [`spawn_app`] starts the real application on port 0 against a
//! fresh database of its own, and [`TestApp`] speaks HTTP to it.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use testkit::{Backend, TestDb};
use tote::config::Settings;
use tote::startup::Application;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

/// The password test users get.
pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in user's tokens.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

/// A fresh Ed25519 key in a temporary PEM file: `(TOTE_JWT_KEYS value, private PEM)`.
pub fn jwt_key_file(kid: &str) -> (String, String) {
    let pem = tote::jwt::KeySet::generate_pem();
    let path =
        std::env::temp_dir().join(format!("tote_t_jwt_{}.pem", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, &pem).expect("write key");
    (format!("{kid}={}", path.display()), pem)
}

/// A signed-up seller: its tenant id and API key.
#[derive(Clone)]
pub struct Seller {
    pub tenant_id: String,
    pub api_key: String,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// The operator token test apps get from [`spawn_app_with`] when asked.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef0123456789";

/// Like [`spawn_app`], with extra configuration variables.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(backend).await;
    let url = db.url.clone();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mail_dir = std::env::temp_dir()
        .join(format!("tote_t_mail_{}", uuid::Uuid::now_v7().simple()))
        .display()
        .to_string();
    let settings = Settings::from_lookup(|name| match name {
        "TOTE_HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(url.clone()),
        "TOTE_OUTBOX_POLL_MS" => Some("20".into()),
        other => extra
            .iter()
            .find(|(k, _)| k == other)
            .map(|(_, v)| v.clone())
            // Customer e-mails of tests go to a temporary folder, never into the work tree.
            .or_else(|| (other == "TOTE_MAIL_DIR").then(|| mail_dir.clone())),
    })
    .expect("test settings");
    let app = Application::build(settings).await.expect("app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client"),
        db,
    }
}

/// A reply, read whole: status, headers and JSON body (Null when there is none).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    /// The raw body (PDF labels, ZPL).
    pub bytes: Vec<u8>,
}

impl Reply {
    async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Self {
            status,
            headers,
            body,
            bytes: bytes.to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status, and returns its `type` slug.
    pub fn assert_problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        let kind = self.body["type"].as_str().expect("type");
        kind.rsplit('/').next().unwrap_or(kind).to_owned()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("request sent")).await
    }

    pub async fn signup(&self, company: &str) -> Seller {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({ "company": company, "email": "owner@example.com" })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        Seller {
            tenant_id: reply.body["tenant_id"].as_str().unwrap().to_owned(),
            api_key: reply.body["api_key"].as_str().unwrap().to_owned(),
        }
    }

    /// Signs up with a password (so an owner user exists) and logs the owner in.
    pub async fn signup_owner(&self, company: &str, email: &str) -> (Seller, Session) {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({ "company": company, "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let seller = Seller {
            tenant_id: reply.body["tenant_id"].as_str().unwrap().to_owned(),
            api_key: reply.body["api_key"].as_str().unwrap().to_owned(),
        };
        let session = self.login(email, PASSWORD).await;
        (seller, session)
    }

    /// Logs in; panics unless it works.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let reply = self.try_login(email, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        Session {
            access: reply.body["access_token"].as_str().unwrap().to_owned(),
            refresh: reply.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    /// Adds a user with `role` (as the owner's session) and logs them in.
    pub async fn user_with_role(&self, owner: &Session, email: &str, role: &str) -> Session {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/users",
                Some(&owner.access),
                Some(json!({ "email": email, "role": role, "password": PASSWORD })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        self.login(email, PASSWORD).await
    }

    /// A new API key with these scopes (as the seller's full-access key).
    pub async fn scoped_key(&self, seller: &Seller, scopes: &[&str]) -> String {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/api-keys",
                Some(&seller.api_key),
                Some(json!({ "name": "integration", "scopes": scopes })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["api_key"].as_str().unwrap().to_owned()
    }

    pub async fn create_product(&self, seller: &Seller, sku: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/products",
            Some(&seller.api_key),
            Some(json!({ "sku": sku, "name": format!("Product {sku}") })),
        )
        .await
    }

    pub async fn set_stock(&self, seller: &Seller, sku: &str, on_hand: i64) -> Reply {
        self.call(
            Method::PUT,
            &format!("/api/v1/inventory/{sku}/quantity"),
            Some(&seller.api_key),
            Some(json!({ "on_hand": on_hand, "reason": "test stock" })),
        )
        .await
    }

    pub async fn stock(&self, seller: &Seller, sku: &str) -> Value {
        let reply = self
            .call(
                Method::GET,
                &format!("/api/v1/inventory/{sku}"),
                Some(&seller.api_key),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    }

    pub async fn place_order(&self, seller: &Seller, body: Value) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/orders",
            Some(&seller.api_key),
            Some(body),
        )
        .await
    }
}

/// A valid order body for these lines of `(sku, quantity)`.
pub fn order_body(lines: &[(&str, i64)]) -> Value {
    json!({
        "ship_to": {
            "name": "Ada Lovelace",
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB"
        },
        "lines": lines.iter().map(|(sku, quantity)| json!({
            "sku": sku,
            "quantity": quantity,
            "unit_price": { "amount_minor": 1999, "currency": "GBP" }
        })).collect::<Vec<_>>()
    })
}
