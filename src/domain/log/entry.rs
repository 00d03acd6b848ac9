//! What the log holds: 41-byte entries that commit to a fact without revealing it.

use sha2::{Digest, Sha256};

use super::merkle::Hash;
use crate::domain::Timestamp;

pub const ENTRY_LEN: usize = 41;
pub const SALT_LEN: usize = 16;

text_enum! {
    /// The kind of fact an entry commits to; its byte is the entry's first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EntryKind {
        Event = "event",
        Version = "version",
        Receipt = "receipt",
    }
}

impl EntryKind {
    pub fn byte(self) -> u8 {
        match self {
            EntryKind::Event => 1,
            EntryKind::Version => 2,
            EntryKind::Receipt => 3,
        }
    }

    pub fn from_byte(byte: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.byte() == byte)
    }
}

/// `SHA-256(salt || digest)`: without the salt, the entry says nothing about the fact, not even
/// whether two entries are the same fact.
pub fn commitment(salt: &[u8; SALT_LEN], digest: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(digest);
    hasher.finalize().into()
}

/// A stored lowercase-hex SHA-256 as the 32 bytes an entry commits to.
pub fn digest_of_hex(text: &str, what: &str) -> crate::domain::Result<Hash> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| crate::domain::Error::internal(format!("stored {what} {text:?}")))
}

/// One fact's entry, written with the fact and integrated into the tree later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub kind: EntryKind,
    /// Which fact: the event id, `<dfid>/<version>`, or the receipt id.
    pub fact_id: String,
    pub salt: [u8; SALT_LEN],
    pub commitment: Hash,
    pub logged_at: Timestamp,
}

impl LogEntry {
    pub fn new(kind: EntryKind, fact_id: String, salt: [u8; SALT_LEN], digest: &Hash, logged_at: Timestamp) -> Self {
        Self {
            kind,
            fact_id,
            commitment: commitment(&salt, digest),
            salt,
            logged_at,
        }
    }

    /// `kind || commitment || logged_at (big-endian Unix milliseconds)`.
    pub fn bytes(&self) -> [u8; ENTRY_LEN] {
        entry_bytes(self.kind, &self.commitment, self.logged_at.timestamp_millis())
    }
}

pub fn entry_bytes(kind: EntryKind, commitment: &Hash, logged_at_ms: i64) -> [u8; ENTRY_LEN] {
    let mut bytes = [0u8; ENTRY_LEN];
    bytes[0] = kind.byte();
    bytes[1..33].copy_from_slice(commitment);
    bytes[33..].copy_from_slice(&logged_at_ms.to_be_bytes());
    bytes
}

/// The salt and commitment of an entry integrated at `leaf_index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedFact {
    pub entry: LogEntry,
    pub leaf_index: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_kind_commitment_and_big_endian_milliseconds() {
        let at = chrono::DateTime::from_timestamp_millis(0x0102_0304_0506).unwrap();
        let digest = [9u8; 32];
        let entry = LogEntry::new(EntryKind::Receipt, "r".into(), [1; 16], &digest, at);
        let bytes = entry.bytes();
        assert_eq!(bytes[0], 3);
        let mut salted = vec![1u8; 16];
        salted.extend_from_slice(&digest);
        assert_eq!(bytes[1..33], Sha256::digest(&salted)[..]);
        assert_eq!(bytes[33..], [0, 0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(EntryKind::from_byte(2), Some(EntryKind::Version));
        assert_eq!(EntryKind::from_byte(4), None);
    }
}
