//! Offline verification of a proof bundle (`defarm verify`): every digest recomputed from what
//! the bundle shows, every commitment, entry and inclusion proof, and the checkpoint's
//! signature under a verifier key obtained out of band.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::checkpoint::Checkpoint;
use super::entry::{EntryKind, commitment, entry_bytes};
use super::merkle::{Hash, leaf_hash, verify_inclusion};
use super::note::NoteVerifier;
use crate::domain::items::event::content_hash;

/// What a bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub tree_size: u64,
    pub versions: usize,
    pub events: usize,
    pub receipts: usize,
}

/// Checks `bundle` against `key`; the error names the record that failed.
pub fn verify_bundle(bundle: &Value, key: &NoteVerifier) -> Result<Verified, String> {
    let note = bundle["checkpoint"]
        .as_str()
        .ok_or("the bundle has no checkpoint yet")?;
    let checkpoint = open_checkpoint(note, key)?;
    if bundle["tree_size"].as_u64() != Some(checkpoint.size)
        || bundle["root_hash"].as_str() != Some(B64.encode(checkpoint.root).as_str())
    {
        return Err("tree_size or root_hash differ from the signed checkpoint".into());
    }
    let dfid = bundle["dfid"].as_str().ok_or("the bundle has no dfid")?;

    let versions = bundle["versions"].as_array().ok_or("the bundle has no versions list")?;
    // Oldest first, so each version's `previous_sha256` can be checked against the one before.
    let mut previous: Option<String> = None;
    for version in versions.iter().rev() {
        let number = version["version"].as_u64().unwrap_or_default();
        let record = format!("version {number} of {dfid}");
        let stated = version["document_sha256"]
            .as_str()
            .ok_or(format!("{record}: no document_sha256"))?;
        if let Some(document) = version["document"].as_object() {
            let document = Value::Object(document.clone());
            let canonical = serde_jcs::to_vec(&document).map_err(|e| format!("{record}: {e}"))?;
            if hex::encode(Sha256::digest(&canonical)) != stated {
                return Err(format!("{record}: the document does not hash to its document_sha256"));
            }
            let chained = document["previous_sha256"].as_str().map(str::to_owned);
            if number > 1 && previous.is_some() && chained != previous {
                return Err(format!(
                    "{record}: previous_sha256 does not name version {}",
                    number - 1
                ));
            }
            if document["dfid"].as_str() != Some(dfid) || document["version"].as_u64() != Some(number) {
                return Err(format!("{record}: the document names another item or version"));
            }
        }
        check_logged(&version["log"], EntryKind::Version, stated, &checkpoint, note, &record)?;
        previous = Some(stated.to_owned());
    }

    let events = bundle["events"].as_array().ok_or("the bundle has no events list")?;
    for item in events {
        let event = &item["event"];
        let record = format!("event {}", event["event_id"].as_str().unwrap_or("?"));
        let text = |field: &str| event[field].as_str().ok_or(format!("{record}: no {field}"));
        let hash = content_hash(
            text("dfid")?,
            text("event_type")?,
            text("source")?,
            &event["metadata"],
            text("occurred_at")?,
        )
        .map_err(|e| format!("{record}: {}", e.message))?;
        if text("content_hash")? != hash || text("dfid")? != dfid {
            return Err(format!("{record}: its content does not hash to its content_hash"));
        }
        check_logged(&item["log"], EntryKind::Event, &hash, &checkpoint, note, &record)?;
    }
    let receipts = bundle["receipts"].as_array().map(Vec::as_slice).unwrap_or_default();
    for item in receipts {
        let receipt = &item["receipt"];
        let record = format!("receipt {}", receipt["receipt_id"].as_str().unwrap_or("?"));
        let digest = receipt["sha256"].as_str().ok_or(format!("{record}: no sha256"))?;
        if receipt["dfid"].as_str() != Some(dfid) {
            return Err(format!("{record}: attached to another item"));
        }
        check_logged(&receipt["log"], EntryKind::Receipt, digest, &checkpoint, note, &record)?;
    }
    Ok(Verified {
        tree_size: checkpoint.size,
        versions: versions.len(),
        events: events.len(),
        receipts: receipts.len(),
    })
}

fn open_checkpoint(note: &str, key: &NoteVerifier) -> Result<Checkpoint, String> {
    let text = key.open(note).map_err(|e| format!("checkpoint: {e}"))?;
    let checkpoint = Checkpoint::parse(text).ok_or("checkpoint: not a tlog checkpoint")?;
    if checkpoint.origin != key.name() {
        return Err(format!(
            "checkpoint: origin {:?} is not the key's name",
            checkpoint.origin
        ));
    }
    Ok(checkpoint)
}

fn hash_field(value: &Value, record: &str, field: &str) -> Result<Vec<u8>, String> {
    let text = value.as_str().ok_or(format!("{record}: no {field}"))?;
    hex::decode(text).map_err(|_| format!("{record}: {field} is not hex"))
}

/// One fact's log object: salt and digest give the commitment, the commitment the entry, the
/// entry the leaf, and the leaf with the proof the signed root.
fn check_logged(
    log: &Value,
    kind: EntryKind,
    digest_hex: &str,
    checkpoint: &Checkpoint,
    note: &str,
    record: &str,
) -> Result<(), String> {
    if log["status"] != "integrated" {
        return Err(format!(
            "{record}: not integrated into the log yet (ask for the bundle again)"
        ));
    }
    let salt: [u8; 16] = hash_field(&log["salt"], record, "salt")?
        .try_into()
        .map_err(|_| format!("{record}: the salt is not 16 bytes"))?;
    let digest: Hash = hash_field(&Value::String(digest_hex.to_owned()), record, "digest")?
        .try_into()
        .map_err(|_| format!("{record}: the digest is not 32 bytes"))?;
    let committed = commitment(&salt, &digest);
    if hash_field(&log["commitment"], record, "commitment")? != committed {
        return Err(format!("{record}: the commitment does not open to this content"));
    }
    let entry = B64
        .decode(log["entry"].as_str().unwrap_or_default())
        .map_err(|_| format!("{record}: the entry is not base64"))?;
    let logged_at = entry
        .get(33..41)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_be_bytes)
        .ok_or(format!("{record}: the entry is not 41 bytes"))?;
    if entry != entry_bytes(kind, &committed, logged_at) {
        return Err(format!(
            "{record}: the entry is not a {} entry for this commitment",
            kind.as_str()
        ));
    }
    if log["checkpoint"].as_str() != Some(note) || log["tree_size"].as_u64() != Some(checkpoint.size) {
        return Err(format!("{record}: proved against another checkpoint than the bundle's"));
    }
    let proof = log["inclusion_proof"]
        .as_array()
        .ok_or(format!("{record}: no inclusion proof"))?
        .iter()
        .map(|h| {
            B64.decode(h.as_str().unwrap_or_default())
                .ok()
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or(format!("{record}: a proof hash is not 32 bytes of base64"))
        })
        .collect::<Result<Vec<Hash>, String>>()?;
    let index = log["leaf_index"].as_u64().ok_or(format!("{record}: no leaf_index"))?;
    if !verify_inclusion(index, checkpoint.size, &leaf_hash(&entry), &proof, &checkpoint.root) {
        return Err(format!(
            "{record}: the inclusion proof does not lead to the signed root"
        ));
    }
    Ok(())
}
