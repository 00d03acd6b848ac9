//! The log's use cases: integrate pending entries, serve checkpoints, proofs and tiles, and say
//! where each fact stands.

use std::collections::HashMap;
use std::sync::Arc;

use super::checkpoint::Checkpoint;
use super::entry::{ENTRY_LEN, EntryKind, LogEntry};
use super::merkle::{self, Hash, Range};
use super::note::NoteSigner;
use super::ports::{LogRepo, LogSequencer, SignedCheckpoint};
use super::tiles::{Tile, TileKind};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Error, Result};
use crate::ports::clock::Clock;

/// Where one fact stands in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactLog {
    Pending,
    Integrated {
        entry: LogEntry,
        leaf_index: u64,
        /// The audit path to the checkpoint's root.
        proof: Vec<Hash>,
        checkpoint: SignedCheckpoint,
    },
}

/// A tile's bytes, and whether they can never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileBytes {
    pub bytes: Vec<u8>,
    pub immutable: bool,
}

pub struct LogService {
    repo: Arc<dyn LogRepo>,
    sequencer: Arc<dyn LogSequencer>,
    clock: Arc<dyn Clock>,
    signer: NoteSigner,
}

impl LogService {
    pub fn new(
        repo: Arc<dyn LogRepo>,
        sequencer: Arc<dyn LogSequencer>,
        clock: Arc<dyn Clock>,
        signer: NoteSigner,
    ) -> Self {
        Self {
            repo,
            sequencer,
            clock,
            signer,
        }
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    pub fn verifier_key(&self) -> String {
        self.signer.verifier().to_string()
    }

    /// Integrates up to `limit` pending entries and signs the new tree; returns how many.
    pub async fn integrate(&self, limit: usize) -> Result<usize> {
        let origin = self.origin().to_owned();
        let signer = self.signer.clone();
        let sign = move |size: u64, root: &Hash| {
            signer.sign(
                &Checkpoint {
                    origin: origin.clone(),
                    size,
                    root: *root,
                }
                .text(),
            )
        };
        self.sequencer.integrate(limit, self.clock.now(), Arc::new(sign)).await
    }

    pub async fn checkpoint(&self) -> Result<SignedCheckpoint> {
        self.repo
            .latest_checkpoint()
            .await?
            .ok_or_else(|| Error::unavailable("log_starting", "the log has not signed its first checkpoint yet", 1))
    }

    pub async fn checkpoints(&self, page: &PageRequest) -> Result<Page<SignedCheckpoint>> {
        self.repo.checkpoints(page).await
    }

    /// The audit path of leaf `index` in the tree of `size` leaves.
    pub async fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let latest = self.checkpoint().await?.size;
        if size > latest {
            return Err(Error::field(
                "tree_size",
                format!("must be at most the latest checkpoint's size, {latest}"),
            ));
        }
        if index >= size {
            return Err(Error::field("index", "must be smaller than tree_size"));
        }
        self.hashes(&merkle::inclusion_ranges(index, size)).await
    }

    /// The proof that the tree of `from` leaves is a prefix of the tree of `to` leaves.
    pub async fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let latest = self.checkpoint().await?.size;
        if to > latest {
            return Err(Error::field(
                "to",
                format!("must be at most the latest checkpoint's size, {latest}"),
            ));
        }
        if from == 0 || from > to {
            return Err(Error::field("from", "must be between 1 and to"));
        }
        self.hashes(&merkle::consistency_ranges(from, to)).await
    }

    /// A hash tile or entry bundle of the latest tree; 404 for one the tree does not have.
    pub async fn tile(&self, tile: Tile) -> Result<TileBytes> {
        let size = self.checkpoint().await?.size;
        let available = size >> tile.tree_level();
        let (first, end) = tile.items();
        if end > available {
            return Err(Error::not_found("tile"));
        }
        let bytes = match tile.kind {
            TileKind::Hashes(_) => {
                let nodes: Vec<_> = (first..end).map(|i| merkle::Node::new(tile.tree_level(), i)).collect();
                let found = self.repo.nodes(&nodes).await?;
                let mut bytes = Vec::with_capacity(nodes.len() * 32);
                for node in &nodes {
                    bytes.extend_from_slice(found.get(node).ok_or_else(|| missing(*node))?);
                }
                bytes
            }
            TileKind::Entries => {
                let entries = self.repo.entries(first, end).await?;
                let mut bytes = Vec::with_capacity(entries.len() * (ENTRY_LEN + 2));
                for entry in &entries {
                    bytes.extend_from_slice(&(ENTRY_LEN as u16).to_be_bytes());
                    bytes.extend_from_slice(entry);
                }
                bytes
            }
        };
        Ok(TileBytes {
            bytes,
            immutable: tile.partial.is_none(),
        })
    }

    /// The latest checkpoint, if the log has signed one.
    pub async fn latest(&self) -> Result<Option<SignedCheckpoint>> {
        self.repo.latest_checkpoint().await
    }

    /// Where each of these facts stands, with inclusion proofs against `checkpoint` (read first:
    /// a fact integrated after it is pending as far as it knows). Facts without an entry
    /// (recorded before the log existed) are left out.
    pub async fn facts(
        &self,
        checkpoint: Option<&SignedCheckpoint>,
        kind: EntryKind,
        fact_ids: &[String],
    ) -> Result<HashMap<String, FactLog>> {
        if fact_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let logged = self.repo.logged(kind, fact_ids).await?;
        let mut facts = HashMap::with_capacity(logged.len());
        for fact in logged {
            let status = match (fact.leaf_index, checkpoint) {
                (Some(leaf_index), Some(checkpoint)) if leaf_index < checkpoint.size => FactLog::Integrated {
                    proof: self
                        .hashes(&merkle::inclusion_ranges(leaf_index, checkpoint.size))
                        .await?,
                    entry: fact.entry.clone(),
                    leaf_index,
                    checkpoint: checkpoint.clone(),
                },
                _ => FactLog::Pending,
            };
            facts.insert(fact.entry.fact_id, status);
        }
        Ok(facts)
    }

    async fn hashes(&self, ranges: &[Range]) -> Result<Vec<Hash>> {
        let nodes: Vec<_> = ranges.iter().flat_map(|r| r.nodes()).collect();
        let found = self.repo.nodes(&nodes).await?;
        ranges
            .iter()
            .map(|range| {
                range
                    .hash(&|node| found.get(&node).copied())
                    .ok_or_else(|| Error::internal(format!("the log is missing a hash of {range:?}")))
            })
            .collect()
    }
}

fn missing(node: merkle::Node) -> Error {
    Error::internal(format!("the log is missing the hash of {node:?}"))
}
