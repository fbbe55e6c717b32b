//! Speech-to-text as the conversation uses it: the configured provider, its time limits.

use apicall_speech::Pcm;

use crate::aibot::payload::Alternative;
use crate::config::CoreConfig;

/// Transcribes an answer; alternatives best first.
pub fn transcribe(
    _cfg: &CoreConfig,
    _pcm: &Pcm,
    _language: &str,
    _hints: &[String],
) -> Result<Vec<Alternative>, String> {
    Err("no speech-to-text provider is built yet".into())
}
