//! Password hashing (argon2id, with bcrypt verification for imported hashes) and session tokens
//! (HS256 JWT).

mod cipher;
mod jwt;
mod passwords;

pub use cipher::AesCipher;
pub use jwt::JwtSigner;
pub use passwords::{HashLimits, PasswordHashing};
