//! Speech-to-text behind one interface, and the OpenAI-compatible provider.
//!
//! Why it exists: with `UserAnswerSTT` the caller's recorded answer becomes `UserAnswerText`
//! and `UserAnswerAlternatives`, and the engine doing it is chosen by configuration (the local
//! speech service by default, a cloud one if configured, in a fallback order). The conversation
//! code only sees [`SttProvider`]: audio, a language, hint phrases in; alternatives with a
//! confidence out, best first, or an [`SttError`] that says what went wrong clearly enough to
//! decide whether to try the next provider.
//!
//! [`OpenAiStt`] speaks the OpenAI transcription API (`POST {base}/v1/audio/transcriptions`,
//! multipart form), which the project's local speech service and several local servers speak
//! too. What it sends, field by field:
//! - `file`: the answer as a 16-bit mono WAV at 8 or 16 kHz (other rates are resampled to 16 kHz);
//!   telephone audio is sent at its own 8 kHz, which is smaller and loses nothing.
//! - `model`; `language`: the ISO 639-1 code taken from `it_IT`, `en-US` or `en` (omitted when
//!   empty, so the engine detects it); `prompt`: the hint phrases joined with ", " (Whisper
//!   biases its vocabulary toward the prompt), cut to [`MAX_PROMPT_CHARS`] at a phrase boundary;
//!   `response_format=verbose_json`, whose segments carry `avg_logprob`.
//! - `Authorization: Bearer <key>` only when a key is configured (local servers need none).
//!
//! Confidence: OpenAI gives no confidence, but each segment's `avg_logprob` is the mean log
//! probability of its tokens; `exp` of it is a per-token probability in 0..1. The transcript's
//! confidence is that, averaged over segments weighted by their duration; 1.0 when a server
//! gives no segments (plain `json` replies), since nothing says otherwise.
//!
//! Time limits are the caller's: a connect timeout and a total one, both mandatory, because a
//! caller is waiting on the line. Redirects are not followed (a transcription endpoint that
//! redirects is misconfigured, and the key must not travel elsewhere). Replies are read up to a
//! size limit.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;

use crate::error::SpeechError;
pub use crate::error::SttError;
use crate::http::{self, Target};
use crate::{Chained, CheckFuture, Pcm};

/// Whisper reads at most 224 prompt tokens; about four characters a token, with margin.
pub const MAX_PROMPT_CHARS: usize = 800;
/// Replies larger than this are not transcriptions.
const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// One transcription hypothesis.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alternative {
    pub transcript: String,
    /// 0.0 ..= 1.0
    pub confidence: f32,
}

/// The future a provider returns: boxed so providers can be chosen at run time (`dyn`).
pub type SttFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Alternative>, SttError>> + Send + 'a>>;

/// A speech-to-text engine.
pub trait SttProvider: Send + Sync {
    /// Short name for logs and errors, e.g. "openai(http://127.0.0.1:8765)".
    fn name(&self) -> &str;

    /// Transcribes `audio`. `language` is a locale such as `it_IT`, `en-US` or `en` (empty: let
    /// the engine decide); `hints` are phrases the caller is likely to say. Returns alternatives
    /// best first; an empty list means the engine heard no words.
    fn transcribe<'a>(
        &'a self,
        audio: &'a Pcm,
        language: &'a str,
        hints: &'a [String],
    ) -> SttFuture<'a>;

    /// Whether the provider answers, without transcribing anything billable: Ok with what was
    /// found (e.g. "answers; model whisper-1 listed"), or the error a transcription would meet.
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async { Ok("no check available".to_string()) })
    }
}

/// A shared provider is a provider (so one instance can sit in several chains).
impl<T: SttProvider + ?Sized> SttProvider for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn transcribe<'a>(
        &'a self,
        audio: &'a Pcm,
        language: &'a str,
        hints: &'a [String],
    ) -> SttFuture<'a> {
        (**self).transcribe(audio, language, hints)
    }

    fn check(&self) -> CheckFuture<'_> {
        (**self).check()
    }
}

/// Tries providers in order until one succeeds; used for the configured fallback order.
pub struct Fallback {
    name: String,
    providers: Vec<Box<dyn SttProvider>>,
}

impl Fallback {
    pub fn new(providers: Vec<Box<dyn SttProvider>>) -> Self {
        let names: Vec<&str> = providers.iter().map(|p| p.name()).collect();
        Self {
            name: format!("fallback[{}]", names.join(", ")),
            providers,
        }
    }

    /// The providers, in the order they are tried.
    pub fn providers(&self) -> &[Box<dyn SttProvider>] {
        &self.providers
    }

    /// Like [`SttProvider::transcribe`], also saying which provider answered and which failed
    /// before it.
    pub async fn transcribe_from(
        &self,
        audio: &Pcm,
        language: &str,
        hints: &[String],
    ) -> Result<Chained<'_, Vec<Alternative>>, SttError> {
        let mut errors = Vec::new();
        for p in &self.providers {
            match p.transcribe(audio, language, hints).await {
                Ok(alts) => {
                    return Ok(Chained {
                        value: alts,
                        provider: p.name(),
                        failed: errors,
                    })
                }
                Err(e) if e.try_next() => errors.push(e),
                Err(e) => return Err(e),
            }
        }
        Err(SttError::AllFailed {
            task: "speech-to-text",
            errors,
        })
    }
}

impl SttProvider for Fallback {
    fn name(&self) -> &str {
        &self.name
    }

    fn transcribe<'a>(
        &'a self,
        audio: &'a Pcm,
        language: &'a str,
        hints: &'a [String],
    ) -> SttFuture<'a> {
        Box::pin(async move {
            self.transcribe_from(audio, language, hints)
                .await
                .map(|c| c.value)
        })
    }
}

/// The ISO 639-1 language of a locale: `it_IT` -> `it`, `en-US` -> `en`, `EN` -> `en`.
/// None when it does not start with two letters.
pub fn iso639_1(locale: &str) -> Option<String> {
    let lang = locale.split(['_', '-', '.']).next()?;
    (lang.len() == 2 && lang.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| lang.to_ascii_lowercase())
}

/// Hint phrases as one Whisper prompt: trimmed, empty ones dropped, joined with ", ", and cut
/// at a phrase boundary to stay within [`MAX_PROMPT_CHARS`].
pub fn hints_prompt(hints: &[String]) -> String {
    let mut prompt = String::new();
    for h in hints.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
        let sep = if prompt.is_empty() { "" } else { ", " };
        if prompt.len() + sep.len() + h.len() > MAX_PROMPT_CHARS {
            break;
        }
        prompt.push_str(sep);
        prompt.push_str(h);
    }
    prompt
}

/// Settings of an OpenAI-compatible transcription endpoint.
#[derive(Clone, PartialEq)]
pub struct OpenAiSttConfig {
    /// e.g. `http://127.0.0.1:8765` or `https://api.openai.com` (a trailing `/v1` is accepted).
    pub base_url: String,
    /// e.g. `whisper-1`, or the local service's `whisper-tiny.en`.
    pub model: String,
    /// Bearer key; None or empty sends no Authorization header.
    pub api_key: Option<String>,
    pub connect_timeout: Duration,
    /// The whole request: connect, upload, transcription and reply.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiSttConfig {
    /// Leaves the key out, so configs can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiSttConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The OpenAI-compatible provider. Holds one HTTP client (and so its connection pool) for all
/// the calls that share it.
#[derive(Debug, Clone)]
pub struct OpenAiStt {
    cfg: OpenAiSttConfig,
    url: String,
    name: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct VerboseReply {
    text: String,
    #[serde(default)]
    segments: Option<Vec<Segment>>,
}

#[derive(Deserialize)]
struct Segment {
    #[serde(default)]
    start: f64,
    #[serde(default)]
    end: f64,
    #[serde(default)]
    avg_logprob: Option<f64>,
}

impl OpenAiStt {
    pub fn new(cfg: OpenAiSttConfig) -> Result<Self, SttError> {
        let base = cfg.base_url.trim().trim_end_matches('/');
        let name = format!("openai({base})");
        let config_err = |detail: String| SttError::Config {
            provider: name.clone(),
            detail,
        };
        http::check_url(base).map_err(|e| config_err(format!("base {e}")))?;
        if cfg.model.trim().is_empty() {
            return Err(config_err("no model".into()));
        }
        let client = http::client(cfg.connect_timeout, cfg.timeout).map_err(config_err)?;
        Ok(Self {
            url: openai_url(base, "audio/transcriptions"),
            cfg,
            name,
            client,
        })
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn form(
        &self,
        audio: &Pcm,
        language: &str,
        hints: &[String],
    ) -> Result<reqwest::multipart::Form, SttError> {
        let bad_audio = |detail: String| SttError::BadAudio {
            provider: self.name.clone(),
            detail,
        };
        if audio.samples.is_empty() {
            return Err(bad_audio("no samples".into()));
        }
        let pcm = if matches!(audio.rate, 8000 | 16000) {
            std::borrow::Cow::Borrowed(audio)
        } else {
            std::borrow::Cow::Owned(
                audio
                    .resample(16000)
                    .map_err(|e| bad_audio(e.to_string()))?,
            )
        };
        let wav = pcm.to_wav_bytes().map_err(|e| bad_audio(e.to_string()))?;
        let file = reqwest::multipart::Part::bytes(wav)
            .file_name("answer.wav")
            .mime_str("audio/wav")
            .map_err(|e| bad_audio(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.cfg.model.clone())
            .text("response_format", "verbose_json");
        if !language.trim().is_empty() {
            let code = iso639_1(language.trim()).ok_or_else(|| SttError::Config {
                provider: self.name.clone(),
                detail: format!("language {language:?} has no ISO 639-1 code"),
            })?;
            form = form.text("language", code);
        }
        let prompt = hints_prompt(hints);
        if !prompt.is_empty() {
            form = form.text("prompt", prompt);
        }
        Ok(form)
    }

    async fn run(
        &self,
        audio: &Pcm,
        language: &str,
        hints: &[String],
    ) -> Result<Vec<Alternative>, SttError> {
        let form = self.form(audio, language, hints)?;
        let mut req = self.client.post(&self.url).multipart(form);
        if let Some(key) = self.cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            req = req.bearer_auth(key);
        }
        let reply = self.target().send(req, MAX_REPLY_BYTES).await?;
        parse_reply(&reply.body).map_err(|detail| self.target().bad_reply(detail))
    }

    fn target(&self) -> Target<'_> {
        Target {
            provider: &self.name,
            url: &self.url,
            timeout: self.cfg.timeout,
        }
    }
}

impl SttProvider for OpenAiStt {
    fn name(&self) -> &str {
        &self.name
    }

    fn transcribe<'a>(
        &'a self,
        audio: &'a Pcm,
        language: &'a str,
        hints: &'a [String],
    ) -> SttFuture<'a> {
        Box::pin(self.run(audio, language, hints))
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(openai_check(
            &self.client,
            &self.name,
            &self.cfg.base_url,
            self.cfg.api_key.as_deref(),
            &self.cfg.model,
            self.cfg.timeout,
        ))
    }
}

/// The endpoint `path` (e.g. `audio/speech`) of an OpenAI-compatible base URL, with or
/// without its `/v1`.
pub(crate) fn openai_url(base: &str, path: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/{path}")
    } else {
        format!("{base}/v1/{path}")
    }
}

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
}

/// `GET {base}/v1/models`: the cheapest request every OpenAI-compatible server answers (OpenAI
/// with the key, the local service without). Ok when it answers; the detail says whether
/// `model` is among those listed.
pub(crate) async fn openai_check(
    client: &reqwest::Client,
    provider: &str,
    base: &str,
    key: Option<&str>,
    model: &str,
    timeout: std::time::Duration,
) -> Result<String, SpeechError> {
    let url = openai_url(base, "models");
    let target = Target {
        provider,
        url: &url,
        timeout,
    };
    let mut req = client.get(&url);
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        req = req.bearer_auth(key);
    }
    let reply = target.send(req, MAX_REPLY_BYTES).await?;
    let list: ModelList = serde_json::from_slice(&reply.body).map_err(|e| {
        target.bad_reply(format!(
            "not a model list ({e}): {}",
            http::snippet(&reply.body)
        ))
    })?;
    let listed = list.data.iter().any(|m| m.id == model);
    Ok(format!(
        "answers; model {model} {}",
        if listed {
            "listed"
        } else {
            "not listed by the server"
        }
    ))
}

/// Reads a verbose_json (or plain json) transcription reply.
fn parse_reply(body: &[u8]) -> Result<Vec<Alternative>, String> {
    let reply: VerboseReply = serde_json::from_slice(body)
        .map_err(|e| format!("not a transcription ({e}): {}", http::snippet(body)))?;
    let transcript = reply.text.trim().to_string();
    if transcript.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Alternative {
        transcript,
        confidence: confidence(reply.segments.as_deref().unwrap_or_default()),
    }])
}

/// exp(avg_logprob) averaged over segments by duration; see the module comment.
fn confidence(segments: &[Segment]) -> f32 {
    let scored: Vec<(f64, f64)> = segments
        .iter()
        .filter_map(|s| {
            let p = s.avg_logprob?.exp();
            p.is_finite().then_some((p, (s.end - s.start).max(0.0)))
        })
        .collect();
    if scored.is_empty() {
        return 1.0;
    }
    let total: f64 = scored.iter().map(|(_, d)| d).sum();
    let c = if total > 0.0 {
        scored.iter().map(|(p, d)| p * d).sum::<f64>() / total
    } else {
        scored.iter().map(|(p, _)| p).sum::<f64>() / scored.len() as f64
    };
    c.clamp(0.0, 1.0) as f32
}

#[cfg(test)]
#[path = "stt_tests.rs"]
mod tests;
