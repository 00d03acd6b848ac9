use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::adapters::db::Database;
use crate::adapters::db::entities::content_blob;
use crate::domain::partners::ports::ContentStore;
use crate::domain::partners::storage::cid_of;
use crate::domain::{Error, Result};
use crate::ports::DatabaseHealth;

/// Bytes in the database, keyed by their CID.
pub struct LocalStore {
    db: Arc<Database>,
}

impl LocalStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl ContentStore for LocalStore {
    fn adapter_type(&self) -> &'static str {
        "local"
    }

    async fn put(&self, cid: &str, bytes: &[u8]) -> Result<()> {
        if cid_of(bytes)? != cid {
            return Err(Error::internal("the bytes do not match their CID"));
        }
        let row = content_blob::ActiveModel {
            cid: Set(cid.to_owned()),
            size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            bytes: Set(bytes.to_vec()),
            created_at: Set(chrono::Utc::now()),
        };
        self.db
            .read("content.put", |c| {
                Box::pin(async move {
                    // The same CID is the same bytes: a second copy is a no-op.
                    content_blob::Entity::insert(row)
                        .on_conflict(OnConflict::column(content_blob::Column::Cid).do_nothing().to_owned())
                        .exec_without_returning(c)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    async fn get(&self, cid: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .db
            .read("content.get", |c| {
                Box::pin(async move { Ok(content_blob::Entity::find_by_id(cid).one(c).await?) })
            })
            .await?;
        Ok(row.map(|r| r.bytes))
    }

    async fn ping(&self) -> Result<()> {
        self.db.ping().await.map(|_| ())
    }
}
