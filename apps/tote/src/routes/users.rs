//! Users of your account (owners and admins manage them) and API keys.

use crate::auth::{Authenticated, Caller, Who};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use identity::account::Actor;
use identity::{ApiKey, User};
use kernel::ApiKeyId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    /// `owner`, `admin`, `manager`, `warehouse_staff` or `viewer`.
    pub role: String,
    #[schema(format = Password)]
    pub password: String,
}

/// Only these two fields change; anything else in the body is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<String>,
    /// `false` deactivates: the user cannot log in and every session ends.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            role: u.role.to_string(),
            active: u.active,
            totp_enabled: u.totp_enabled,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserResponse>,
}

fn actor(who: &Authenticated) -> Result<Actor, ApiError> {
    Ok(Actor {
        tenant_id: who.ctx.tenant_id,
        user_id: who.user_id,
        role: who
            .role()
            .ok_or_else(|| ApiError::forbidden("scoped API keys cannot manage users"))?,
    })
}

fn path_uuid(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

/// Adds a user. Admins grant admin and below; only owners grant owner.
#[utoipa::path(tag = "account", request_body = CreateUserRequest, security(("api_key" = [])),
    responses((status = 201, body = UserResponse), (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    Who(who): Who,
    body: web::Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .accounts
        .add_user(actor(&who)?, &body.email, &body.role, &body.password)
        .await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

#[utoipa::path(tag = "account", security(("api_key" = [])), responses((status = 200, body = UserList)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let users = state.accounts.list_users(ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(UserList {
        items: users.into_iter().map(UserResponse::from).collect(),
    }))
}

#[utoipa::path(tag = "account", params(("id" = uuid::Uuid, Path)), security(("api_key" = [])),
    responses((status = 200, body = UserResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .accounts
        .get_user(ctx.tenant_id, path_uuid(&id, "user")?)
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

/// Changes a user's role, or (de)activates them.
#[utoipa::path(tag = "account", params(("id" = uuid::Uuid, Path)), request_body = UpdateUserRequest, security(("api_key" = [])),
    responses((status = 200, body = UserResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    Who(who): Who,
    id: web::Path<String>,
    body: web::Json<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user = state
        .accounts
        .change_user(
            actor(&who)?,
            path_uuid(&id, "user")?,
            body.role.as_deref(),
            body.active,
        )
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    /// e.g. `["orders:write", "inventory:read"]`; areas: orders, inventory, products, webhooks,
    /// events, warehouses; `write` includes `read`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyResponse {
    pub id: uuid::Uuid,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// Absent: full access (the sign-up key).
    pub scopes: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Only in the creation response. Store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyResponse>,
}

fn key_response(k: ApiKey, secret: Option<String>) -> KeyResponse {
    KeyResponse {
        id: k.id.into_uuid(),
        name: k.name,
        prefix: k.prefix,
        scopes: k
            .scopes
            .map(|s| s.iter().map(ToString::to_string).collect()),
        created_at: k.created_at,
        revoked_at: k.revoked_at,
        api_key: secret,
    }
}

/// A new API key for an integration, limited to its scopes.
#[utoipa::path(tag = "account", request_body = CreateKeyRequest, security(("api_key" = [])), responses((status = 201, body = KeyResponse)))]
#[post("/api-keys")]
pub async fn create_key(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = state
        .identity
        .create_key(ctx.tenant_id, &body.name, &body.scopes)
        .await?;
    Ok(HttpResponse::Created().json(key_response(key, Some(secret.expose().to_owned()))))
}

#[utoipa::path(tag = "account", security(("api_key" = [])), responses((status = 200, body = KeyList)))]
#[get("/api-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let keys = state.identity.list_keys(ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(KeyList {
        items: keys.into_iter().map(|k| key_response(k, None)).collect(),
    }))
}

/// Revokes a key at once.
#[utoipa::path(tag = "account", params(("id" = uuid::Uuid, Path)), security(("api_key" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/api-keys/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ApiKeyId::from_uuid(path_uuid(&id, "API key")?);
    state.identity.revoke_key(ctx.tenant_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
