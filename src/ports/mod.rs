//! What the domain needs from the world, as traits. Adapters implement them; the composition root
//! (`crate::app`) picks which implementation runs.

pub mod cache;
pub mod clock;
pub mod crypto;
pub mod health;
pub mod limits;
pub mod mail;
pub mod store;

pub use cache::Cache;
pub use clock::Clock;
pub use crypto::{PasswordCheck, PasswordHasher, TokenSigner};
pub use health::{DatabaseHealth, PoolStats};
pub use limits::{Counter, RateLimiter};
pub use mail::{MailMessage, Mailer};
pub use store::Store;
