//! New ids, so tests can fix them.

pub trait IdGenerator: Send + Sync {
    /// A new random UUID, as text.
    fn new_id(&self) -> String;
}
