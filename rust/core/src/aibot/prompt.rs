//! The messages a step plays: text through TTS, or audio fetched from MessageUrl.
//!
//! Fetched audio is decoded and converted to Asterisk's 8 kHz WAV by libraries (never a shell),
//! with limits on size and time, and cached by URL so a campaign fetches each file once.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::audio::{Pcm, ASTERISK_WAV_RATE};
use crate::config::CoreConfig;
use crate::error::ApiError;
use crate::tts::{ProviderChain, TtsCache, TtsRequest};

/// Largest MessageUrl download.
pub const MAX_AUDIO_BYTES: usize = 20 * 1024 * 1024;
/// Longest MessageUrl download.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a fetched MessageUrl stays cached.
pub const URL_CACHE_TTL: Duration = Duration::from_secs(3600);

/// Playback path (no extension) for a text message.
pub fn text(cfg: &CoreConfig, text: &str, language: &str) -> Result<PathBuf, ApiError> {
    let engine = ProviderChain::from_config(cfg)?;
    let req = TtsRequest {
        text: text.to_string(),
        language: language.to_string(),
        voice: None,
    };
    Ok(TtsCache::new(cfg.tts_cache_dir.clone())
        .get_or_make(&engine, &req)?
        .playback)
}

/// Playback path (no extension) for a MessageUrl.
pub fn url(cfg: &CoreConfig, url: &str) -> Result<PathBuf, ApiError> {
    let fail =
        |why: String| ApiError::internal("message_url_failed", format!("MessageUrl {url}: {why}"));
    let key = hex::encode(&Sha256::digest(url.as_bytes())[..16]);
    let playback = cfg.tts_cache_dir.join(format!("url-{key}"));
    let wav = playback.with_extension("wav");
    if !crate::webhook::host_allowed(url, &cfg.allowed_hosts) {
        return Err(fail("the host is not in allowed_hosts".into()));
    }
    let fresh = std::fs::metadata(&wav)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < URL_CACHE_TTL);
    if fresh {
        return Ok(playback);
    }
    let bytes = crate::runtime::block_on(fetch(url)).map_err(fail)?;
    let pcm = decode(&bytes).map_err(fail)?;
    let pcm = pcm
        .resample(ASTERISK_WAV_RATE)
        .map_err(|e| fail(e.to_string()))?;
    std::fs::create_dir_all(&cfg.tts_cache_dir).map_err(|e| fail(e.to_string()))?;
    pcm.write_wav_atomic(&wav)
        .map_err(|e| fail(e.to_string()))?;
    tracing::info!(url, secs = pcm.duration_secs(), "MessageUrl fetched");
    Ok(playback)
}

/// WAV or MP3, told apart by their first bytes.
fn decode(bytes: &[u8]) -> Result<Pcm, String> {
    apicall_speech::decode_any(bytes).map_err(|e| e.to_string())
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let t = crate::webhook::Timeouts {
        connect: Duration::from_secs(5),
        total: FETCH_TIMEOUT,
    };
    let client = crate::webhook::client(t).map_err(|e| e.to_string())?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| crate::error::chain(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_AUDIO_BYTES as u64)
    {
        return Err(format!("larger than {MAX_AUDIO_BYTES} bytes"));
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| crate::error::chain(&e))? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_AUDIO_BYTES {
            return Err(format!("larger than {MAX_AUDIO_BYTES} bytes"));
        }
    }
    Ok(buf)
}
