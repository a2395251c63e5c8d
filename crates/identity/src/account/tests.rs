use super::*;
use crate::ports::MockUserRepository;
use crate::token::MockAccessTokenSigner;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::SystemClock;
use std::sync::Mutex;

/// A hand-written fake: rotation is a sequence of states, clearer than mock expectations.
#[derive(Default)]
struct FakeTokens(Mutex<Vec<RefreshToken>>);

#[async_trait]
impl RefreshTokenRepository for FakeTokens {
    async fn insert(&self, t: &RefreshToken) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(t.clone());
        Ok(())
    }
    async fn find_by_hash(&self, hash: &str) -> Result<Option<RefreshToken>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.hash == hash)
            .cloned())
    }
    async fn mark_used(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut all = self.0.lock().unwrap();
        let t = all.iter_mut().find(|t| t.id == id).unwrap();
        if t.used_at.is_some() {
            return Ok(false);
        }
        t.used_at = Some(at);
        Ok(true)
    }
    async fn revoke_family(&self, family: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        for t in self
            .0
            .lock()
            .unwrap()
            .iter_mut()
            .filter(|t| t.family_id == family)
        {
            t.revoked_at.get_or_insert(at);
        }
        Ok(())
    }
    async fn revoke_user(&self, user: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        for t in self
            .0
            .lock()
            .unwrap()
            .iter_mut()
            .filter(|t| t.user_id == user)
        {
            t.revoked_at.get_or_insert(at);
        }
        Ok(())
    }
    async fn session_active(&self, family: Uuid) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|t| t.family_id == family && t.revoked_at.is_none()))
    }
}

fn user(role: Role, password: &str) -> User {
    User::new(
        TenantId::new(),
        "ada@example.com".into(),
        role,
        password::hash(&Password::new(password).unwrap()),
        Utc::now(),
    )
}

fn users_with(u: User) -> MockUserRepository {
    let mut users = MockUserRepository::new();
    let found = u.clone();
    users
        .expect_find_by_email()
        .returning(move |e| Ok((e == found.email).then(|| found.clone())));
    users
        .expect_get()
        .returning(move |t, id| Ok((t == u.tenant_id && id == u.id).then(|| u.clone())));
    users.expect_update().returning(|_| Ok(()));
    users
        .expect_swap_recovery_codes()
        .withf(|u, expected| u.recovery_codes.len() + 1 == expected.len())
        .returning(|_, _| Ok(true));
    users
}

fn signer() -> MockAccessTokenSigner {
    let mut s = MockAccessTokenSigner::new();
    s.expect_sign()
        .returning(|c| Ok(format!("jwt-for-{}-{}", c.user_id, c.session_id)));
    s
}

const PW: &str = "correct horse battery";

#[tokio::test]
async fn login_with_the_right_password_opens_a_session_and_a_wrong_one_is_vague() {
    let u = user(Role::Manager, PW);
    let svc = AccountService::new(
        users_with(u.clone()),
        FakeTokens::default(),
        signer(),
        SystemClock,
    );
    let tokens = svc
        .login("  ADA@example.com ", PW, SecondFactor::default())
        .await
        .unwrap();
    assert_eq!(tokens.expires_in, 900);
    assert!(tokens.access_token.contains(&u.id.to_string()));
    for (email, pw) in [
        ("ada@example.com", "wrong password!"),
        ("nobody@example.com", PW),
    ] {
        let err = svc.login(email, pw, SecondFactor::default()).await;
        assert!(matches!(err, Err(IdentityError::InvalidCredentials)));
    }
}

#[tokio::test]
async fn a_deactivated_user_cannot_log_in() {
    let mut u = user(Role::Viewer, PW);
    u.active = false;
    let svc = AccountService::new(users_with(u), FakeTokens::default(), signer(), SystemClock);
    let err = svc
        .login("ada@example.com", PW, SecondFactor::default())
        .await;
    assert!(matches!(err, Err(IdentityError::InvalidCredentials)));
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_spent_token_revokes_the_whole_family() {
    let u = user(Role::Admin, PW);
    let svc = AccountService::new(users_with(u), FakeTokens::default(), signer(), SystemClock);
    let first = svc
        .login("ada@example.com", PW, SecondFactor::default())
        .await
        .unwrap();
    let second = svc.refresh(first.refresh_token.expose()).await.unwrap();
    assert_ne!(first.refresh_token, second.refresh_token);
    // The thief replays the first token: refused, and the victim's newer token dies with it.
    let replay = svc.refresh(first.refresh_token.expose()).await;
    assert!(matches!(replay, Err(IdentityError::InvalidRefreshToken)));
    let after = svc.refresh(second.refresh_token.expose()).await;
    assert!(matches!(after, Err(IdentityError::InvalidRefreshToken)));
}

#[tokio::test]
async fn logout_ends_the_session_and_its_refresh_token() {
    let u = user(Role::Owner, PW);
    let svc = AccountService::new(users_with(u), FakeTokens::default(), signer(), SystemClock);
    let t = svc
        .login("ada@example.com", PW, SecondFactor::default())
        .await
        .unwrap();
    let session = svc.tokens.0.lock().unwrap()[0].family_id;
    assert!(svc.session_active(session).await.unwrap());
    svc.logout(t.refresh_token.expose()).await.unwrap();
    assert!(!svc.session_active(session).await.unwrap());
    assert!(svc.refresh(t.refresh_token.expose()).await.is_err());
    svc.logout("garbage").await.unwrap();
}

#[tokio::test]
async fn an_enrolled_user_needs_a_current_totp_code_or_a_one_time_recovery_code() {
    let mut u = user(Role::Owner, PW);
    let secret = totp::generate_secret();
    u.totp_secret = Some(secret.clone());
    u.totp_enabled = true;
    let (codes, hashes) = totp::recovery_codes();
    u.recovery_codes = hashes;
    let svc = AccountService::new(users_with(u), FakeTokens::default(), signer(), SystemClock);
    let login = |second| svc.login("ada@example.com", PW, second);
    assert!(matches!(
        login(SecondFactor::default()).await,
        Err(IdentityError::SecondFactorRequired)
    ));
    let wrong = SecondFactor {
        totp_code: Some("000000".into()),
        ..Default::default()
    };
    // (1 in a million this is the right code: accept the flake over a clock in the domain)
    if let Err(e) = login(wrong).await {
        assert!(matches!(e, IdentityError::InvalidSecondFactor));
    }
    let now = Utc::now().timestamp() as u64;
    let right = SecondFactor {
        totp_code: totp::code_at(&secret, now),
        ..Default::default()
    };
    assert!(login(right).await.is_ok());
    let recovery = SecondFactor {
        recovery_code: Some(codes[0].clone()),
        ..Default::default()
    };
    assert!(login(recovery).await.is_ok());
}

#[tokio::test]
async fn admins_add_users_up_to_their_rank_and_managers_not_at_all() {
    let mut users = MockUserRepository::new();
    users.expect_insert().returning(|_| Ok(true));
    let svc = AccountService::new(users, FakeTokens::default(), signer(), SystemClock);
    let tenant = TenantId::new();
    let admin = Actor {
        tenant_id: tenant,
        user_id: Some(Uuid::now_v7()),
        role: Role::Admin,
    };
    let made = svc
        .add_user(admin, "pat@example.com", "warehouse_staff", PW)
        .await
        .unwrap();
    assert_eq!((made.tenant_id, made.role), (tenant, Role::WarehouseStaff));
    let err = svc.add_user(admin, "o@example.com", "owner", PW).await;
    assert!(matches!(err, Err(IdentityError::Forbidden(_))));
    let manager = Actor {
        role: Role::Manager,
        ..admin
    };
    let err = svc.add_user(manager, "v@example.com", "viewer", PW).await;
    assert!(matches!(err, Err(IdentityError::Forbidden(_))));
    let err = svc.add_user(admin, "bad", "root", "short").await;
    assert!(matches!(err, Err(IdentityError::Invalid(v)) if v.0.len() == 3));
}
