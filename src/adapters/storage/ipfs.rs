use std::time::Duration;

use crate::domain::partners::ports::ContentStore;
use crate::domain::partners::storage::cid_of;
use crate::domain::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// An IPFS node's HTTP RPC API (Kubo): `add` with CIDv1 and raw leaves, so the node's CID of the
/// bytes is the one computed here, which is checked.
pub struct IpfsStore {
    client: reqwest::Client,
    api: url::Url,
}

impl IpfsStore {
    pub fn new(api: url::Url) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder().timeout(TIMEOUT).build()?,
            api,
        })
    }

    fn endpoint(&self, path: &str) -> Result<url::Url> {
        self.api
            .join(path)
            .map_err(|e| Error::internal(format!("IPFS_API_URL: {e}")))
    }
}

fn unavailable(what: &str, err: impl std::fmt::Display) -> Error {
    Error::unavailable("ipfs_unavailable", format!("IPFS {what}: {err}"), 30)
}

#[async_trait::async_trait]
impl ContentStore for IpfsStore {
    fn adapter_type(&self) -> &'static str {
        "ipfs-ipfs"
    }

    async fn put(&self, cid: &str, bytes: &[u8]) -> Result<()> {
        let boundary = format!("defarm-{}", uuid::Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{cid}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut url = self.endpoint("api/v0/add")?;
        url.query_pairs_mut()
            .append_pair("cid-version", "1")
            .append_pair("raw-leaves", "true")
            .append_pair("pin", "true");
        let response = self
            .client
            .post(url)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable("add", e))?;
        if !response.status().is_success() {
            return Err(unavailable("add", response.status()));
        }
        let answer: serde_json::Value = response.json().await.map_err(|e| unavailable("add answer", e))?;
        let added = answer["Hash"].as_str().unwrap_or_default();
        if added != cid || cid_of(bytes)? != cid {
            return Err(Error::internal(format!("IPFS returned CID {added}, expected {cid}")));
        }
        Ok(())
    }

    async fn get(&self, cid: &str) -> Result<Option<Vec<u8>>> {
        let mut url = self.endpoint("api/v0/cat")?;
        url.query_pairs_mut().append_pair("arg", cid);
        let response = self.client.post(url).send().await.map_err(|e| unavailable("cat", e))?;
        if !response.status().is_success() {
            return Ok(None);
        }
        let bytes = response.bytes().await.map_err(|e| unavailable("cat", e))?;
        Ok((cid_of(&bytes)? == cid).then(|| bytes.to_vec()))
    }

    async fn ping(&self) -> Result<()> {
        let url = self.endpoint("api/v0/version")?;
        let response = self.client.post(url).timeout(PING_TIMEOUT).send().await.map_err(|e| {
            // reqwest's own message names the node's address, which clients must not learn.
            let what = if e.is_timeout() {
                "did not answer in time"
            } else if e.is_connect() {
                "refused the connection or is unreachable"
            } else {
                "could not be asked"
            };
            Error::unavailable("ipfs_unavailable", format!("the IPFS node {what}"), 30)
        })?;
        if !response.status().is_success() {
            return Err(unavailable("version", response.status()));
        }
        Ok(())
    }
}
