//! Text-to-speech: one interface for every engine, and a cache in front of it.
//!
//! A prompt is synthesized once per (engine, language, voice, text) and kept as an 8 kHz WAV in a
//! folder Asterisk reads, so a campaign that sends the same message to a thousand numbers pays for
//! synthesis once. The engines are apicall-speech's providers, in the configured fallback order
//! (`tts_provider`); audio made by a fallback (the preferred engine was down) is played but not
//! cached, so a short outage does not pin the fallback's voice to that text.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::audio::{Pcm, ASTERISK_WAV_RATE};
use crate::error::ApiError;

/// What an engine made.
pub struct Synth {
    /// Speech at the engine's own rate.
    pub pcm: Pcm,
    /// Which engine spoke.
    pub provider: String,
    /// False when a fallback spoke: the result is used once, not kept.
    pub cacheable: bool,
}

/// What to say and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtsRequest {
    pub text: String,
    /// A language tag as the API received it (`it`, `en_US`, `en-US`).
    pub language: String,
    pub voice: Option<String>,
}

pub trait TtsEngine {
    /// A stable name; part of the cache key.
    fn name(&self) -> &str;
    fn synthesize(&self, req: &TtsRequest) -> Result<Synth, ApiError>;
}

/// The configured provider chain as a [`TtsEngine`].
pub struct ProviderChain {
    providers: apicall_speech::providers::Providers,
    name: String,
}

impl ProviderChain {
    pub fn from_config(cfg: &crate::CoreConfig) -> Result<Self, ApiError> {
        let providers = crate::speech::providers(cfg)?;
        let name = apicall_speech::tts::TtsProvider::name(providers.tts()).to_string();
        Ok(ProviderChain { providers, name })
    }
}

impl TtsEngine for ProviderChain {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize(&self, req: &TtsRequest) -> Result<Synth, ApiError> {
        let voice = req.voice.as_deref().unwrap_or("");
        let chained = crate::runtime::block_on(self.providers.tts().synthesize_from(
            &req.text,
            &req.language,
            voice,
        ))
        .map_err(|e| ApiError::internal("tts_failed", e))?;
        for e in &chained.failed {
            tracing::warn!(error = %e, "text-to-speech provider failed; the next one spoke");
        }
        Ok(Synth {
            pcm: chained.value,
            provider: chained.provider.to_string(),
            cacheable: chained.failed.is_empty(),
        })
    }
}

/// Synthesized prompts on disk, named by a hash of everything that shapes the audio.
pub struct TtsCache {
    dir: PathBuf,
}

/// Where a cached prompt is, in the two spellings Asterisk and humans need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The file itself (`.../<hash>.wav`).
    pub wav: PathBuf,
    /// What `Playback()` takes: the same path without the extension.
    pub playback: PathBuf,
    /// True when this request found the prompt already made.
    pub cached: bool,
}

impl TtsCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TtsCache { dir: dir.into() }
    }

    pub fn key(engine: &str, req: &TtsRequest) -> String {
        let mut h = Sha256::new();
        for part in [
            engine,
            &req.language,
            req.voice.as_deref().unwrap_or(""),
            &req.text,
        ] {
            // Length-prefixed so that ("ab","c") and ("a","bc") differ.
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Returns the prompt for `req`, synthesizing and storing it only when absent.
    pub fn get_or_make(
        &self,
        engine: &dyn TtsEngine,
        req: &TtsRequest,
    ) -> Result<Prompt, ApiError> {
        let key = Self::key(engine.name(), req);
        let playback = self.dir.join(&key);
        let wav = playback.with_extension("wav");
        if wav.is_file() {
            return Ok(Prompt {
                wav,
                playback,
                cached: true,
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            ApiError::internal(
                "tts_failed",
                format!("cannot create {}: {e}", self.dir.display()),
            )
        })?;
        let synth = engine.synthesize(req)?;
        let pcm = synth.pcm;
        if pcm.samples.is_empty() {
            return Err(ApiError::internal(
                "tts_failed",
                format!("{} produced no audio", engine.name()),
            ));
        }
        let pcm = pcm
            .resample(ASTERISK_WAV_RATE)
            .map_err(|e| ApiError::internal("tts_failed", e))?;
        let (wav, playback) = if synth.cacheable {
            (wav, playback)
        } else {
            self.sweep_uncached();
            let once = self
                .dir
                .join(format!("once-{}", crate::token::random_hex(8)));
            (once.with_extension("wav"), once)
        };
        pcm.write_wav_atomic(&wav)
            .map_err(|e| ApiError::internal("tts_failed", e))?;
        tracing::info!(
            engine = engine.name(),
            provider = synth.provider,
            cached = synth.cacheable,
            key,
            secs = pcm.duration_secs(),
            "prompt synthesized"
        );
        Ok(Prompt {
            wav,
            playback,
            cached: false,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes one-time prompts older than an hour (their calls are long over).
    fn sweep_uncached(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600));
            if old && e.file_name().to_string_lossy().starts_with("once-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Beep {
        calls: Cell<u32>,
    }
    impl TtsEngine for Beep {
        fn name(&self) -> &str {
            "beep"
        }
        fn synthesize(&self, req: &TtsRequest) -> Result<Synth, ApiError> {
            self.calls.set(self.calls.get() + 1);
            let n = 16000 * req.text.len() / 10;
            Ok(Synth {
                provider: "beep".into(),
                cacheable: !req.text.contains("fallback"),
                pcm: Pcm {
                    rate: 16000,
                    samples: (0..n).map(|i| ((i % 32) as i16 - 16) * 500).collect(),
                },
            })
        }
    }

    fn req(text: &str) -> TtsRequest {
        TtsRequest {
            text: text.into(),
            language: "it".into(),
            voice: None,
        }
    }

    #[test]
    fn audio_from_a_fallback_is_played_once_not_cached() {
        let dir = std::env::temp_dir().join(format!("apicall-tts-fb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = TtsCache::new(&dir);
        let engine = Beep {
            calls: Cell::new(0),
        };
        let a = cache
            .get_or_make(&engine, &req("said by a fallback"))
            .unwrap();
        let b = cache
            .get_or_make(&engine, &req("said by a fallback"))
            .unwrap();
        assert!(!a.cached && !b.cached);
        assert_ne!(a.wav, b.wav);
        assert!(
            a.wav.is_file()
                && a.playback
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("once-")
        );
        assert_eq!(engine.calls.get(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_separate_every_input() {
        let a = TtsCache::key("e", &req("ab"));
        assert_ne!(a, TtsCache::key("f", &req("ab")));
        assert_ne!(a, TtsCache::key("e", &req("ab ")));
        let mut v = req("ab");
        v.voice = Some("x".into());
        assert_ne!(a, TtsCache::key("e", &v));
        let mut l = req("ab");
        l.language = "en".into();
        assert_ne!(a, TtsCache::key("e", &l));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn second_request_is_served_from_the_cache() {
        let dir = std::env::temp_dir().join(format!("apicall-tts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = TtsCache::new(&dir);
        let engine = Beep {
            calls: Cell::new(0),
        };
        let first = cache.get_or_make(&engine, &req("hello world")).unwrap();
        assert!(!first.cached);
        let second = cache.get_or_make(&engine, &req("hello world")).unwrap();
        assert!(second.cached);
        assert_eq!(first.wav, second.wav);
        assert_eq!(engine.calls.get(), 1);
        let pcm = Pcm::from_wav_bytes(&std::fs::read(&first.wav).unwrap()).unwrap();
        assert_eq!(pcm.rate, 8000);
        assert_eq!(first.playback.with_extension("wav"), first.wav);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
