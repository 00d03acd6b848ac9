//! Random tokens and digests for secrets that are stored only as hashes.

use rand::Rng as _;
use rand::distr::{Alphanumeric, SampleString as _};
use sha2::{Digest as _, Sha256};

/// `bytes` random bytes from the operating system's CSPRNG-seeded generator, base64url.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buffer = vec![0_u8; bytes];
    rand::rng().fill(buffer.as_mut_slice());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

/// `len` characters of `[A-Za-z0-9]` (base62).
pub fn random_base62(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
        let key = random_base62(32);
        assert_eq!(key.len(), 32);
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_hex(b"hello world"),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }
}
