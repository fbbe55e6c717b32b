//! Text-to-speech behind one interface: espeak-ng, OpenAI-compatible servers (the project's
//! local speech service among them), and in `google` Google's Text-to-Speech.
//!
//! Why it exists: a call's message and every aibot prompt are spoken by an engine chosen by
//! configuration, in a fallback order, and the engine code only sees [`TtsProvider`]: text, a
//! language, a voice in; mono PCM at the engine's own rate out (the caller resamples to what
//! Asterisk plays and caches the result), or a [`TtsError`] saying clearly what went wrong.
//!
//! Voices are engine-specific names (`alloy`, `it-IT-Wavenet-A`, espeak's `f3`), and a request
//! names at most one. Each provider takes the voice only when it has the shape of its own names
//! and otherwise uses its default, so a chain with several engines never fails just because
//! the voice was meant for another one.
//!
//! [`EspeakTts`] runs espeak-ng, the offline engine that is always there. It runs as a child
//! process with the text on stdin, never as an argument and never through a shell, so no text
//! can become an option or a command; the WAV comes back on stdout (no temporary file), with a
//! time limit after which the process is killed.
//!
//! [`OpenAiTts`] speaks OpenAI's speech API (`POST {base}/v1/audio/speech`, JSON `model`,
//! `voice`, `input`, `response_format: "wav"`), which the project's local speech service speaks
//! too; for that service it adds `language` and `sample_rate` fields (OpenAI's API has neither
//! and would refuse them): the service picks its engine and voice by language (model `tts-1`
//! and OpenAI's voice names mean "the default for the language" there) and answers at 8 kHz.

use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::error::SpeechError;
pub use crate::error::TtsError;
use crate::http::{self, Target};
use crate::mp3::{decode_any_with, DecodeLimits};
use crate::{Chained, CheckFuture, Pcm};

/// Largest audio reply read from a server: the decoder's own limit.
const MAX_AUDIO_BYTES: usize = 20 * 1024 * 1024;

/// The future a provider returns: boxed so providers can be chosen at run time (`dyn`).
pub type TtsFuture<'a> = Pin<Box<dyn Future<Output = Result<Pcm, TtsError>> + Send + 'a>>;

/// A text-to-speech engine.
pub trait TtsProvider: Send + Sync {
    /// Short name for logs, errors and cache keys, e.g. "espeak-ng" or
    /// "openai-tts(http://127.0.0.1:8765)".
    fn name(&self) -> &str;

    /// Speaks `text`. `language` is a locale such as `it_IT`, `en-US` or `it`; `voice` an
    /// engine's voice name, or empty for the engine's default. Returns mono PCM at the engine's
    /// own rate.
    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a>;

    /// Whether the provider answers, without synthesizing anything billable.
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async { Ok("no check available".to_string()) })
    }
}

/// A shared provider is a provider (so one instance can sit in several chains).
impl<T: TtsProvider + ?Sized> TtsProvider for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a> {
        (**self).synthesize(text, language, voice)
    }

    fn check(&self) -> CheckFuture<'_> {
        (**self).check()
    }
}

/// Tries providers in order until one succeeds; used for the configured fallback order.
pub struct TtsFallback {
    name: String,
    providers: Vec<Box<dyn TtsProvider>>,
    default_voice: String,
}

impl TtsFallback {
    pub fn new(providers: Vec<Box<dyn TtsProvider>>) -> Self {
        let names: Vec<&str> = providers.iter().map(|p| p.name()).collect();
        Self {
            name: format!("fallback[{}]", names.join(", ")),
            providers,
            default_voice: String::new(),
        }
    }

    /// The voice used when a request names none (the `default_voice` setting).
    pub fn with_default_voice(mut self, voice: impl Into<String>) -> Self {
        self.default_voice = voice.into().trim().to_string();
        self
    }

    /// The providers, in the order they are tried.
    pub fn providers(&self) -> &[Box<dyn TtsProvider>] {
        &self.providers
    }

    /// Like [`TtsProvider::synthesize`], also saying which provider spoke and which failed
    /// before it.
    pub async fn synthesize_from(
        &self,
        text: &str,
        language: &str,
        voice: &str,
    ) -> Result<Chained<'_, Pcm>, TtsError> {
        let voice = match voice.trim() {
            "" => self.default_voice.as_str(),
            v => v,
        };
        let mut errors = Vec::new();
        for p in &self.providers {
            match p.synthesize(text, language, voice).await {
                Ok(pcm) => {
                    return Ok(Chained {
                        value: pcm,
                        provider: p.name(),
                        failed: errors,
                    })
                }
                Err(e) if e.try_next() => errors.push(e),
                Err(e) => return Err(e),
            }
        }
        Err(TtsError::AllFailed {
            task: "text-to-speech",
            errors,
        })
    }
}

impl TtsProvider for TtsFallback {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a> {
        Box::pin(async move {
            self.synthesize_from(text, language, voice)
                .await
                .map(|c| c.value)
        })
    }
}

/// A locale as a BCP 47 tag: `it_IT` -> `it-IT`, `en-us` -> `en-US`, `it` -> `it`.
pub fn bcp47(locale: &str) -> String {
    let locale = locale.trim().split('.').next().unwrap_or("");
    let mut parts = locale.split(['_', '-']);
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    match parts.next() {
        Some(region) if region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic()) => {
            format!("{lang}-{}", region.to_ascii_uppercase())
        }
        Some(region) if !region.is_empty() => format!("{lang}-{region}"),
        _ => lang,
    }
}

fn empty_text(provider: &str, text: &str) -> Result<(), TtsError> {
    if text.trim().is_empty() {
        return Err(TtsError::BadText {
            provider: provider.to_string(),
            detail: "the text is empty".into(),
        });
    }
    Ok(())
}

/// espeak-ng as a child process; see the module comment.
#[derive(Debug, Clone)]
pub struct EspeakTts {
    program: String,
    timeout: Duration,
}

impl EspeakTts {
    /// Longest synthesis before the process is killed (espeak-ng speaks a minute of text in
    /// well under a second).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

    /// `program` is the espeak-ng executable (a path, or a name looked up in PATH).
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// espeak-ng names voices `it`, `en-us`, `pt-br`, with variants as `en-us+f3`. API requests
    /// use `it_IT`/`en-US` and may name a cloud voice (`it-IT-Wavenet-A`) that espeak lacks:
    /// only short variant names (`f3`, `m1`, `klatt`) are passed through.
    pub fn voice_for(language: &str, voice: &str) -> String {
        let tag = language.trim().to_ascii_lowercase().replace('_', "-");
        let base = match tag.split_once('-') {
            // espeak has regional voices for a few languages only; the bare language always exists.
            Some((lang, region))
                if matches!(
                    (lang, region),
                    ("en", "us") | ("en", "gb") | ("pt", "br") | ("es", "419")
                ) =>
            {
                tag.clone()
            }
            Some((lang, _)) => lang.to_string(),
            None if tag.is_empty() => "en".to_string(),
            None => tag.clone(),
        };
        let v = voice.trim();
        if !v.is_empty()
            && v.len() <= 12
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            format!("{base}+{v}")
        } else {
            base
        }
    }

    fn fail(&self, detail: String) -> TtsError {
        TtsError::Engine {
            provider: "espeak-ng".into(),
            detail,
        }
    }

    async fn run(&self, text: &str, language: &str, voice: &str) -> Result<Pcm, TtsError> {
        empty_text("espeak-ng", text)?;
        let mut child = tokio::process::Command::new(&self.program)
            .arg("-v")
            .arg(Self::voice_for(language, voice))
            .arg("--stdin")
            .arg("--stdout")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| self.fail(format!("cannot run {:?}: {e}", self.program)))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| self.fail("no stdin".into()))?;
        let input = text.as_bytes().to_vec();
        // Written while the output is read, so a long text cannot fill both pipes and stall.
        let write = async move {
            let r = stdin.write_all(&input).await;
            drop(stdin);
            r
        };
        let both = async { tokio::join!(write, child.wait_with_output()) };
        let (written, output) = tokio::time::timeout(self.timeout, both)
            .await
            .map_err(|_| self.fail(format!("did not finish within {:?} (killed)", self.timeout)))?;
        let output = output.map_err(|e| self.fail(e.to_string()))?;
        if !output.status.success() {
            let err = String::from_utf8_lossy(&output.stderr);
            return Err(self.fail(format!("{} ({})", err.trim(), output.status)));
        }
        written.map_err(|e| self.fail(format!("writing the text: {e}")))?;
        let pcm = Pcm::from_streamed_wav_bytes(&output.stdout)
            .map_err(|e| self.fail(format!("its output: {e}")))?;
        if pcm.samples.is_empty() {
            let err = String::from_utf8_lossy(&output.stderr);
            return Err(self.fail(format!("produced no audio {}", err.trim())));
        }
        Ok(pcm)
    }
}

impl TtsProvider for EspeakTts {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a> {
        Box::pin(self.run(text, language, voice))
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let out = tokio::time::timeout(
                self.timeout,
                tokio::process::Command::new(&self.program)
                    .arg("--version")
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output(),
            )
            .await
            .map_err(|_| self.fail("--version did not answer".into()))?
            .map_err(|e| self.fail(format!("cannot run {:?}: {e}", self.program)))?;
            if !out.status.success() {
                return Err(self.fail(format!("--version failed ({})", out.status)));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
    }
}

/// Settings of an OpenAI-compatible speech endpoint.
#[derive(Clone, PartialEq)]
pub struct OpenAiTtsConfig {
    /// e.g. `http://127.0.0.1:8765` or `https://api.openai.com` (a trailing `/v1` is accepted).
    pub base_url: String,
    /// e.g. `tts-1`.
    pub model: String,
    /// The voice when the request names none of this engine's (e.g. `alloy`).
    pub voice: String,
    /// Bearer key; None or empty sends no Authorization header.
    pub api_key: Option<String>,
    /// Adds `"language"` to the request: for the local service only (OpenAI refuses unknown
    /// fields).
    pub send_language: bool,
    /// Adds `"sample_rate"`: the local service then answers at that rate (8000: what Asterisk
    /// plays, no resampling here). None for OpenAI, which has no such field.
    pub sample_rate: Option<u32>,
    pub connect_timeout: Duration,
    /// The whole request: connect, synthesis and the audio.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiTtsConfig {
    /// Leaves the key out, so configs can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiTtsConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("voice", &self.voice)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("send_language", &self.send_language)
            .field("sample_rate", &self.sample_rate)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The OpenAI-compatible speech provider.
#[derive(Debug, Clone)]
pub struct OpenAiTts {
    cfg: OpenAiTtsConfig,
    url: String,
    name: String,
    client: reqwest::Client,
}

#[derive(serde::Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    voice: &'a str,
    input: &'a str,
    response_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate: Option<u32>,
}

/// Whether `v` looks like an OpenAI-style voice name (`alloy`, `nova`, a local server's
/// `en_us-joe`): lowercase, starting with a letter, 3 to 40 characters. Google's names have
/// capitals (`it-IT-Wavenet-A`), espeak's variants are shorter (`f3`).
pub fn is_openai_voice(v: &str) -> bool {
    (3..=40).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl OpenAiTts {
    pub fn new(cfg: OpenAiTtsConfig) -> Result<Self, TtsError> {
        let base = cfg.base_url.trim().trim_end_matches('/');
        let name = format!("openai-tts({base})");
        let config_err = |detail: String| TtsError::Config {
            provider: name.clone(),
            detail,
        };
        http::check_url(base).map_err(|e| config_err(format!("base {e}")))?;
        if cfg.model.trim().is_empty() {
            return Err(config_err("no model".into()));
        }
        if cfg.voice.trim().is_empty() {
            return Err(config_err("no default voice".into()));
        }
        let client = http::client(cfg.connect_timeout, cfg.timeout).map_err(config_err)?;
        Ok(Self {
            url: crate::stt::openai_url(base, "audio/speech"),
            cfg,
            name,
            client,
        })
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> Target<'_> {
        Target {
            provider: &self.name,
            url: &self.url,
            timeout: self.cfg.timeout,
        }
    }

    async fn run(&self, text: &str, language: &str, voice: &str) -> Result<Pcm, TtsError> {
        empty_text(&self.name, text)?;
        let voice = voice.trim();
        let body = SpeechRequest {
            model: self.cfg.model.trim(),
            voice: if is_openai_voice(voice) {
                voice
            } else {
                self.cfg.voice.trim()
            },
            input: text,
            response_format: "wav",
            language: (self.cfg.send_language && !language.trim().is_empty())
                .then(|| bcp47(language)),
            sample_rate: self.cfg.sample_rate,
        };
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(key) = self.cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            req = req.bearer_auth(key);
        }
        let target = self.target();
        let reply = target.send(req, MAX_AUDIO_BYTES).await?;
        decode_audio(&target, reply.content_type.as_deref(), &reply.body)
    }
}

/// Audio bytes from a server (WAV, possibly streamed, or MP3) as PCM; anything else, such as a
/// JSON or HTML page with a 200, is a bad reply that says what came.
pub(crate) fn decode_audio(
    target: &Target<'_>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Pcm, SpeechError> {
    let repaired = crate::audio::repair_streamed_wav(body);
    let pcm = decode_any_with(&repaired, &DecodeLimits::default()).map_err(|e| {
        target.bad_reply(format!(
            "not audio ({e}; content type {}): {}",
            content_type.unwrap_or("none"),
            http::snippet(&body[..body.len().min(200)])
        ))
    })?;
    if pcm.samples.is_empty() {
        return Err(target.bad_reply("audio without samples".into()));
    }
    Ok(pcm)
}

impl TtsProvider for OpenAiTts {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a> {
        Box::pin(self.run(text, language, voice))
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(crate::stt::openai_check(
            &self.client,
            &self.name,
            &self.cfg.base_url,
            self.cfg.api_key.as_deref(),
            &self.cfg.model,
            self.cfg.timeout,
        ))
    }
}

#[cfg(test)]
#[path = "tts_tests.rs"]
mod tests;
