//! Speech-to-text as the conversation uses it: the configured provider and its time limits.
//!
//! `local` is the module's own speech service (an OpenAI-compatible endpoint on loopback that
//! keeps its models loaded); `openai` is any OpenAI-compatible server reached with a key. Both go
//! through the same client from apicall-speech.

use std::time::Duration;

use apicall_speech::stt::{OpenAiStt, OpenAiSttConfig, SttProvider};
use apicall_speech::Pcm;

use crate::aibot::payload::Alternative;
use crate::config::CoreConfig;
use crate::runtime;

/// Longest wait for a transcript before the step goes on without one.
pub const STT_TIMEOUT: Duration = Duration::from_secs(15);

fn provider(cfg: &CoreConfig) -> Result<OpenAiStt, String> {
    let (base_url, model) = match cfg.stt_provider.as_str() {
        "local" | "openai" => (cfg.stt_url.clone(), cfg.stt_model.clone()),
        other => return Err(format!("unknown speech-to-text provider {other:?}")),
    };
    OpenAiStt::new(OpenAiSttConfig {
        base_url,
        model,
        api_key: Some(cfg.stt_key.clone()).filter(|k| !k.is_empty()),
        connect_timeout: cfg.webhook_connect_timeout,
        timeout: STT_TIMEOUT,
    })
    .map_err(|e| e.to_string())
}

/// Transcribes an answer; alternatives best first.
pub fn transcribe(
    cfg: &CoreConfig,
    pcm: &Pcm,
    language: &str,
    hints: &[String],
) -> Result<Vec<Alternative>, String> {
    let p = provider(cfg)?;
    let started = std::time::Instant::now();
    let alts = runtime::block_on(p.transcribe(pcm, language, hints)).map_err(|e| e.to_string())?;
    tracing::info!(
        provider = p.name(),
        ms = started.elapsed().as_millis() as u64,
        secs = pcm.duration_secs(),
        text = alts.first().map(|a| a.transcript.as_str()).unwrap_or(""),
        "transcribed"
    );
    Ok(alts
        .into_iter()
        .map(|a| Alternative {
            transcript: a.transcript,
            confidence: a.confidence,
        })
        .collect())
}
