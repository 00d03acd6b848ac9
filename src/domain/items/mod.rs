//! Items: identifiers, DFIDs, local items (LIDs), global items, and the events recorded on them.

pub mod conflicts;
pub mod dfid;
pub mod dispute;
pub mod dispute_service;
#[cfg(test)]
mod dispute_tests;
pub mod event;
pub mod event_service;
pub mod identifier;
pub mod item;
pub mod item_service;
pub mod local_batch;
pub mod ports;
pub mod receipt;
pub mod receipt_service;
pub mod relation;
pub mod transfer;
pub mod transfer_service;
#[cfg(test)]
mod transfer_tests;
pub mod version;
