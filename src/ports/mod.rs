//! What the domain needs from the world, as traits. Adapters implement them; the composition root
//! (`crate::app`) picks which implementation runs.

pub mod cache;
pub mod clock;
pub mod crypto;
pub mod health;
pub mod limits;
pub mod mail;
pub mod notify;
pub mod storage;
pub mod store;
pub mod webhooks;

pub use cache::Cache;
pub use clock::Clock;
pub use crypto::{PasswordCheck, PasswordHasher, SecretCipher, TokenSigner};
pub use health::{DatabaseHealth, PoolStats};
pub use limits::{Counter, RateLimiter};
pub use mail::{MailMessage, Mailer};
pub use notify::Notifier;
pub use storage::ContentStore;
pub use store::Store;
pub use webhooks::{OutgoingRequest, WebhookTransport};
