//! The speech providers the settings name (apicall-speech's `Providers`), with the core's limits.

use std::time::Duration;

use apicall_speech::providers::{Providers, Timeouts};

use crate::config::CoreConfig;
use crate::error::ApiError;

/// Longest wait for a transcript before the step goes on without one.
pub const STT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest wait for one synthesized prompt.
pub const TTS_TIMEOUT: Duration = Duration::from_secs(30);

/// The configured TTS and STT chains (`tts_provider`, `stt_provider` and their settings).
pub fn providers(cfg: &CoreConfig) -> Result<Providers, ApiError> {
    let t = Timeouts {
        connect: cfg.webhook_connect_timeout,
        stt: STT_TIMEOUT,
        tts: TTS_TIMEOUT,
    };
    Providers::from_settings_with(&cfg.settings, t)
        .map_err(|e| ApiError::config(format!("speech providers: {e}")))
}
