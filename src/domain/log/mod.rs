//! The transparency log (VERIFY.md): every event, item version and receipt commits to one
//! append-only RFC 9162 Merkle tree whose signed checkpoints anyone can check with the
//! verifiers of Certificate Transparency and Go's checksum database.

pub mod bundle_check;
pub mod checkpoint;
pub mod entry;
pub mod history;
pub mod merkle;
pub mod note;
pub mod ports;
pub mod service;
pub mod tiles;
