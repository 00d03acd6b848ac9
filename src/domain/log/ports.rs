//! What the log needs from storage.

use std::collections::HashMap;

use super::entry::{ENTRY_LEN, EntryKind, LoggedFact};
use super::merkle::{Hash, Node};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Result, Timestamp};

/// A signed checkpoint as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub signed_at: Timestamp,
}

/// Signs the checkpoint of a tree `(size, root)`, returning the note text.
pub type Sign = std::sync::Arc<dyn Fn(u64, &Hash) -> String + Send + Sync>;

#[async_trait::async_trait]
pub trait LogRepo: Send + Sync {
    async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>>;
    async fn checkpoints(&self, page: &PageRequest) -> Result<Page<SignedCheckpoint>>;
    /// The stored hashes among `nodes` (all of them when the tree has them).
    async fn nodes(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>>;
    /// The entries at leaf indexes `from..to`, in order.
    async fn entries(&self, from: u64, to: u64) -> Result<Vec<[u8; ENTRY_LEN]>>;
    /// The entries of these facts, integrated or pending.
    async fn logged(&self, kind: EntryKind, fact_ids: &[String]) -> Result<Vec<LoggedFact>>;
}

#[async_trait::async_trait]
pub trait LogSequencer: Send + Sync {
    /// Under a lock only one replica holds at a time, and in one transaction: takes up to `limit`
    /// pending entries, gives them the next leaf indexes, stores the tree's new hashes, and keeps
    /// the checkpoint `sign` returns. Signs the empty tree when nothing was ever signed. Returns
    /// how many entries it integrated.
    async fn integrate(&self, limit: usize, now: Timestamp, sign: Sign) -> Result<usize>;
}
