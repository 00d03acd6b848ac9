//! The login lockout of [`AuthService`]: failures counted per (account, IP), a lock that holds
//! even against the right password, and the same cost for unknown logins.

use std::sync::Arc;

use crate::domain::ErrorKind;
use crate::domain::identity::account::AccountStatus;
use crate::domain::identity::auth::{AuthService, AuthSettings};
use crate::domain::testing::{
    CountingLimiter, FixedClock, MarkingCipher, MemoryStore, NoCache, PlainHasher, PlainTokens, SequentialIds,
    assert_refused, meta, meta_from,
};

const PASSWORD: &str = "correct horse battery";
const MAX_FAILURES: u64 = 3;

struct World {
    store: Arc<MemoryStore>,
    hasher: Arc<PlainHasher>,
    auth: AuthService,
}

fn world(max_failures: u64) -> World {
    let store = Arc::new(MemoryStore::default());
    store.add_account("maria", PASSWORD);
    let hasher = Arc::new(PlainHasher::default());
    World {
        auth: AuthService {
            store: store.clone(),
            hasher: hasher.clone(),
            tokens: Arc::new(PlainTokens),
            cache: Arc::new(NoCache),
            limiter: Arc::new(CountingLimiter::default()),
            cipher: Arc::new(MarkingCipher),
            clock: Arc::new(FixedClock::default()),
            ids: Arc::new(SequentialIds::default()),
            settings: AuthSettings {
                jwt_ttl: chrono::Duration::hours(1),
                session_max: chrono::Duration::days(7),
                login_max_failures: max_failures,
                lockout: chrono::Duration::minutes(15),
                reset_ttl: chrono::Duration::minutes(30),
            },
        },
        store,
        hasher,
    }
}

async fn fail_logins(w: &World, times: u64, ip: [u8; 4]) {
    for _ in 0..times {
        let result = w.auth.login("maria", "wrong".into(), &meta_from(ip)).await;
        assert_refused(result, ErrorKind::Unauthenticated, "invalid_credentials");
    }
}

#[tokio::test]
async fn the_right_password_logs_in() {
    let w = world(MAX_FAILURES);
    let issued = w.auth.login("maria", PASSWORD.into(), &meta()).await.unwrap();
    assert!(issued.token.starts_with("token-for-"));
}

#[tokio::test]
async fn after_the_allowed_failures_even_the_right_password_is_locked_out() {
    let w = world(MAX_FAILURES);
    fail_logins(&w, MAX_FAILURES, [192, 0, 2, 1]).await;
    let locked = w.auth.login("maria", PASSWORD.into(), &meta_from([192, 0, 2, 1])).await;
    assert_refused(locked, ErrorKind::RateLimited, "login_locked");
}

#[tokio::test]
async fn a_locked_login_costs_no_password_verification() {
    let w = world(MAX_FAILURES);
    fail_logins(&w, MAX_FAILURES, [192, 0, 2, 1]).await;
    let before = w.hasher.verifications();
    let _ = w.auth.login("maria", PASSWORD.into(), &meta_from([192, 0, 2, 1])).await;
    assert_eq!(w.hasher.verifications(), before);
}

#[tokio::test]
async fn the_lock_holds_for_one_ip_only() {
    let w = world(MAX_FAILURES);
    fail_logins(&w, MAX_FAILURES, [192, 0, 2, 1]).await;
    let elsewhere = w
        .auth
        .login("maria", PASSWORD.into(), &meta_from([198, 51, 100, 7]))
        .await;
    assert!(
        elsewhere.is_ok(),
        "an attacker's address does not lock the owner out everywhere"
    );
}

#[tokio::test]
async fn a_success_before_the_limit_forgets_earlier_failures() {
    let w = world(MAX_FAILURES);
    fail_logins(&w, MAX_FAILURES - 1, [192, 0, 2, 1]).await;
    w.auth
        .login("maria", PASSWORD.into(), &meta_from([192, 0, 2, 1]))
        .await
        .unwrap();
    fail_logins(&w, MAX_FAILURES - 1, [192, 0, 2, 1]).await;
    assert!(
        w.auth
            .login("maria", PASSWORD.into(), &meta_from([192, 0, 2, 1]))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn zero_allowed_failures_disables_the_lock() {
    let w = world(0);
    fail_logins(&w, 10, [192, 0, 2, 1]).await;
    assert!(w.auth.login("maria", PASSWORD.into(), &meta()).await.is_ok());
}

#[tokio::test]
async fn an_unknown_login_costs_one_verification_like_a_known_one() {
    let w = world(MAX_FAILURES);
    let unknown = w.auth.login("nobody", "whatever".into(), &meta()).await;
    assert_refused(unknown, ErrorKind::Unauthenticated, "invalid_credentials");
    assert_eq!(
        w.hasher.verifications(),
        1,
        "no shortcut reveals that the account is missing"
    );
}

#[tokio::test]
async fn a_suspended_account_is_refused_even_with_the_right_password() {
    let w = world(MAX_FAILURES);
    w.store.set_account_status("maria", AccountStatus::Suspended);
    let result = w.auth.login("maria", PASSWORD.into(), &meta()).await;
    let error = result.expect_err("suspended accounts do not log in");
    assert_eq!(error.kind, ErrorKind::Forbidden);
}
