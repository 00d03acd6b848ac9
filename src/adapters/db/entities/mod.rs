//! SeaORM entities: one module per table, mirroring `migration/`.

pub mod api_key;
pub mod audit;
pub mod reset_token;
pub mod session;
pub mod user;
pub mod workspace;
