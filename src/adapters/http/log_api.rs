//! `/log`: the transparency log's public face (VERIFY.md, "Routes"): the signed checkpoint, the
//! verifier key, every kept checkpoint, RFC 9162 proofs, and C2SP tlog-tiles.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Response, handler};
use poem_openapi::param::Query;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::PublicClient;
use super::error::{ApiError, ApiResult};
use super::types::{UtcTime, list_of, page};
use super::{ApiTags, AppState, State};
use crate::domain::log::merkle::Hash;
use crate::domain::log::ports::SignedCheckpoint;
use crate::domain::log::tiles::Tile;

pub struct LogApi;

/// The checkpoint changes with every batch: caches keep it a second at most.
const CHECKPOINT_CACHE: &str = "public, max-age=1";
/// Full tiles and bundles never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A partial tile is replaced by a wider one as the log grows.
const PARTIAL_TILE_CACHE: &str = "public, max-age=1";

/// A kept checkpoint.
#[derive(Object)]
pub struct CheckpointView {
    tree_size: u64,
    /// Base64.
    root_hash: String,
    /// The signed note, as `GET /log/checkpoint` serves it.
    checkpoint: String,
    signed_at: UtcTime,
}

impl From<SignedCheckpoint> for CheckpointView {
    fn from(c: SignedCheckpoint) -> Self {
        Self {
            tree_size: c.size,
            root_hash: B64.encode(c.root),
            checkpoint: c.note,
            signed_at: c.signed_at.into(),
        }
    }
}

list_of!(
    /// Signed checkpoints, largest tree first.
    CheckpointList,
    CheckpointView
);

/// An RFC 9162 inclusion proof (audit path), leaf side first.
#[derive(Object)]
struct InclusionProofView {
    index: u64,
    tree_size: u64,
    /// Base64 hashes.
    hashes: Vec<String>,
}

/// An RFC 9162 consistency proof.
#[derive(Object)]
struct ConsistencyProofView {
    from: u64,
    to: u64,
    /// Base64 hashes.
    hashes: Vec<String>,
}

#[derive(ApiResponse)]
enum CheckpointResponse {
    /// The latest signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note).
    #[oai(status = 200)]
    Ok(PlainText<String>, #[oai(header = "Cache-Control")] String),
}

pub(crate) fn base64_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

#[OpenApi(tag = "ApiTags::Log")]
impl LogApi {
    /// The latest signed checkpoint: `<origin>\n<tree size>\n<base64 root>\n`, a blank line, and
    /// an Ed25519 signature line, as Go's `sumdb/note` and the C2SP verifiers read it.
    #[oai(path = "/log/checkpoint", method = "get", operation_id = "log_checkpoint")]
    async fn checkpoint(&self, state: State<'_>, _client: PublicClient) -> ApiResult<CheckpointResponse> {
        let checkpoint = state.log.checkpoint().await?;
        Ok(CheckpointResponse::Ok(
            PlainText(checkpoint.note),
            CHECKPOINT_CACHE.to_owned(),
        ))
    }

    /// The verifier key: `<origin>+<key id>+<base64(0x01 || Ed25519 public key)>`. Obtain it once,
    /// out of band, and pin it.
    #[oai(path = "/log/key", method = "get", operation_id = "log_key")]
    async fn key(&self, state: State<'_>, _client: PublicClient) -> PlainText<String> {
        PlainText(state.log.verifier_key())
    }

    /// Every signed checkpoint, largest tree first, so a monitor can check any two for
    /// consistency.
    #[oai(path = "/log/checkpoints", method = "get", operation_id = "log_checkpoints")]
    async fn checkpoints(
        &self,
        state: State<'_>,
        _client: PublicClient,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<CheckpointList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.log.checkpoints(&page).await?.into()))
    }

    /// The audit path of the entry at `index` in the tree of `tree_size` entries (RFC 9162,
    /// 2.1.3). 400 when `index >= tree_size` or `tree_size` exceeds the latest checkpoint.
    #[oai(path = "/log/proof/inclusion", method = "get", operation_id = "log_inclusion_proof")]
    async fn inclusion(
        &self,
        state: State<'_>,
        _client: PublicClient,
        index: Query<u64>,
        tree_size: Query<u64>,
    ) -> ApiResult<Json<InclusionProofView>> {
        let hashes = state.log.inclusion(index.0, tree_size.0).await?;
        Ok(Json(InclusionProofView {
            index: index.0,
            tree_size: tree_size.0,
            hashes: base64_all(&hashes),
        }))
    }

    /// The proof that the tree of `from` entries is a prefix of the tree of `to` entries
    /// (RFC 9162, 2.1.4). 400 unless `0 < from <= to <=` the latest checkpoint's size.
    #[oai(
        path = "/log/proof/consistency",
        method = "get",
        operation_id = "log_consistency_proof"
    )]
    async fn consistency(
        &self,
        state: State<'_>,
        _client: PublicClient,
        from: Query<u64>,
        to: Query<u64>,
    ) -> ApiResult<Json<ConsistencyProofView>> {
        let hashes = state.log.consistency(from.0, to.0).await?;
        Ok(Json(ConsistencyProofView {
            from: from.0,
            to: to.0,
            hashes: base64_all(&hashes),
        }))
    }
}

/// `GET /log/tile/<L>/<N>[.p/<W>]` and `GET /log/tile/entries/<N>[.p/<W>]` (C2SP tlog-tiles,
/// height 8). Their multi-segment paths have no OpenAPI form, so they are plain routes.
#[handler]
pub async fn tile(req: &poem::Request, state: Data<&std::sync::Arc<AppState>>, _client: PublicClient) -> Response {
    let path = req.uri().path().strip_prefix("/log/tile/").unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let answer = match Tile::parse(&segments) {
        Some(tile) => state.log.tile(tile).await,
        None => Err(crate::domain::Error::not_found("tile")),
    };
    match answer {
        Ok(tile) => Response::builder()
            .status(StatusCode::OK)
            .content_type("application/octet-stream")
            .header(
                "Cache-Control",
                if tile.immutable { IMMUTABLE } else { PARTIAL_TILE_CACHE },
            )
            .body(tile.bytes),
        Err(err) => ApiError(err).into_response(),
    }
}
