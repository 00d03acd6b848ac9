//! C2SP signed notes with Ed25519 keys, and the key strings of `golang.org/x/mod/sumdb/note`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

const ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a key string or a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoteError(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, NoteError> {
    Err(NoteError(why.into()))
}

/// Key names are non-empty, without spaces or `+`.
pub fn is_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A named Ed25519 signing key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !is_key_name(name) {
            return refuse("a key name is not empty and has no spaces or '+'");
        }
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let Some(rest) = text.trim().strip_prefix("PRIVATE+KEY+") else {
            return refuse("a private key string starts with PRIVATE+KEY+");
        };
        let (name, id, key) = split_key(rest)?;
        let Some(seed) = key.strip_prefix(&[ED25519]).and_then(|s| <[u8; 32]>::try_from(s).ok()) else {
            return refuse("only Ed25519 private keys (type 1, 32 bytes) are supported");
        };
        let signer = Self::from_seed(name, seed)?;
        if signer.verifier().key_id != id {
            return refuse("the private key's id does not match its name and key");
        }
        Ok(signer)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> NoteVerifier {
        let public = self.key.verifying_key();
        NoteVerifier {
            key_id: key_id(&self.name, &public),
            name: self.name.clone(),
            key: public,
        }
    }

    /// The private key string `sumdb/note` reads.
    pub fn private_key_string(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier().key_id,
            B64.encode(key)
        )
    }

    /// The signed note: `text`, a blank line, and one signature line. `text` ends in a newline.
    pub fn sign(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.verifier().key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{text}\n{SIGNATURE_PREFIX}{} {}\n", self.name, B64.encode(blob))
    }
}

/// A named Ed25519 public key, as a verifier key string `<name>+<id hex>+<base64(0x01 || key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, id, key) = split_key(text.trim())?;
        if !is_key_name(name) {
            return refuse("a key name is not empty and has no spaces or '+'");
        }
        let Some(bytes) = key.strip_prefix(&[ED25519]).and_then(|k| <[u8; 32]>::try_from(k).ok()) else {
            return refuse("only Ed25519 verifier keys (type 1, 32 bytes) are supported");
        };
        let Ok(key) = VerifyingKey::from_bytes(&bytes) else {
            return refuse("the verifier key is not a valid Ed25519 point");
        };
        if key_id(name, &key) != id {
            return refuse("the verifier key's id does not match its name and key");
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a signed note: the text, if this key signed it. Signatures of other keys are ignored.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return refuse("a note has no control characters other than newlines");
        }
        let Some(split) = note.rfind("\n\n") else {
            return refuse("a note has its text, a blank line, then signature lines");
        };
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        if !signatures.ends_with('\n') {
            return refuse("a note's signature lines end in a newline");
        }
        let mut ours = None;
        for line in signatures.lines() {
            let Some((name, blob)) = line.strip_prefix(SIGNATURE_PREFIX).and_then(|l| l.split_once(' ')) else {
                return refuse("a signature line is an em dash, a space, a key name, a space and base64");
            };
            let Ok(blob) = B64.decode(blob) else {
                return refuse("a signature is base64");
            };
            if name == self.name && blob.len() == 68 && blob[..4] == self.key_id.to_be_bytes() {
                ours = Some(blob);
            }
        }
        let Some(blob) = ours else {
            return refuse(format!("the note carries no signature by {}", self.name));
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(&blob[4..]) else {
            return refuse("the signature is malformed");
        };
        if self.key.verify(text.as_bytes(), &signature).is_err() {
            return refuse(format!("the signature by {} does not verify", self.name));
        }
        Ok(text)
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(key))
    }
}

/// `<name>+<8 hex digits>+<base64>` into its three parts.
fn split_key(text: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    // Names have no '+', base64 may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return refuse("a key string is <name>+<key id>+<key>");
    };
    let id = match u32::from_str_radix(id, 16) {
        Ok(value) if id.len() == 8 => value,
        _ => return refuse("a key id is 8 hex digits"),
    };
    let Ok(key) = B64.decode(key) else {
        return refuse("a key is base64");
    };
    Ok((name, id, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example in the documentation of golang.org/x/mod/sumdb/note.
    const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn signs_the_go_note_example_byte_for_byte() {
        let signer = NoteSigner::parse(SKEY).unwrap();
        assert_eq!(signer.verifier().to_string(), VKEY);
        assert_eq!(signer.private_key_string(), SKEY);
        assert_eq!(signer.sign(TEXT), format!("{TEXT}\n{SIGNATURE}"));
    }

    #[test]
    fn opens_the_go_note_example_and_refuses_it_altered() {
        let verifier = NoteVerifier::parse(VKEY).unwrap();
        let note = format!("{TEXT}\n{SIGNATURE}");
        assert_eq!(verifier.open(&note), Ok(TEXT));
        let altered = note.replace("answer", "question");
        assert!(verifier.open(&altered).unwrap_err().0.contains("does not verify"));
        let other = NoteSigner::from_seed("PeterNeumann", [7; 32]).unwrap();
        assert!(other.verifier().open(&note).unwrap_err().0.contains("no signature"));
    }

    #[test]
    fn opens_the_c2sp_example_and_ignores_unknown_signers() {
        let verifier =
            NoteVerifier::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").unwrap();
        let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        assert_eq!(verifier.open(note), Ok("This is an example message.\n"));
        let cosigned = format!("{note}{SIGNATURE}");
        assert_eq!(verifier.open(&cosigned), Ok("This is an example message.\n"));
    }

    #[test]
    fn refuses_malformed_keys() {
        for bad in [
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+AhpcAQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "",
        ] {
            assert!(NoteVerifier::parse(bad).is_err(), "{bad}");
        }
        assert!(NoteSigner::parse(VKEY).is_err());
        assert!(
            NoteSigner::parse("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
                .is_err()
        );
    }
}
