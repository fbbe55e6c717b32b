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
    let t = crate::webhook::Timeouts {
        connect: cfg.webhook_connect_timeout,
        total: FETCH_TIMEOUT,
    };
    let bytes = crate::runtime::block_on(fetch(url, t, &cfg.allowed_hosts, MAX_AUDIO_BYTES))
        .map_err(fail)?;
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

/// Downloads `url` within `t` and `max` bytes; a server that sends too much is cut off as soon
/// as it says so (Content-Length) or as soon as it has (a body without one), and one that drips
/// is cut off at `t.total`, whatever it still promises.
async fn fetch(
    url: &str,
    t: crate::webhook::Timeouts,
    allowed: &[String],
    max: usize,
) -> Result<Vec<u8>, String> {
    let client = crate::webhook::client(t, allowed).map_err(|e| e.to_string())?;
    let why = |e: reqwest::Error| crate::webhook::classify(&e, t).to_string();
    let work = async {
        let mut resp = client.get(url).send().await.map_err(why)?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(format!("larger than {max} bytes"));
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(why)? {
            buf.extend_from_slice(&chunk);
            if buf.len() > max {
                return Err(format!("larger than {max} bytes"));
            }
        }
        Ok(buf)
    };
    match tokio::time::timeout(t.total + Duration::from_millis(100), work).await {
        Err(_) => Err(crate::webhook::WebhookError::Timeout(t.total).to_string()),
        Ok(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashMap;
    use std::time::Instant;

    use crate::webhook::test_server::{answer, blackhole, drip, serve};
    use crate::webhook::Timeouts;

    fn config(connect_secs: &str) -> CoreConfig {
        let cache =
            std::env::temp_dir().join(format!("apicall-prompt-test-{}", std::process::id()));
        let map: HashMap<String, String> = [
            ("db_user", "u"),
            ("spool_dir", "/nonexistent"),
            ("tts_cache_dir", cache.to_str().unwrap()),
            ("webhook_connect_timeout", connect_secs),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        CoreConfig::from_map(&map).unwrap()
    }

    #[test]
    fn message_url_connects_within_the_webhook_connect_timeout_setting() {
        let (base, _hold) = blackhole();
        let started = Instant::now();
        let e = url(&config("1"), &format!("{base}/never.wav")).unwrap_err();
        let took = started.elapsed();
        assert!(e.message.contains("cannot connect"), "{}", e.message);
        // The setting (1 s), not a fixed 5 s, nor the 15 s download limit.
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(2000),
            "{took:?}"
        );
    }

    const T: Timeouts = Timeouts {
        connect: Duration::from_secs(2),
        total: FETCH_TIMEOUT,
    };

    #[test]
    fn a_declared_oversize_download_is_refused_before_reading_it() {
        let promised = MAX_AUDIO_BYTES + 1;
        let base = serve(move |_, s| drip(s, promised));
        let started = Instant::now();
        let e = crate::runtime::block_on(fetch(&format!("{base}/a.wav"), T, &[], MAX_AUDIO_BYTES))
            .unwrap_err();
        assert_eq!(e, format!("larger than {MAX_AUDIO_BYTES} bytes"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn an_undeclared_oversize_download_stops_at_the_limit() {
        // No Content-Length (the body ends when the connection closes): counted as it comes.
        let base = serve(|_, s| {
            use std::io::Write;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
            let block = vec![0u8; 1 << 20];
            for _ in 0..(MAX_AUDIO_BYTES >> 20) + 2 {
                if s.write_all(&block).is_err() {
                    return;
                }
            }
        });
        let started = Instant::now();
        let e = crate::runtime::block_on(fetch(&format!("{base}/a.wav"), T, &[], MAX_AUDIO_BYTES))
            .unwrap_err();
        assert_eq!(e, format!("larger than {MAX_AUDIO_BYTES} bytes"));
        assert!(started.elapsed() < Duration::from_secs(5));
        // And within the limit it is a download.
        let base = serve(|_, s| answer(s, "200 OK", "", b"RIFF...."));
        let got =
            crate::runtime::block_on(fetch(&format!("{base}/b.wav"), T, &[], MAX_AUDIO_BYTES));
        assert_eq!(got.unwrap(), b"RIFF....");
    }

    #[test]
    fn a_dripping_download_is_cut_off_at_the_total_time() {
        let base = serve(|_, s| drip(s, 100_000));
        let t = Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_secs(1),
        };
        let started = Instant::now();
        let e = crate::runtime::block_on(fetch(&format!("{base}/a.wav"), t, &[], MAX_AUDIO_BYTES))
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(e, "no answer within 1s");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(1600),
            "{took:?}"
        );
    }

    #[test]
    fn a_message_url_outside_allowed_hosts_is_never_fetched() {
        let mut cfg = config("1");
        cfg.allowed_hosts = vec!["hooks.example.com".into()];
        let e = url(&cfg, "http://127.0.0.1:9/a.wav").unwrap_err();
        assert!(e.message.contains("not in allowed_hosts"), "{}", e.message);
    }
}
