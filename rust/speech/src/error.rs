//! One error type for every speech provider, text-to-speech and speech-to-text alike.
//!
//! Why one: both directions talk to the same kinds of engines (a local service, Google, OpenAI,
//! a child process) and fail the same ways (unreachable, timed out, refused the credentials,
//! rate limited, a broken reply), and the fallback chains decide on those ways the same way:
//! try the next provider, unless the input itself is unusable. [`SttError`] and [`TtsError`] are
//! names for it that read well where each is used.
//!
//! Every variant names the provider (and the URL when there is one), so a message in a log or
//! in the CLI's JSON says where it went wrong without further context. No variant carries a
//! credential.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("{provider}: invalid configuration: {detail}")]
    Config { provider: String, detail: String },
    #[error("{provider}: cannot send this audio: {detail}")]
    BadAudio { provider: String, detail: String },
    #[error("{provider}: nothing to synthesize: {detail}")]
    BadText { provider: String, detail: String },
    /// A local engine (a child process) failed.
    #[error("{provider}: {detail}")]
    Engine { provider: String, detail: String },
    #[error("{provider}: cannot reach {url}: {detail}")]
    Unreachable {
        provider: String,
        url: String,
        detail: String,
    },
    #[error("{provider}: no reply from {url} within {after:?}")]
    Timeout {
        provider: String,
        url: String,
        after: Duration,
    },
    #[error("{provider}: connection to {url} failed mid-request: {detail}")]
    Transport {
        provider: String,
        url: String,
        detail: String,
    },
    #[error("{provider}: {url} refused the credentials (HTTP {status}): {message}")]
    Unauthorized {
        provider: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{provider}: {url} is rate limiting (HTTP 429{}): {message}", retry_after.map(|s| format!(", retry after {s} s")).unwrap_or_default())]
    RateLimited {
        provider: String,
        url: String,
        retry_after: Option<u64>,
        message: String,
    },
    #[error("{provider}: {url} failed (HTTP {status}): {message}")]
    Server {
        provider: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{provider}: {url} answered HTTP {status}: {message}")]
    Http {
        provider: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{provider}: bad reply from {url}: {detail}")]
    BadReply {
        provider: String,
        url: String,
        detail: String,
    },
    #[error("no {task} provider succeeded: {}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    AllFailed {
        /// "speech-to-text" or "text-to-speech".
        task: &'static str,
        errors: Vec<SpeechError>,
    },
}

/// The error of speech-to-text providers.
pub type SttError = SpeechError;
/// The error of text-to-speech providers.
pub type TtsError = SpeechError;

impl SpeechError {
    /// The HTTP status the provider answered, if it answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SpeechError::Unauthorized { status, .. }
            | SpeechError::Server { status, .. }
            | SpeechError::Http { status, .. } => Some(*status),
            SpeechError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Whether another provider might do better. Unusable input (no samples, no text) would be
    /// unusable for any of them.
    pub fn try_next(&self) -> bool {
        !matches!(
            self,
            SpeechError::BadAudio { .. } | SpeechError::BadText { .. }
        )
    }

    /// A short machine-readable name of the kind of failure, for JSON output and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SpeechError::Config { .. } => "config",
            SpeechError::BadAudio { .. } => "bad_audio",
            SpeechError::BadText { .. } => "bad_text",
            SpeechError::Engine { .. } => "engine_failed",
            SpeechError::Unreachable { .. } => "unreachable",
            SpeechError::Timeout { .. } => "timeout",
            SpeechError::Transport { .. } => "transport",
            SpeechError::Unauthorized { .. } => "unauthorized",
            SpeechError::RateLimited { .. } => "rate_limited",
            SpeechError::Server { .. } => "server_error",
            SpeechError::Http { .. } => "http_error",
            SpeechError::BadReply { .. } => "bad_reply",
            SpeechError::AllFailed { .. } => "all_failed",
        }
    }
}
