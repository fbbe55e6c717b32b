//! Outgoing webhooks: JSON POSTs with the client's headers and hard time limits.
//!
//! A webhook is someone else's server: it may be down, slow, or answer nonsense. Every request
//! here has a connect timeout and a total timeout, a cap on the reply size, and an error that
//! says which of those went wrong, so the caller can fall back and the log can tell the admin why.

use std::time::Duration;

use crate::aibot::request::Header;

/// Largest webhook reply read.
pub const MAX_REPLY: usize = 256 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("reply larger than {MAX_REPLY} bytes")]
    TooLarge,
    #[error("{0}")]
    Other(String),
}

/// A per-process client (connection reuse); clients are cheap to clone.
fn client(t: Timeouts) -> Result<reqwest::Client, WebhookError> {
    reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.total)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("apicall/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WebhookError::Other(crate::error::chain(&e)))
}

/// POSTs `body` as JSON; returns the status code and the reply body.
pub async fn post_json(
    url: &str,
    headers: &[Header],
    body: &serde_json::Value,
    t: Timeouts,
) -> Result<(u16, Vec<u8>), WebhookError> {
    let mut req = client(t)?.post(url).json(body);
    for h in headers {
        req = req.header(h.name.as_str(), h.value.as_str());
    }
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            WebhookError::Timeout(t.total)
        } else if e.is_connect() {
            WebhookError::Connect(crate::error::chain(&e))
        } else {
            WebhookError::Other(crate::error::chain(&e))
        }
    };
    let work = async {
        let mut resp = req.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            buf.extend_from_slice(&chunk);
            if buf.len() > MAX_REPLY {
                return Err(WebhookError::TooLarge);
            }
        }
        Ok((status, buf))
    };
    // The client's own timeout covers the request; this also bounds a slow-dripping body.
    match tokio::time::timeout(t.total + Duration::from_millis(100), work).await {
        Err(_) => Err(WebhookError::Timeout(t.total)),
        Ok(r) => r,
    }
}
