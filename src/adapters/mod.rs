//! One module per outside thing. `http` drives the application; the others implement ports.

pub mod cache;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod http;
pub mod ids;
pub mod limits;
pub mod mail;
pub mod notify;
pub mod redis;
pub mod storage;
pub mod webhooks;
