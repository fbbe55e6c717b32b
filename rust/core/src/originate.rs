//! index.php: place a call that plays a message and continues at a FreePBX destination.
//!
//! The request is the original apicall module's contract (fields `tocall`, `message`,
//! `destination`, `language`, `voice`, `maxretries`/`maxretires`, `retrytime`, `waittime`,
//! `callerid`). The whole request is validated before anything is made, so a bad request leaves no
//! trace: no prompt, no call file.

use serde::Serialize;

use crate::callfile::{CallFile, Staged};
use crate::config::CoreConfig;
use crate::error::ApiError;
use crate::token;
use crate::tts::{Prompt, ProviderChain, TtsCache, TtsEngine, TtsRequest};

pub use apicall_request::originate::{OriginateRequest, MAX_BODY};

/// What the client is told about a queued call.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Queued {
    pub id: String,
    pub status: &'static str,
    pub tocall: String,
    /// Seconds of speech the message lasts (absent without a message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_seconds: Option<f64>,
    /// Whether the message came from the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_cached: Option<bool>,
}

/// A valid request with its message ready to play: everything but the call file, so that a
/// slow synthesis is done before the capacity check and its lock (`access::with_capacity`).
pub struct Prepared {
    req: OriginateRequest,
    prompt: Option<Prompt>,
}

/// Validates the request, synthesizes the message (or finds it cached) and queues the call.
pub fn originate(cfg: &CoreConfig, body: &[u8]) -> Result<Queued, ApiError> {
    queue(cfg, prepare(cfg, body)?)
}

/// Validates the request and makes its message (or finds it cached).
pub fn prepare(cfg: &CoreConfig, body: &[u8]) -> Result<Prepared, ApiError> {
    let req = OriginateRequest::parse(body, &cfg.default_language, &cfg.default_callerid)?;
    if req.message.is_none() {
        return prepare_with(cfg, req, &NoSpeech);
    }
    let engine = ProviderChain::from_config(cfg)?;
    prepare_with(cfg, req, &engine)
}

pub fn prepare_with(
    cfg: &CoreConfig,
    req: OriginateRequest,
    engine: &dyn TtsEngine,
) -> Result<Prepared, ApiError> {
    let prompt = match &req.message {
        None => None,
        Some(text) => {
            let cache = TtsCache::new(cfg.tts_cache_dir.clone());
            let tts = TtsRequest {
                text: text.clone(),
                language: req.language.clone(),
                voice: req.voice.clone(),
            };
            Some(cache.get_or_make(engine, &tts)?)
        }
    };
    Ok(Prepared { req, prompt })
}

/// Writes the call file of a prepared request into the spool.
pub fn queue(cfg: &CoreConfig, prepared: Prepared) -> Result<Queued, ApiError> {
    stage(cfg, prepared)?.commit()
}

/// A call whose file is written and on disk in the spool's `tmp/`, not yet handed to Asterisk.
/// The wait for the disk is done here, outside the capacity lock; [`Ready::commit`], a rename,
/// is what runs under it. Dropped without commit, the file is removed.
pub struct Ready {
    queued: Queued,
    file: Staged,
}

impl Ready {
    /// Hands the call file to Asterisk.
    pub fn commit(self) -> Result<Queued, ApiError> {
        let path = self.file.commit()?;
        let q = self.queued;
        tracing::info!(id = q.id, tocall = q.tocall, path = %path.display(), "call queued");
        Ok(q)
    }
}

/// Writes the call file of a prepared request into the spool's `tmp/` (see [`Ready`]).
pub fn stage(cfg: &CoreConfig, prepared: Prepared) -> Result<Ready, ApiError> {
    let Prepared { req, prompt } = prepared;
    // The WAV header alone gives the length: the samples need not be read.
    let message_seconds = prompt.as_ref().map(|p| {
        hound::WavReader::open(&p.wav)
            .ok()
            .map(|r| {
                let secs = f64::from(r.duration()) / f64::from(r.spec().sample_rate.max(1));
                (secs * 100.0).round() / 100.0
            })
            .unwrap_or(0.0)
    });
    let id = token::call_id();
    let file = CallFile::for_message(
        &id,
        &req.tocall,
        &cfg.dial_context,
        req.callerid.clone(),
        (req.max_retries, req.retry_time, req.wait_time),
        prompt.as_ref().map(|p| p.playback.as_path()),
        &req.destination,
    )?;
    let file = file.stage(&cfg.spool_dir)?;
    Ok(Ready {
        queued: Queued {
            id,
            status: "queued",
            tocall: req.tocall.clone(),
            message_seconds,
            message_cached: prompt.map(|p| p.cached),
        },
        file,
    })
}

/// The engine of a call without a message: never asked to speak.
struct NoSpeech;

impl TtsEngine for NoSpeech {
    fn name(&self) -> &str {
        "none"
    }
    fn synthesize(&self, _: &TtsRequest) -> Result<crate::tts::Synth, ApiError> {
        Err(ApiError::internal("tts_failed", "no message to speak"))
    }
}
