//! Content-addressed stores: `local` keeps bytes in the database (every replica can serve them);
//! `ipfs-ipfs` adds them to an IPFS node through its HTTP RPC API.

mod ipfs;
mod local;

pub use ipfs::IpfsStore;
pub use local::LocalStore;
