//! One module per outside thing. `http` drives the application; the others implement ports.

pub mod cache;
pub mod db;
pub mod http;
pub mod redis;
