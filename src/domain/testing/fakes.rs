//! Fakes of the small ports: a clock that stands still, counted ids, limiter and hasher, tokens,
//! cache and mail.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::domain::identity::access::Claims;
use crate::domain::identity::ports::{MailMessage, Mailer, PasswordCheck, PasswordHasher, TokenSigner};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Cache, Clock, Counter, IdGenerator, RateLimiter};

use super::start_of_test;

/// A clock that stands still until a test moves it.
pub struct FixedClock(Mutex<Timestamp>);

impl Default for FixedClock {
    fn default() -> Self {
        Self(Mutex::new(start_of_test()))
    }
}

impl FixedClock {
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|now| *now).unwrap_or_else(|_| start_of_test())
    }
}

/// Ids `id-1`, `id-2`... in the order they are asked for.
#[derive(Default)]
pub struct SequentialIds(std::sync::atomic::AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> String {
        format!("id-{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// Counters that never expire on their own: a test decides when a window is over (`clear`).
#[derive(Default)]
pub struct CountingLimiter(Mutex<HashMap<String, u64>>);

impl CountingLimiter {
    pub fn count(&self, key: &str) -> u64 {
        self.0.lock().map(|c| c.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl RateLimiter for CountingLimiter {
    async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
        let mut counts = self.0.lock().expect("limiter lock");
        let count = counts.entry(key.to_owned()).or_insert(0);
        *count += hits;
        Counter {
            count: *count,
            resets_in: window,
        }
    }

    async fn peek(&self, key: &str) -> Option<Counter> {
        let counts = self.0.lock().expect("limiter lock");
        counts.get(key).map(|count| Counter {
            count: *count,
            resets_in: Duration::from_secs(60),
        })
    }

    async fn clear(&self, key: &str) {
        self.0.lock().expect("limiter lock").remove(key);
    }
}

/// A hasher whose hash is the password in clear behind a prefix, and that counts verifications.
#[derive(Default)]
pub struct PlainHasher {
    pub verifications: AtomicUsize,
}

impl PlainHasher {
    pub fn hash_of(password: &str) -> String {
        format!("plain:{password}")
    }

    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: String) -> Result<String> {
        Ok(Self::hash_of(&password))
    }

    async fn verify(&self, password: String, hash: String) -> Result<PasswordCheck> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        Ok(if hash == Self::hash_of(&password) {
            PasswordCheck::Match { needs_rehash: false }
        } else {
            PasswordCheck::Mismatch
        })
    }

    async fn verify_dummy(&self, _password: String) -> Result<()> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Tokens that name their session in clear; verification is not needed by the use cases tested.
pub struct PlainTokens;

impl TokenSigner for PlainTokens {
    fn sign(&self, claims: &Claims) -> Result<String> {
        Ok(format!("token-for-{}", claims.sid))
    }

    fn verify(&self, _token: &str) -> Result<Claims> {
        Err(Error::unauthenticated("invalid_token", "test tokens are not verified"))
    }
}

/// A cache that remembers nothing.
pub struct NoCache;

#[async_trait::async_trait]
impl Cache for NoCache {
    async fn get(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        vec![None; keys.len()]
    }

    async fn set(&self, _key: &str, _value: &[u8], _ttl: Duration) {}

    async fn delete(&self, _key: &str) -> bool {
        false
    }

    fn backend(&self) -> &'static str {
        "none"
    }

    async fn ping(&self) -> bool {
        true
    }
}

/// A mailer that keeps what it was asked to send, after refusing the first `refusals` sends
/// (a mail server that is down).
#[derive(Default)]
pub struct MailOutbox {
    pub sent: Mutex<Vec<MailMessage>>,
    pub refusals: Mutex<u32>,
}

#[async_trait::async_trait]
impl Mailer for MailOutbox {
    async fn send(&self, message: MailMessage) -> Result<()> {
        let mut refusals = self.refusals.lock().expect("outbox lock");
        if *refusals > 0 {
            *refusals -= 1;
            return Err(crate::domain::Error::unavailable(
                "service_unavailable",
                "the mail server is down",
                30,
            ));
        }
        self.sent.lock().expect("outbox lock").push(message);
        Ok(())
    }
}

/// A cipher that marks what it sealed, so a test sees that nothing went out unsealed.
pub struct MarkingCipher;

impl crate::domain::partners::ports::SecretCipher for MarkingCipher {
    fn seal(&self, plaintext: &str) -> Result<String> {
        Ok(format!("sealed:{plaintext}"))
    }

    fn open(&self, sealed: &str) -> Result<String> {
        sealed
            .strip_prefix("sealed:")
            .map(str::to_owned)
            .ok_or_else(|| crate::domain::Error::internal("not sealed"))
    }
}
