//! The configured speech providers, built from the module's flat settings map.
//!
//! Why it exists: the engine (per call), the admin CLI and FreePBX's console all start from the
//! same settings (FreePBX's kvstore, as strings) and must get the same chains from them, with
//! the same defaults and the same errors for a bad value. Keys (see the module's settings
//! contract):
//!
//! - `tts_provider`, `stt_provider`: comma lists in fallback order of `local`, `google`,
//!   `openai` (and, for TTS, `espeak`); default `local`.
//! - `local`: the module's own speech service at `stt_url` (default `http://127.0.0.1:8765`),
//!   which speaks the OpenAI API: transcription with `stt_model` (default `whisper-tiny.en`),
//!   speech with model [`LOCAL_TTS_MODEL`] and voice [`LOCAL_TTS_VOICE`] (the service's "engine
//!   and voice by language") plus `language` and `sample_rate` 8000. A TTS list with `local` ends with espeak-ng (unless it names `espeak` itself):
//!   `local` means "on this machine", and espeak-ng is the engine on this machine that needs no
//!   service, so a message is still spoken when the service is down.
//! - `google`: `google_credentials_file` (default `/home/asterisk/google-auth.json`),
//!   `google_token_url`, `google_stt_url`, `google_tts_url` (Google's own when empty).
//! - `openai`: `openai_base_url` (default `https://api.openai.com`), `openai_api_key`,
//!   `openai_tts_model` (`tts-1`), `openai_tts_voice` (`alloy`), `openai_stt_model` (`whisper-1`).
//! - `espeak`: `espeak_path` (default `espeak-ng`).
//! - `default_voice`: the voice when a request names none (each engine keeps only a voice of
//!   its own shape; see `tts`).
//!
//! Building checks names, URLs and models but reads no file and opens no connection, so it is
//! cheap enough to do per call, and a provider that cannot work (missing Google credentials,
//! a service that is down) fails at use, where the chain goes on to the next one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::SpeechError;
use crate::google::{
    GoogleAuth, GoogleStt, GoogleSttConfig, GoogleTts, GoogleTtsConfig, DEFAULT_CREDENTIALS_FILE,
};
use crate::stt::{Fallback, OpenAiStt, OpenAiSttConfig, SttProvider};
use crate::tts::{EspeakTts, OpenAiTts, OpenAiTtsConfig, TtsFallback, TtsProvider};

/// The model name sent to the local service's speech endpoint (OpenAI's standard model name,
/// which an OpenAI-compatible server maps to its own default).
pub const LOCAL_TTS_MODEL: &str = "tts-1";
/// The voice sent to the local service when the request names none of its voices.
pub const LOCAL_TTS_VOICE: &str = "alloy";
pub const DEFAULT_STT_URL: &str = "http://127.0.0.1:8765";
pub const DEFAULT_STT_MODEL: &str = "whisper-tiny.en";
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com";

/// One kind of provider, as the settings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Local,
    Google,
    OpenAi,
    Espeak,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Google => "google",
            Kind::OpenAi => "openai",
            Kind::Espeak => "espeak",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "local" => Some(Kind::Local),
            "google" => Some(Kind::Google),
            "openai" => Some(Kind::OpenAi),
            "espeak" | "espeak-ng" => Some(Kind::Espeak),
            _ => None,
        }
    }
}

/// Time limits. A caller is waiting on the line for every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// One transcription request.
    pub stt: Duration,
    /// One synthesis request (a long message takes a cloud engine several seconds).
    pub tts: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            stt: Duration::from_secs(15),
            tts: Duration::from_secs(30),
        }
    }
}

/// What [`Providers::check`] found for one provider.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// "tts" or "stt".
    pub task: &'static str,
    pub kind: Kind,
    pub name: String,
    pub ok: bool,
    /// What it answered, or the error.
    pub detail: String,
    /// The error's kind (see `SpeechError::code`) when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    pub ms: u64,
}

/// The TTS and STT chains of one configuration.
pub struct Providers {
    tts: TtsFallback,
    tts_kinds: Vec<Kind>,
    stt: Fallback,
    stt_kinds: Vec<Kind>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("tts", &self.tts.name())
            .field("stt", &self.stt.name())
            .finish()
    }
}

fn settings_err(detail: String) -> SpeechError {
    SpeechError::Config {
        provider: "settings".into(),
        detail,
    }
}

/// A comma list of provider names, in order, without repeats.
fn kinds(key: &str, value: Option<&str>) -> Result<Vec<Kind>, SpeechError> {
    let mut out = Vec::new();
    for name in value.unwrap_or("local").split(',') {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let kind = Kind::parse(&name).ok_or_else(|| {
            settings_err(format!(
                "{key}: unknown provider {name:?} (known: local, google, openai, espeak)"
            ))
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    if out.is_empty() {
        out.push(Kind::Local);
    }
    Ok(out)
}

impl Providers {
    /// The chains the settings describe, with the default time limits.
    pub fn from_settings(settings: &HashMap<String, String>) -> Result<Self, SpeechError> {
        Self::from_settings_with(settings, Timeouts::default())
    }

    pub fn from_settings_with(
        settings: &HashMap<String, String>,
        timeouts: Timeouts,
    ) -> Result<Self, SpeechError> {
        let get = |k: &str| settings.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let or = |k: &str, d: &'static str| get(k).unwrap_or(d).to_string();

        let mut tts_kinds = kinds("tts_provider", get("tts_provider"))?;
        if tts_kinds.contains(&Kind::Local) && !tts_kinds.contains(&Kind::Espeak) {
            tts_kinds.push(Kind::Espeak);
        }
        let stt_kinds = kinds("stt_provider", get("stt_provider"))?;
        if stt_kinds.contains(&Kind::Espeak) {
            return Err(settings_err(
                "stt_provider: espeak-ng does no speech-to-text".into(),
            ));
        }

        let local_url = or("stt_url", DEFAULT_STT_URL);
        let openai_url = or("openai_base_url", DEFAULT_OPENAI_BASE_URL);
        let openai_key = get("openai_api_key").map(str::to_string);
        let google_auth = if tts_kinds.contains(&Kind::Google) || stt_kinds.contains(&Kind::Google)
        {
            Some(Arc::new(GoogleAuth::new(
                or("google_credentials_file", DEFAULT_CREDENTIALS_FILE),
                get("google_token_url").map(str::to_string),
                timeouts.connect,
                timeouts.stt.max(timeouts.tts),
            )?))
        } else {
            None
        };
        let auth = || google_auth.clone().expect("made when google is listed");

        let mut tts: Vec<Box<dyn TtsProvider>> = Vec::new();
        for kind in &tts_kinds {
            tts.push(match kind {
                Kind::Local => Box::new(OpenAiTts::new(OpenAiTtsConfig {
                    base_url: local_url.clone(),
                    model: LOCAL_TTS_MODEL.into(),
                    voice: LOCAL_TTS_VOICE.into(),
                    api_key: None,
                    send_language: true,
                    sample_rate: Some(crate::audio::ASTERISK_WAV_RATE),
                    connect_timeout: timeouts.connect,
                    timeout: timeouts.tts,
                })?),
                Kind::OpenAi => Box::new(OpenAiTts::new(OpenAiTtsConfig {
                    base_url: openai_url.clone(),
                    model: or("openai_tts_model", "tts-1"),
                    voice: or("openai_tts_voice", "alloy"),
                    api_key: openai_key.clone(),
                    send_language: false,
                    sample_rate: None,
                    connect_timeout: timeouts.connect,
                    timeout: timeouts.tts,
                })?),
                Kind::Google => {
                    let mut cfg = GoogleTtsConfig::new(timeouts.connect, timeouts.tts);
                    if let Some(u) = get("google_tts_url") {
                        cfg.url = u.to_string();
                    }
                    Box::new(GoogleTts::new(cfg, auth())?)
                }
                Kind::Espeak => Box::new(EspeakTts::new(or("espeak_path", "espeak-ng"))),
            });
        }

        let mut stt: Vec<Box<dyn SttProvider>> = Vec::new();
        for kind in &stt_kinds {
            stt.push(match kind {
                Kind::Local => Box::new(OpenAiStt::new(OpenAiSttConfig {
                    base_url: local_url.clone(),
                    model: or("stt_model", DEFAULT_STT_MODEL),
                    api_key: None,
                    connect_timeout: timeouts.connect,
                    timeout: timeouts.stt,
                })?),
                Kind::OpenAi => Box::new(OpenAiStt::new(OpenAiSttConfig {
                    base_url: openai_url.clone(),
                    model: or("openai_stt_model", "whisper-1"),
                    api_key: openai_key.clone(),
                    connect_timeout: timeouts.connect,
                    timeout: timeouts.stt,
                })?),
                Kind::Google => {
                    let mut cfg = GoogleSttConfig::new(timeouts.connect, timeouts.stt);
                    if let Some(u) = get("google_stt_url") {
                        cfg.url = u.to_string();
                    }
                    Box::new(GoogleStt::new(cfg, auth())?)
                }
                Kind::Espeak => unreachable!("refused above"),
            });
        }

        Ok(Self {
            tts: TtsFallback::new(tts).with_default_voice(get("default_voice").unwrap_or("")),
            tts_kinds,
            stt: Fallback::new(stt),
            stt_kinds,
        })
    }

    /// The text-to-speech chain (itself a [`TtsProvider`]).
    pub fn tts(&self) -> &TtsFallback {
        &self.tts
    }

    /// The speech-to-text chain (itself an [`SttProvider`]).
    pub fn stt(&self) -> &Fallback {
        &self.stt
    }

    /// The kinds in the TTS chain, in order (with the espeak-ng that `local` brings).
    pub fn tts_kinds(&self) -> &[Kind] {
        &self.tts_kinds
    }

    pub fn stt_kinds(&self) -> &[Kind] {
        &self.stt_kinds
    }

    /// Asks every provider of both chains whether it answers, all at once; reports in chain
    /// order, TTS first.
    pub async fn check(&self) -> Vec<CheckReport> {
        async fn one(
            task: &'static str,
            kind: Kind,
            name: &str,
            fut: crate::CheckFuture<'_>,
        ) -> CheckReport {
            let started = Instant::now();
            let result = fut.await;
            let ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(detail) => CheckReport {
                    task,
                    kind,
                    name: name.to_string(),
                    ok: true,
                    detail,
                    error: None,
                    ms,
                },
                Err(e) => CheckReport {
                    task,
                    kind,
                    name: name.to_string(),
                    ok: false,
                    detail: e.to_string(),
                    error: Some(e.code()),
                    ms,
                },
            }
        }
        let mut futs: Vec<BoxFuture<'_, CheckReport>> = Vec::new();
        for (p, kind) in self.tts.providers().iter().zip(&self.tts_kinds) {
            futs.push(Box::pin(one("tts", *kind, p.name(), p.check())));
        }
        for (p, kind) in self.stt.providers().iter().zip(&self.stt_kinds) {
            futs.push(Box::pin(one("stt", *kind, p.name(), p.check())));
        }
        join_all(futs).await
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Runs futures concurrently and returns their outputs in order (a small join_all, so the crate
/// needs no futures dependency for it).
async fn join_all<T>(futs: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    // Not spawned (the futures borrow the providers): polled together here instead.
    let mut slots: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    let mut pending: Vec<(usize, BoxFuture<'_, T>)> = futs.into_iter().enumerate().collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(i, f)| match f.as_mut().poll(cx) {
            std::task::Poll::Ready(v) => {
                slots[*i] = Some(v);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    slots
        .into_iter()
        .map(|s| s.expect("every future finished"))
        .collect()
}

#[cfg(test)]
#[path = "providers_tests.rs"]
mod tests;
