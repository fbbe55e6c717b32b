//! The HTTP plumbing every cloud or service provider shares: one way to build a client, send a
//! request, read a bounded reply and turn what went wrong into a [`SpeechError`].
//!
//! Why shared: OpenAI, Google's APIs, Google's token endpoint and the local speech service fail
//! in the same few ways, and callers decide on the kind of failure (fall back, report, retry
//! later), so the classification must be the same everywhere. Clients never follow redirects (an
//! endpoint that redirects is misconfigured, and a key or token must not travel elsewhere), and
//! always have a connect timeout and a total one, because a caller is waiting on the line.

use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use crate::error::SpeechError;

/// How much of an error reply is kept for the message.
const MAX_ERROR_SNIPPET: usize = 300;

/// Clients made so far, by (process, thread, connect timeout).
static CLIENTS: Mutex<Vec<(ClientKey, reqwest::Client)>> = Mutex::new(Vec::new());

#[derive(PartialEq)]
struct ClientKey {
    pid: u32,
    thread: std::thread::ThreadId,
    connect_timeout: Duration,
}

/// A client with this connect timeout, no redirects and the crate's User-Agent; the total
/// timeout is checked here and applied per request ([`Target::send`]).
///
/// Clients are shared: building one loads the system's TLS roots (about 50 ms in a debug
/// build), too slow to pay for every provider of every call, and a shared client keeps its
/// connections alive between calls. They are kept per process and thread because a client's
/// pooled connections belong to the async runtime that opened them: PHP forks its workers
/// (the engine makes a runtime per process) and tests run a runtime per thread.
pub(crate) fn client(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    if timeout.is_zero() || connect_timeout.is_zero() {
        return Err("timeouts must be above zero".into());
    }
    let key = ClientKey {
        pid: std::process::id(),
        thread: std::thread::current().id(),
        connect_timeout,
    };
    let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    // Clients of a parent process are useless after a fork; forget them.
    clients.retain(|(k, _)| k.pid == key.pid);
    if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let client = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("apicall-speech/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    clients.push((key, client.clone()));
    Ok(client)
}

/// Checks that `url` is an absolute http(s) URL.
pub(crate) fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("URL {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("URL {url:?} is not http(s)"));
    }
    Ok(parsed)
}

/// A successful reply.
pub(crate) struct Reply {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Where a request goes and who sends it, for the errors.
pub(crate) struct Target<'a> {
    pub provider: &'a str,
    pub url: &'a str,
    /// The whole request: connect, upload, processing and the reply.
    pub timeout: Duration,
}

impl Target<'_> {
    /// Sends the request and reads at most `max_bytes` of the reply; any status other than 2xx
    /// is an error of the matching kind.
    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        max_bytes: usize,
    ) -> Result<Reply, SpeechError> {
        let mut resp = req
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(self.bad_reply(format!("over {max_bytes} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), retry_after, &body));
        }
        Ok(Reply { content_type, body })
    }

    pub fn transport_error(&self, e: reqwest::Error) -> SpeechError {
        let provider = self.provider.to_string();
        let url = self.url.to_string();
        // The source chain says why (refused, reset, DNS); reqwest's own text only repeats
        // the URL, which the error already carries.
        let mut causes = Vec::new();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            causes.push(s.to_string());
            src = s.source();
        }
        let detail = if causes.is_empty() {
            e.to_string()
        } else {
            causes.join(": ")
        };
        if e.is_connect() {
            SpeechError::Unreachable {
                provider,
                url,
                detail,
            }
        } else if e.is_timeout() {
            SpeechError::Timeout {
                provider,
                url,
                after: self.timeout,
            }
        } else {
            SpeechError::Transport {
                provider,
                url,
                detail,
            }
        }
    }

    pub fn bad_reply(&self, detail: String) -> SpeechError {
        SpeechError::BadReply {
            provider: self.provider.to_string(),
            url: self.url.to_string(),
            detail,
        }
    }

    pub fn status_error(&self, status: u16, retry_after: Option<u64>, body: &[u8]) -> SpeechError {
        let message = error_message(body);
        let (provider, url) = (self.provider.to_string(), self.url.to_string());
        match status {
            401 | 403 => SpeechError::Unauthorized {
                provider,
                url,
                status,
                message,
            },
            429 => SpeechError::RateLimited {
                provider,
                url,
                retry_after,
                message,
            },
            500..=599 => SpeechError::Server {
                provider,
                url,
                status,
                message,
            },
            _ => SpeechError::Http {
                provider,
                url,
                status,
                message,
            },
        }
    }
}

/// The error shapes the providers answer with.
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorReply {
    /// OpenAI `{"error":{"message":...}}`; Google APIs `{"error":{"code":..,"message":..,"status":..}}`.
    Api { error: ApiErrorBody },
    /// OAuth 2.0 token endpoints (RFC 6749 section 5.2): `{"error":"invalid_grant","error_description":...}`.
    OAuth {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    },
}

#[derive(Deserialize)]
struct ApiErrorBody {
    message: String,
    #[serde(default)]
    status: Option<String>,
}

/// The message of an error reply: the JSON message where there is one (with Google's status
/// name or the OAuth error code in front), otherwise the start of the body (text, HTML).
pub(crate) fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorReply>(body) {
        Ok(ErrorReply::Api { error }) => match error.status {
            Some(s) if !s.is_empty() => format!("{s}: {}", error.message),
            _ => error.message,
        },
        Ok(ErrorReply::OAuth {
            error,
            error_description,
        }) => match error_description {
            Some(d) if !d.is_empty() => format!("{error}: {d}"),
            _ => error,
        },
        Err(_) => snippet(body),
    }
}

/// The start of a body, for messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let mut cut: String = text.chars().take(MAX_ERROR_SNIPPET).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_of_every_shape() {
        assert_eq!(
            error_message(
                br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#
            ),
            "Incorrect API key"
        );
        assert_eq!(
            error_message(br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#),
            "RESOURCE_EXHAUSTED: Quota exceeded"
        );
        assert_eq!(
            error_message(
                br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
            ),
            "invalid_grant: Invalid JWT Signature."
        );
        assert_eq!(
            error_message(br#"{"error":"invalid_client"}"#),
            "invalid_client"
        );
        assert_eq!(
            error_message(b"<h1>502 Bad Gateway</h1>"),
            "<h1>502 Bad Gateway</h1>"
        );
        assert_eq!(error_message(b"  "), "(empty body)");
        let long = "x".repeat(1000);
        assert_eq!(
            error_message(long.as_bytes()).chars().count(),
            MAX_ERROR_SNIPPET + 1
        );
    }

    #[test]
    fn urls_must_be_http() {
        assert!(check_url("http://127.0.0.1:8765").is_ok());
        assert!(check_url("https://speech.googleapis.com/v1/speech:recognize").is_ok());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("not a url").is_err());
        assert!(client(Duration::ZERO, Duration::from_secs(1)).is_err());
    }
}
