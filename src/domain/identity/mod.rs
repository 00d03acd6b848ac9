//! Identity and access: accounts, sessions, API keys, the guard every protected request passes,
//! tier limits, and administration.

pub mod access;
pub mod account;
pub mod admin;
pub mod api_keys;
pub mod auth;
#[cfg(test)]
mod auth_tests;
pub mod guard;
pub mod lockout;
pub mod mail_outbox;
pub mod password_reset;
pub mod ports;
