use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::Rng as _;

use crate::domain::partners::ports::SecretCipher;
use crate::domain::{Error, Result};

/// AES-256-GCM with a random 96-bit nonce per secret: `v1:` + base64(nonce || ciphertext).
pub struct AesCipher {
    cipher: Aes256Gcm,
}

const PREFIX: &str = "v1:";

impl AesCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }
}

impl SecretCipher for AesCipher {
    fn seal(&self, plaintext: &str) -> Result<String> {
        let mut nonce = [0_u8; 12];
        rand::rng().fill(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .map_err(|_| Error::internal("could not encrypt a secret"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    fn open(&self, sealed: &str) -> Result<String> {
        let unreadable = || Error::internal("a stored secret cannot be decrypted (was SECRETS_KEY changed?)");
        let bytes = STANDARD
            .decode(sealed.strip_prefix(PREFIX).ok_or_else(unreadable)?)
            .map_err(|_| unreadable())?;
        if bytes.len() < 12 {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| unreadable())?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| unreadable())?;
        String::from_utf8(plain).map_err(|_| unreadable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_detects_tampering() {
        let cipher = AesCipher::new(&[7; 32]);
        let sealed = cipher.seal("whsec_abc").unwrap();
        assert_ne!(sealed, cipher.seal("whsec_abc").unwrap(), "fresh nonce each time");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(cipher.open(&sealed).unwrap(), "whsec_abc");
        let other = AesCipher::new(&[8; 32]);
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(cipher.open(&tampered).is_err());
    }
}
