//! The one error type every public operation returns.
//!
//! An `ApiError` is what an API client sees: an HTTP status, a stable machine-readable code, the
//! offending request field when there is one, and a message written for a developer. Internal
//! causes (I/O, database) are folded into the message so logs keep their context.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status the entry point answers with.
    pub status: u16,
    /// Stable, machine-readable code (`invalid_field`, `unauthorized`, ...).
    pub code: &'static str,
    /// The request field at fault, when the error is about one.
    pub field: Option<String>,
    /// Human-readable explanation.
    pub message: String,
    /// Seconds after which a refused request (429, 503) may be tried again.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            field: None,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    pub fn with_retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// A required field is absent (or null).
    pub fn missing(field: &str) -> Self {
        Self::new(400, "missing_field", format!("{field} is required")).with_field(field)
    }

    /// A field is present but its value is not acceptable.
    pub fn invalid(field: &str, why: impl fmt::Display) -> Self {
        Self::new(400, "invalid_field", format!("{field}: {why}")).with_field(field)
    }

    pub fn invalid_json(why: impl fmt::Display) -> Self {
        Self::new(
            400,
            "invalid_json",
            format!("request body is not valid JSON: {why}"),
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "body_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "missing or wrong token header")
    }

    pub fn database_unavailable(why: impl fmt::Display) -> Self {
        Self::new(
            503,
            "database_unavailable",
            format!("database unavailable: {why}"),
        )
    }

    /// A server-side failure the client cannot fix (spool not writable, TTS engine missing).
    pub fn internal(code: &'static str, why: impl fmt::Display) -> Self {
        Self::new(500, code, why.to_string())
    }

    /// The module's configuration (not the request) is wrong.
    pub fn config(why: impl fmt::Display) -> Self {
        Self::new(500, "configuration_error", why.to_string())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

/// Renders an error and its whole `source()` chain, because database and HTTP errors keep the
/// useful part of the story (refused connection, bad password) several levels down.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
