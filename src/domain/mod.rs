//! What the product is, one folder per bounded context: entities, value objects, rules, use-case
//! services, and the port traits each context needs. Plain Rust: no HTTP, no SQL, no Redis, no
//! spawned tasks.
//!
//! - [`identity`]: accounts, sessions, API keys, the request guard, tier limits, administration.
//! - [`items`]: identifiers, DFIDs, local and global items, events.
//! - [`circuits`]: circuits, members and roles, join requests, push/pull with approvals, public pages.
//! - [`partners`]: webhooks and their outbox, notifications, content-addressed storage.
//! - [`audit`]: the audit log and the activity feed.
//! - [`dashboards`]: counts for a user, a circuit and the whole service.
//!
//! Shared by all of them: the one [`Error`], cursor [`page`]s, and the unit of work ([`changes`]).

/// Declares a port that is exactly the sum of smaller ones, implemented by anything that implements
/// them all: a service names the one combined port it holds, and its signature says what it touches.
macro_rules! combined_port {
    ($(#[$doc:meta])* $vis:vis trait $name:ident: $first:path $(, $rest:path)* $(,)?) => {
        $(#[$doc])*
        $vis trait $name: $first $(+ $rest)* {}
        impl<T: $first $(+ $rest)* + ?Sized> $name for T {}
    };
}

/// Declares an enum with the text form of each variant beside it: `ALL`, `as_str`, `from_text`
/// and `Display` come from that one list, so the two directions can never disagree.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $($(#[$vmeta])* $variant),+
        }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }

            pub fn from_text(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Declares an id newtype: parsed once at the edge (a malformed id is the same 404 as an unknown
/// one, so its shape reveals nothing), then passed as itself. It reads as `&str` where storage
/// needs text.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, crate::domain::Error> {
                if crate::domain::is_id_text(text) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(crate::domain::Error::not_found($what))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

/// What any id this service issues looks like: 1 to 128 ASCII letters, digits, `-` and `_`.
pub(crate) fn is_id_text(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub mod audit;
pub mod changes;
pub mod circuits;
pub mod dashboards;
pub mod epcis;
pub mod error;
pub mod identity;
pub mod items;
pub mod log;
pub mod page;
pub mod partners;
pub mod secrets;
#[cfg(test)]
pub mod testing;

pub use error::{CONCURRENT_WRITE, Error, ErrorKind, Result};

/// A point in time, UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
