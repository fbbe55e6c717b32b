//! Speech-to-text as the conversation uses it: the configured chain and its time limits.
//!
//! `stt_provider` lists providers in fallback order: `local` (the module's own speech service,
//! an OpenAI-compatible endpoint on loopback that keeps its models loaded), `google`, `openai`.
//! A provider that fails (down, 401, 429, 5xx, timeout) hands over to the next one.

use apicall_speech::Pcm;

use crate::aibot::payload::Alternative;
use crate::config::CoreConfig;
use crate::runtime;

/// Transcribes an answer with the configured chain (`stt_provider`); alternatives best first.
pub fn transcribe(
    cfg: &CoreConfig,
    pcm: &Pcm,
    language: &str,
    hints: &[String],
) -> Result<Vec<Alternative>, String> {
    let providers = crate::speech::providers(cfg).map_err(|e| e.message)?;
    let started = std::time::Instant::now();
    let chained = runtime::block_on(providers.stt().transcribe_from(pcm, language, hints))
        .map_err(|e| e.to_string())?;
    for e in &chained.failed {
        tracing::warn!(error = %e, "speech-to-text provider failed; the next one answered");
    }
    tracing::info!(
        provider = chained.provider,
        ms = started.elapsed().as_millis() as u64,
        secs = pcm.duration_secs(),
        text = chained
            .value
            .first()
            .map(|a| a.transcript.as_str())
            .unwrap_or(""),
        "transcribed"
    );
    Ok(chained
        .value
        .into_iter()
        .map(|a| Alternative {
            transcript: a.transcript,
            confidence: a.confidence,
        })
        .collect())
}
