//! How database failures reach the domain: outages and overload become 503 with `Retry-After`,
//! unique violations a `unique_violation` conflict the repository can rename, text PostgreSQL
//! cannot store a 400, the rest a 500.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

use crate::domain::Error;

/// The `code` a unique-index violation carries until a repository names it for the client.
pub const UNIQUE_VIOLATION: &str = "unique_violation";

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return Error::conflict(UNIQUE_VIOLATION, detail);
        }
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => unavailable(&err),
            DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
                classify_sqlx(inner.deref(), &err)
            }
            _ => Error::internal(format!("database: {err}")),
        }
    }
}

fn classify_sqlx(inner: &sqlx::Error, err: &DbErr) -> Error {
    match inner {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => unavailable(err),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.deref() {
                // SQLite: SQLITE_BUSY / SQLITE_LOCKED (and their extended codes) after the busy
                // timeout ran out.
                "5" | "6" | "261" | "262" | "517" => {
                    tracing::warn!(error = %err, "database busy");
                    Error::unavailable("database_busy", "the database is busy, retry shortly", 1)
                }
                // PostgreSQL: query_canceled (statement_timeout), admin shutdown, cannot connect now.
                "57014" => Error::unavailable("database_timeout", "the database did not answer in time", 1),
                "57P01" | "57P02" | "57P03" | "53300" => unavailable(err),
                // PostgreSQL text and jsonb cannot hold U+0000 (character_not_in_repertoire,
                // untranslatable_character); SQLite stores it. The client sent it, so it is a 400.
                "22021" | "22P05" => {
                    Error::invalid("validation_error", "text may not contain the NUL character (U+0000)")
                }
                _ => Error::internal(format!("database: {err}")),
            }
        }
        _ => Error::internal(format!("database: {err}")),
    }
}

fn unavailable(err: &DbErr) -> Error {
    tracing::warn!(error = %err, "database unavailable");
    Error::unavailable("database_unavailable", "the database is unavailable, retry shortly", 1)
}
