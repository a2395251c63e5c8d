//! Users of a tenant: login with password (and TOTP for those who enrolled), rotating refresh
//! tokens with reuse detection, logout, user management by owners and admins, TOTP enrolment.

use crate::password::{self, Password};
use crate::ports::{RefreshTokenRepository, UserRepository};
use crate::token::{
    ACCESS_TTL, AccessClaims, AccessTokenSigner, RefreshSecret, RefreshState, RefreshToken,
};
use crate::user::normalise_email;
use crate::{IdentityError, Role, User, totp};
use kernel::{Clock, StoreError, TenantId, ValidationErrors};
use uuid::Uuid;

/// What a login or a refresh hands out.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: RefreshSecret,
    pub expires_in: i64,
}

/// What a login offers besides the password.
#[derive(Debug, Default, Clone)]
pub struct SecondFactor {
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

/// Who asks for a user-management change.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub tenant_id: TenantId,
    /// `None`: a full-access API key (owner-equivalent).
    pub user_id: Option<Uuid>,
    pub role: Role,
}

pub struct AccountService<U, R, S, C> {
    users: U,
    tokens: R,
    signer: S,
    clock: C,
}

impl<U, R, S, C> AccountService<U, R, S, C>
where
    U: UserRepository,
    R: RefreshTokenRepository,
    S: AccessTokenSigner,
    C: Clock,
{
    pub fn new(users: U, tokens: R, signer: S, clock: C) -> Self {
        Self {
            users,
            tokens,
            signer,
            clock,
        }
    }

    /// Password (then second factor, if enrolled) → a new session.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        second: SecondFactor,
    ) -> Result<Tokens, IdentityError> {
        let offered = Password::offered(password);
        let email = email.trim().to_ascii_lowercase();
        let Some(mut user) = self.users.find_by_email(&email).await? else {
            password::verify_nothing(&offered);
            return Err(IdentityError::InvalidCredentials);
        };
        if !password::verify(&offered, &user.password_hash) || !user.active {
            return Err(IdentityError::InvalidCredentials);
        }
        if user.totp_enabled {
            self.second_factor(&mut user, second).await?;
        }
        self.start_session(&user, Uuid::now_v7()).await
    }

    async fn second_factor(
        &self,
        user: &mut User,
        second: SecondFactor,
    ) -> Result<(), IdentityError> {
        let now = self.clock.now().timestamp().max(0) as u64;
        if let Some(code) = second.totp_code {
            let secret = user.totp_secret.as_deref().unwrap_or_default();
            return if totp::check(secret, &code, now) {
                Ok(())
            } else {
                Err(IdentityError::InvalidSecondFactor)
            };
        }
        if let Some(code) = second.recovery_code {
            let hash = totp::hash_recovery(&code);
            let before = user.recovery_codes.clone();
            user.recovery_codes.retain(|h| h != &hash);
            if user.recovery_codes.len() == before.len() {
                return Err(IdentityError::InvalidSecondFactor);
            }
            user.updated_at = self.clock.now();
            return if self.users.swap_recovery_codes(user, &before).await? {
                Ok(())
            } else {
                Err(IdentityError::InvalidSecondFactor)
            };
        }
        Err(IdentityError::SecondFactorRequired)
    }

    async fn start_session(&self, user: &User, family: Uuid) -> Result<Tokens, IdentityError> {
        let now = self.clock.now();
        let (token, secret) = RefreshToken::issue(user.tenant_id, user.id, family, now);
        self.tokens.insert(&token).await?;
        let claims = AccessClaims {
            user_id: user.id,
            tenant_id: user.tenant_id,
            role: user.role,
            session_id: family,
            issued_at: now,
            expires_at: now + ACCESS_TTL,
        };
        let access_token = self
            .signer
            .sign(&claims)
            .map_err(|e| StoreError::new(format!("cannot sign an access token: {e}")))?;
        Ok(Tokens {
            access_token,
            refresh_token: secret,
            expires_in: ACCESS_TTL.num_seconds(),
        })
    }

    /// Rotates a refresh token. Presenting one that was already rotated revokes its family:
    /// the thief and the victim are both logged out, and the victim logs in again.
    pub async fn refresh(&self, raw: &str) -> Result<Tokens, IdentityError> {
        let secret = RefreshSecret::parse(raw.trim()).ok_or(IdentityError::InvalidRefreshToken)?;
        let token = self
            .tokens
            .find_by_hash(&secret.hash())
            .await?
            .ok_or(IdentityError::InvalidRefreshToken)?;
        let now = self.clock.now();
        match token.state(now) {
            RefreshState::Dead => return Err(IdentityError::InvalidRefreshToken),
            RefreshState::Reused => {
                self.tokens.revoke_family(token.family_id, now).await?;
                return Err(IdentityError::InvalidRefreshToken);
            }
            RefreshState::Fresh => {}
        }
        if !self.tokens.mark_used(token.id, now).await? {
            // Two requests raced with one token: at most one may win, and it is suspicious.
            self.tokens.revoke_family(token.family_id, now).await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let user = self
            .users
            .get(token.tenant_id, token.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(IdentityError::InvalidRefreshToken)?;
        self.start_session(&user, token.family_id).await
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored (idempotent).
    pub async fn logout(&self, raw: &str) -> Result<(), IdentityError> {
        let Some(secret) = RefreshSecret::parse(raw.trim()) else {
            return Ok(());
        };
        if let Some(token) = self.tokens.find_by_hash(&secret.hash()).await? {
            self.tokens
                .revoke_family(token.family_id, self.clock.now())
                .await?;
        }
        Ok(())
    }

    /// The tenant a login email belongs to, if any: to show a tenant the failed logins on its
    /// accounts (never told to the caller).
    pub async fn tenant_of(&self, email: &str) -> Result<Option<TenantId>, IdentityError> {
        let email = email.trim().to_ascii_lowercase();
        Ok(self.users.find_by_email(&email).await?.map(|u| u.tenant_id))
    }

    /// Whether an access token's session is still open (logout and reuse detection close it).
    pub async fn session_active(&self, session: Uuid) -> Result<bool, IdentityError> {
        Ok(self.tokens.session_active(session).await?)
    }

    pub async fn add_user(
        &self,
        actor: Actor,
        email: &str,
        role: &str,
        password: &str,
    ) -> Result<User, IdentityError> {
        let mut errors = ValidationErrors::new();
        let email = normalise_email(email, "email", &mut errors);
        let role = parse_role(role, &mut errors);
        let password = Password::new(password)
            .map_err(|m| errors.add("password", m))
            .ok();
        errors.into_result()?;
        let (role, password) = (role.expect("checked"), password.expect("checked"));
        if !actor.role.may_grant(role) {
            return Err(IdentityError::Forbidden(
                "you may only grant roles at or below your own (owners grant owner)",
            ));
        }
        let user = User::new(
            actor.tenant_id,
            email,
            role,
            password::hash(&password),
            self.clock.now(),
        );
        if !self.users.insert(&user).await? {
            return Err(IdentityError::DuplicateEmail);
        }
        Ok(user)
    }

    pub async fn list_users(&self, tenant: TenantId) -> Result<Vec<User>, IdentityError> {
        Ok(self.users.list(tenant).await?)
    }

    pub async fn get_user(&self, tenant: TenantId, id: Uuid) -> Result<User, IdentityError> {
        self.users
            .get(tenant, id)
            .await?
            .ok_or(IdentityError::NotFound("user"))
    }

    /// Changes a role, or deactivates (ending every session). Nobody changes their own account
    /// this way, and only owners touch owners.
    pub async fn change_user(
        &self,
        actor: Actor,
        id: Uuid,
        role: Option<&str>,
        active: Option<bool>,
    ) -> Result<User, IdentityError> {
        let mut user = self.get_user(actor.tenant_id, id).await?;
        let mut errors = ValidationErrors::new();
        let new_role = role.map(|r| parse_role(r, &mut errors));
        errors.into_result()?;
        if actor.user_id == Some(id) {
            return Err(IdentityError::Conflict(
                "you cannot change your own role or deactivate yourself; ask another owner",
            ));
        }
        if !actor.role.may_grant(user.role) {
            return Err(IdentityError::Forbidden("only owners change owners"));
        }
        if let Some(Some(role)) = new_role {
            if !actor.role.may_grant(role) {
                return Err(IdentityError::Forbidden(
                    "you may only grant roles at or below your own (owners grant owner)",
                ));
            }
            user.role = role;
        }
        let now = self.clock.now();
        if let Some(active) = active {
            user.active = active;
        }
        user.updated_at = now;
        self.users.update(&user).await?;
        if !user.active || new_role.is_some() {
            // A changed role must not live on in old access tokens for 15 minutes.
            self.tokens.revoke_user(user.id, now).await?;
        }
        Ok(user)
    }

    /// Starts TOTP enrolment for an owner or admin: a secret and its `otpauth://` URI.
    pub async fn enrol_totp(
        &self,
        tenant: TenantId,
        user_id: Uuid,
    ) -> Result<(String, String), IdentityError> {
        let mut user = self.get_user(tenant, user_id).await?;
        if !user.role.is_administrative() {
            return Err(IdentityError::Forbidden("TOTP is for owners and admins"));
        }
        if user.totp_enabled {
            return Err(IdentityError::Conflict(
                "TOTP is already on for this account",
            ));
        }
        let secret = totp::generate_secret();
        let uri = totp::provisioning_uri(&secret, &user.email);
        user.totp_secret = Some(secret.clone());
        user.updated_at = self.clock.now();
        self.users.update(&user).await?;
        Ok((secret, uri))
    }

    /// Confirms enrolment with a first code; returns the recovery codes, shown once.
    pub async fn confirm_totp(
        &self,
        tenant: TenantId,
        user_id: Uuid,
        code: &str,
    ) -> Result<Vec<String>, IdentityError> {
        let mut user = self.get_user(tenant, user_id).await?;
        let secret = match (&user.totp_secret, user.totp_enabled) {
            (Some(s), false) => s.clone(),
            (_, true) => {
                return Err(IdentityError::Conflict(
                    "TOTP is already on for this account",
                ));
            }
            (None, _) => {
                return Err(IdentityError::Conflict(
                    "start with POST /api/v1/auth/totp/enrol",
                ));
            }
        };
        let now = self.clock.now();
        if !totp::check(&secret, code, now.timestamp().max(0) as u64) {
            return Err(IdentityError::InvalidSecondFactor);
        }
        let (codes, hashes) = totp::recovery_codes();
        user.totp_enabled = true;
        user.recovery_codes = hashes;
        user.updated_at = now;
        self.users.update(&user).await?;
        Ok(codes)
    }
}

fn parse_role(raw: &str, errors: &mut ValidationErrors) -> Option<Role> {
    let role = Role::parse(raw.trim());
    if role.is_none() {
        errors.add(
            "role",
            "role must be one of owner, admin, manager, warehouse_staff, viewer",
        );
    }
    role
}

#[cfg(test)]
mod tests;
