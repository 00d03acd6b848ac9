//! Random UUIDs (version 4) for new records.

use crate::ports::IdGenerator;

pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn new_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}
