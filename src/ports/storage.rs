//! Content-addressed stores for item documents.

use crate::domain::Result;

#[async_trait::async_trait]
pub trait ContentStore: Send + Sync {
    /// `local`, `ipfs-ipfs`.
    fn adapter_type(&self) -> &'static str;
    /// Stores `bytes` under `cid`, which the caller computed; an adapter that computes a
    /// different CID for the bytes fails.
    async fn put(&self, cid: &str, bytes: &[u8]) -> Result<()>;
    async fn get(&self, cid: &str) -> Result<Option<Vec<u8>>>;
}
