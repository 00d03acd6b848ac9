//! What reaches people and systems outside a request: webhooks and their outbox, notifications,
//! and content-addressed storage.

#[cfg(test)]
mod fan_out_tests;
pub mod notification;
pub mod notification_service;
pub mod ports;
pub mod storage;
pub mod storage_service;
pub mod trigger;
pub mod webhook;
pub mod webhook_service;
