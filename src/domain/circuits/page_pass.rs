//! Page passes: what a browser keeps (as a cookie) after typing a `Protected` page's password,
//! so it does not send the password again with every page. A pass names one circuit, expires
//! within [`PASS_LIFETIME`], and is bound to the password's stored hash, so changing the
//! password ends every pass issued for the old one.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::Timestamp;

/// The longest a pass lives (WEB.md: at most 12 hours).
pub const PASS_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The key passes are signed with, shared by every replica.
#[derive(Clone)]
pub struct PassKey([u8; 32]);

impl PassKey {
    /// A key of its own derived from a longer-lived secret, so a pass can never be mistaken
    /// for anything else signed with that secret.
    pub fn derived_from(secret: &[u8]) -> Self {
        let mut mac = keyed(secret);
        mac.update(b"defarm/page-pass/v1");
        Self(mac.finalize().into_bytes().into())
    }

    /// A pass for `circuit_id` whose password hash is `password_hash`, valid until `expires`.
    pub fn issue(&self, circuit_id: &str, password_hash: &str, expires: Timestamp) -> String {
        let expires = expires.timestamp();
        let tag = self.tag(circuit_id, password_hash, expires);
        format!("{expires}.{}", hex::encode(tag))
    }

    /// Whether `pass` was issued by this key for this circuit and password and is still valid.
    pub fn admits(&self, pass: &str, circuit_id: &str, password_hash: &str, now: Timestamp) -> bool {
        let Some((expires, tag)) = pass.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(tag)) = (expires.parse::<i64>(), hex::decode(tag)) else {
            return false;
        };
        let lifetime = i64::try_from(PASS_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let now = now.timestamp();
        if expires <= now || expires > now.saturating_add(lifetime) {
            return false;
        }
        let mut mac = keyed(&self.0);
        mac.update(&message(circuit_id, password_hash, expires));
        // Constant-time comparison: a forger learns nothing from how long a refusal takes.
        mac.verify_slice(&tag).is_ok()
    }

    fn tag(&self, circuit_id: &str, password_hash: &str, expires: i64) -> [u8; 32] {
        let mut mac = keyed(&self.0);
        mac.update(&message(circuit_id, password_hash, expires));
        mac.finalize().into_bytes().into()
    }
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn message(circuit_id: &str, password_hash: &str, expires: i64) -> Vec<u8> {
    format!("{circuit_id}\n{expires}\n{password_hash}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::start_of_test;

    fn key() -> PassKey {
        PassKey::derived_from(b"a secret of the deployment, long enough")
    }

    #[test]
    fn a_pass_admits_its_circuit_and_password_until_it_expires() {
        let now = start_of_test();
        let expires = now + chrono::Duration::hours(12);
        let pass = key().issue("c1", "hash-1", expires);
        assert!(key().admits(&pass, "c1", "hash-1", now));
        assert!(key().admits(&pass, "c1", "hash-1", expires - chrono::Duration::seconds(1)));
        assert!(!key().admits(&pass, "c1", "hash-1", expires), "expired");
        assert!(!key().admits(&pass, "c2", "hash-1", now), "another circuit");
        assert!(!key().admits(&pass, "c1", "hash-2", now), "the password changed");
        let other = PassKey::derived_from(b"another deployment's secret......");
        assert!(!other.admits(&pass, "c1", "hash-1", now), "another key");
    }

    #[test]
    fn forged_and_overlong_passes_are_refused() {
        let now = start_of_test();
        let far = now + chrono::Duration::days(30);
        let pass = key().issue("c1", "h", far);
        assert!(!key().admits(&pass, "c1", "h", now), "lives longer than 12 hours");
        let good = key().issue("c1", "h", now + chrono::Duration::hours(1));
        let (expires, tag) = good.split_once('.').unwrap();
        let later = format!("{}.{tag}", expires.parse::<i64>().unwrap() + 60);
        assert!(!key().admits(&later, "c1", "h", now), "expiry moved");
        for junk in ["", ".", "x.y", "1.zz", &format!("{expires}.")] {
            assert!(!key().admits(junk, "c1", "h", now), "{junk:?}");
        }
    }
}
