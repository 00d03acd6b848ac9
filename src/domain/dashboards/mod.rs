//! Dashboards: counts that say at a glance what a user, a circuit or the whole service holds and
//! what happened on it in the last 30 days. Read-only; each view is one query.

pub mod ports;
pub mod service;
pub mod stats;
