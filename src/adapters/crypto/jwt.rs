use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use crate::domain::identity::access::Claims;
use crate::domain::identity::ports::TokenSigner;
use crate::domain::{Error, Result};

/// HS256 JWTs. Only HS256 is accepted, so a token cannot pick its own algorithm.
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtSigner {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

impl TokenSigner for JwtSigner {
    fn sign(&self, claims: &Claims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| Error::internal(format!("jwt: {e}")))
    }

    fn verify(&self, token: &str) -> Result<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Error::unauthenticated("token_expired", "the token has expired")
                }
                _ => Error::unauthenticated("invalid_token", "the token is invalid"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "user-1".into(),
            sid: "s-1".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let signer = JwtSigner::new(b"0123456789abcdef0123456789abcdef");
        let future = chrono::Utc::now().timestamp() + 60;
        let token = signer.sign(&claims(future)).unwrap();
        assert_eq!(signer.verify(&token).unwrap(), claims(future));

        let expired = signer.sign(&claims(chrono::Utc::now().timestamp() - 1)).unwrap();
        assert_eq!(signer.verify(&expired).unwrap_err().code, "token_expired");

        let other = JwtSigner::new(b"another-secret-another-secret-000");
        assert_eq!(other.verify(&token).unwrap_err().code, "invalid_token");
        assert_eq!(signer.verify("not.a.jwt").unwrap_err().code, "invalid_token");

        // alg=none must never pass.
        let none = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(signer.verify(&none).unwrap_err().code, "invalid_token");
    }
}
