//! A verifier written for the tests from RFC 9162 and the C2SP signed-note and tlog-checkpoint
//! specs, sharing no code with the service: the recursive definitions, read literally.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf(entry: &[u8]) -> Hash {
    Sha256::new().chain_update([0]).chain_update(entry).finalize().into()
}

pub fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

fn split(n: u64) -> u64 {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The root an audit path leads to: PATH(m, D[n]) undone level by level, outermost hash last.
pub fn root_from_path(index: u64, size: u64, leaf: Hash, path: &[Hash]) -> Option<Hash> {
    if size == 1 {
        return path.is_empty().then_some(leaf);
    }
    let (sibling, inner) = path.split_last()?;
    let k = split(size);
    if index < k {
        Some(node(&root_from_path(index, k, leaf, inner)?, sibling))
    } else {
        Some(node(sibling, &root_from_path(index - k, size - k, leaf, inner)?))
    }
}

/// SUBPROOF(m, D[n], b) undone: the old and new subtree hashes the proof implies.
fn subproof(m: u64, n: u64, whole: bool, proof: &[Hash], old_root: &Hash) -> Option<(Hash, Hash)> {
    if m == n {
        return match (whole, proof) {
            (true, []) => Some((*old_root, *old_root)),
            (false, [hash]) => Some((*hash, *hash)),
            _ => None,
        };
    }
    let (outer, inner) = proof.split_last()?;
    let k = split(n);
    if m <= k {
        let (old, new) = subproof(m, k, whole, inner, old_root)?;
        Some((old, node(&new, outer)))
    } else {
        let (old, new) = subproof(m - k, n - k, false, inner, old_root)?;
        Some((node(outer, &old), node(outer, &new)))
    }
}

pub fn consistent(old_size: u64, new_size: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    subproof(old_size, new_size, true, proof, old_root) == Some((*old_root, *new_root))
}

/// A parsed verifier key `<name>+<id>+<base64(0x01 || key)>`.
#[derive(Clone)]
pub struct Vkey {
    pub name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

pub fn vkey(text: &str) -> Vkey {
    let mut parts = text.trim().splitn(3, '+');
    let name = parts.next().unwrap().to_owned();
    let id: [u8; 4] = hex::decode(parts.next().unwrap()).unwrap().try_into().unwrap();
    let raw = B64.decode(parts.next().unwrap()).unwrap();
    assert_eq!(raw[0], 1, "an Ed25519 key");
    let key = VerifyingKey::from_bytes(&raw[1..].try_into().unwrap()).unwrap();
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', 1])
        .chain_update(key.as_bytes())
        .finalize();
    assert_eq!(digest[..4], id, "the key id is SHA-256(name || LF || 0x01 || key)[:4]");
    Vkey { name, id, key }
}

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Opens a signed checkpoint note with `key`; panics on anything a verifier must refuse.
pub fn open_checkpoint(key: &Vkey, note: &str) -> Checkpoint {
    let (text, signatures) = note.rsplit_once("\n\n").expect("text, blank line, signatures");
    let text = format!("{text}\n");
    let mut verified = false;
    for line in signatures.lines() {
        let rest = line.strip_prefix("\u{2014} ").expect("an em dash and a space");
        let (name, blob) = rest.split_once(' ').unwrap();
        let blob = B64.decode(blob).unwrap();
        if name == key.name && blob[..4] == key.id {
            let signature = Signature::from_slice(&blob[4..]).unwrap();
            key.key
                .verify(text.as_bytes(), &signature)
                .expect("the log's signature verifies");
            verified = true;
        }
    }
    assert!(verified, "signed by the log's key");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], key.name, "the origin is the key's name");
    Checkpoint {
        origin: lines[0].to_owned(),
        size: lines[1].parse().unwrap(),
        root: B64.decode(lines[2]).unwrap().try_into().unwrap(),
    }
}

pub fn hashes(values: &serde_json::Value) -> Vec<Hash> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect()
}
