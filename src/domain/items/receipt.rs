//! Receipts: proof that some bytes (a lab result, a certificate, an animal transit permit)
//! existed by a time, logged by their SHA-256 and optionally attached to an item as evidence.

use sha2::{Digest, Sha256};

use crate::domain::{Error, Result, Timestamp};

pub const MAX_LABEL_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub receipt_id: String,
    pub owner_id: String,
    /// Lowercase hex SHA-256 of the payload.
    pub sha256: String,
    /// Set when the payload itself was sent (not only its digest).
    pub size_bytes: Option<u64>,
    pub content_type: Option<String>,
    pub dfid: Option<String>,
    pub label: Option<String>,
    pub created_at: Timestamp,
}

impl Receipt {
    /// The log's digest of the receipt: the payload's SHA-256, as bytes.
    pub fn log_digest(&self) -> Result<[u8; 32]> {
        crate::domain::log::entry::digest_of_hex(&self.sha256, "receipt digest")
    }
}

/// What is receipted: the payload, or a digest the client computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipted {
    Bytes {
        bytes: Vec<u8>,
        content_type: Option<String>,
    },
    Digest(String),
}

impl Receipted {
    /// The lowercase hex SHA-256, the size when the bytes were sent, and the content type.
    pub fn digest(&self) -> Result<(String, Option<u64>, Option<String>)> {
        match self {
            Receipted::Bytes { bytes, content_type } => Ok((
                hex::encode(Sha256::digest(bytes)),
                Some(bytes.len() as u64),
                content_type.clone(),
            )),
            Receipted::Digest(text) => {
                let text = text.trim().to_ascii_lowercase();
                if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::field("sha256", "64 hex digits"));
                }
                Ok((text, None, None))
            }
        }
    }
}

/// Checks an optional label: 1 to 200 characters.
pub fn check_label(label: Option<&str>) -> Result<()> {
    match label {
        Some(label) if label.trim().is_empty() || label.chars().count() > MAX_LABEL_CHARS => {
            Err(Error::field("label", format!("1 to {MAX_LABEL_CHARS} characters")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_digests_give_the_same_receipt_digest() {
        let bytes = Receipted::Bytes {
            bytes: b"abc".to_vec(),
            content_type: Some("text/plain".into()),
        };
        let (hash, size, _) = bytes.digest().unwrap();
        assert_eq!(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(size, Some(3));
        let digest = Receipted::Digest(hash.to_uppercase());
        assert_eq!(digest.digest().unwrap().0, hash);
        assert!(Receipted::Digest("abc".into()).digest().is_err());
        assert!(check_label(Some(" ")).is_err());
        assert!(check_label(Some("GTA permit")).is_ok());
    }
}
