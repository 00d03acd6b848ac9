//! Password hashing and session tokens.

use crate::domain::Result;
use crate::domain::access::Claims;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Mismatch,
    /// `needs_rehash`: the stored hash is a legacy (bcrypt) one to replace with argon2id.
    Match {
        needs_rehash: bool,
    },
}

/// CPU-heavy, so implementations run off the async workers behind a bounded queue and answer
/// 503 (`Unavailable`) when the queue is full for too long.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: String) -> Result<String>;
    async fn verify(&self, password: String, hash: String) -> Result<PasswordCheck>;
    /// One verification against a fixed hash, so an unknown username costs what a known one does.
    async fn verify_dummy(&self, password: String) -> Result<()>;
}

pub trait TokenSigner: Send + Sync {
    fn sign(&self, claims: &Claims) -> Result<String>;
    /// Checks signature and expiry; 401 `invalid_token` otherwise.
    fn verify(&self, token: &str) -> Result<Claims>;
}

/// Encrypts secrets kept at rest (webhook signing secrets and credentials).
pub trait SecretCipher: Send + Sync {
    fn seal(&self, plaintext: &str) -> Result<String>;
    fn open(&self, sealed: &str) -> Result<String>;
}
