//! DeFarm Engines: a supply-chain traceability API.
//!
//! Read in this order: [`domain`] (what the product is), [`ports`] (what it needs from the
//! world), [`adapters`] (how it talks to the world, HTTP first), [`app`] (how it is put together).

pub mod adapters;
pub mod app;
pub mod domain;
pub mod ports;
