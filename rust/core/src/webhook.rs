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

/// The HTTP client for these time limits, made once per process (building one loads the system
/// certificates: milliseconds per request otherwise) and made again after a fork.
pub fn client(t: Timeouts) -> Result<reqwest::Client, WebhookError> {
    type Clients = Option<(u32, Vec<((Duration, Duration), reqwest::Client)>)>;
    static CLIENTS: std::sync::Mutex<Clients> = std::sync::Mutex::new(None);
    let mut guard = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|(p, _)| *p != pid) {
        std::mem::forget(guard.take());
    }
    let (_, clients) = guard.get_or_insert_with(|| (pid, Vec::new()));
    let key = (t.connect, t.total);
    if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.total)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("apicall/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WebhookError::Other(crate::error::chain(&e)))?;
    clients.push((key, c.clone()));
    Ok(c)
}

/// How a receiver can tell a delivery is genuine and fresh: `X-Apicall-Timestamp` (Unix
/// seconds) and `X-Apicall-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What identifies and authenticates one delivery.
#[derive(Debug, Clone, Default)]
pub struct Delivery<'a> {
    /// Signing key; empty: unsigned.
    pub secret: &'a str,
    /// `X-Apicall-Event-Id`, the same on every retry of one event.
    pub event_id: Option<&'a str>,
}

/// POSTs `body` (already JSON) as is; returns the status code and the reply body.
pub async fn post_json(
    url: &str,
    headers: &[Header],
    body: &[u8],
    t: Timeouts,
    delivery: &Delivery<'_>,
) -> Result<(u16, Vec<u8>), WebhookError> {
    let mut req = client(t)?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for h in headers {
        req = req.header(h.name.as_str(), h.value.as_str());
    }
    if !delivery.secret.is_empty() {
        let ts = crate::answer_url::now();
        req = req
            .header("X-Apicall-Timestamp", ts.to_string())
            .header("X-Apicall-Signature", signature(delivery.secret, ts, body));
    }
    if let Some(id) = delivery.event_id {
        req = req.header("X-Apicall-Event-Id", id);
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

/// Whether `url` may be fetched or posted to under the `allowed_hosts` setting (empty: any).
pub fn host_allowed(url: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| allowed.contains(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_exact_body() {
        let s = signature("k", 1700000000, br#"{"a":1}"#);
        assert!(s.starts_with("v1=") && s.len() == 3 + 64);
        assert_ne!(s, signature("k", 1700000001, br#"{"a":1}"#));
        assert_ne!(s, signature("k", 1700000000, br#"{"a": 1}"#));
        assert_ne!(s, signature("j", 1700000000, br#"{"a":1}"#));
        // The same value Python's hmac module computes, as a receiver would.
        assert_eq!(
            s,
            "v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3"
        );
    }

    #[test]
    fn allowed_hosts() {
        let allowed = vec!["hooks.example.com".to_string()];
        assert!(host_allowed("https://HOOKS.example.com/x", &allowed));
        assert!(!host_allowed("https://evil.example.com/x", &allowed));
        assert!(!host_allowed("not a url", &allowed));
        assert!(host_allowed("http://anything/", &[]));
    }
}
