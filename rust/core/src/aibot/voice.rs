//! Spoken answers: listening on the EAGI audio stream, keeping the answer, transcribing it.
//!
//! The answer is endpointed as it arrives (speech start, then EndOfSpeakSilenceLength of
//! silence), kept as WAV and MP3 in the answers folder, offered to the webhook through a signed
//! expiring link, and, with UserAnswerSTT, transcribed by the configured speech-to-text provider.

use std::io::{BufRead, Write};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use apicall_speech::{EndpointConfig, Endpointer, Event, Pcm};

use super::payload::Alternative;
use super::request::Step;
use super::session::{Answer, StepError};
use crate::agi::Agi;
use crate::answer_url;
use crate::calls::StoredCall;
use crate::config::CoreConfig;
use crate::eagi::EagiAudio;
use crate::error::ApiError;

/// Longest answer kept.
pub const MAX_ANSWER: Duration = Duration::from_secs(60);

static AUDIO: OnceLock<Option<EagiAudio>> = OnceLock::new();

fn audio() -> Option<&'static EagiAudio> {
    AUDIO.get_or_init(EagiAudio::open).as_ref()
}

pub fn listen<R: BufRead, W: Write>(
    cfg: &CoreConfig,
    _agi: &mut Agi<R, W>,
    call: &StoredCall,
    step: &Step,
    n: u32,
    answer: &mut Answer,
) -> Result<(), StepError> {
    let audio = audio().ok_or_else(|| {
        ApiError::internal(
            "voice_unavailable",
            "no EAGI audio: the dialplan must run the script with EAGI()",
        )
    })?;
    let Gathered {
        end,
        mut ep,
        dropped,
    } = gather(audio, step)?;
    let rate = u64::from(apicall_speech::audio::ASTERISK_WAV_RATE);
    tracing::info!(id = call.id, step = n, dropped, ?end, "answer endpointed");
    if let Event::SpeechEnded { end: last, at } = end {
        // The caller stopped `at - last` samples before the decision, which was just now.
        let since_end = Duration::from_secs_f64(at.saturating_sub(last) as f64 / rate as f64);
        answer.speech_end = Instant::now().checked_sub(since_end);
        answer.endpointed_ms = Some(since_end.as_millis() as u64);
    }
    answer.end = match end {
        Event::NoSpeech { .. } => "timeout",
        Event::MaxLength { .. } => "max-length",
        _ => "silence",
    };
    if matches!(end, Event::NoSpeech { .. }) {
        return Ok(());
    }
    let pcm = ep.take_answer();
    answer.mp3_url = keep(cfg, call, n, &pcm)?;
    if step.stt {
        match transcribe(cfg, step, &pcm) {
            Ok(alts) => {
                answer.text = alts.first().map(|a| a.transcript.clone());
                answer.alternatives = alts;
                answer.transcribed_ms = answer.speech_end.map(|t| t.elapsed().as_millis() as u64);
            }
            // A transcription failure is reported to the webhook as no text, not as a dead call.
            Err(e) => tracing::warn!(id = call.id, step = n, error = %e, "speech-to-text failed"),
        }
    }
    Ok(())
}

/// What listening heard: how it ended, the endpointer holding the answer, and how many samples
/// that queued before listening began were thrown away.
struct Gathered {
    end: Event,
    ep: Endpointer,
    dropped: usize,
}

/// Endpoints one answer on the EAGI stream. What arrived while the script was busy (the prompt
/// playing, the webhook being asked) was thrown away: it is not an answer to this question.
fn gather(audio: &EagiAudio, step: &Step) -> Result<Gathered, StepError> {
    let mut listening = audio.listen();
    let dropped = listening.dropped();
    let ep_cfg = EndpointConfig {
        end_silence: Duration::from_secs_f64(step.end_silence),
        timeout: Duration::from_secs(u64::from(step.timeout)),
        max_length: MAX_ANSWER,
        ..EndpointConfig::default()
    };
    let mut ep = Endpointer::new(ep_cfg).map_err(|e| ApiError::internal("voice_unavailable", e))?;
    // Asterisk passes on 20 ms every 20 ms while the far end sends audio; a far end that sends
    // nothing (no frames at all) must not stretch the wait, so the wall clock bounds it too:
    // Timeout for speech to start, then the longest answer.
    let no_speech_by =
        Instant::now() + Duration::from_secs(u64::from(step.timeout)) + Duration::from_millis(500);
    let mut speaking_since: Option<Instant> = None;
    // A far end with silence suppression sends no frames while quiet; that gap is silence, and
    // it is fed as such so the answer still ends EndOfSpeakSilenceLength after the last word.
    let rate = u64::from(apicall_speech::audio::ASTERISK_WAV_RATE);
    let mut last_audio = Instant::now();
    let silence = vec![0i16; (rate / 5) as usize];
    let end = loop {
        let mut done = None;
        let mut feed = |ep: &mut Endpointer, samples: &[i16], since: &mut Option<Instant>| {
            for ev in ep.feed(samples) {
                match ev {
                    Event::SpeechStarted { .. } => *since = Some(Instant::now()),
                    other => done = Some(other),
                }
            }
        };
        match listening.next(Duration::from_millis(100)) {
            Ok(chunk) => {
                last_audio = Instant::now();
                feed(&mut ep, &chunk, &mut speaking_since);
            }
            Err(RecvTimeoutError::Timeout) => {
                let gap = last_audio.elapsed();
                if gap >= Duration::from_millis(200) {
                    last_audio += Duration::from_millis(200);
                    feed(&mut ep, &silence, &mut speaking_since);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(StepError::Hangup),
        }
        if let Some(ev) = done {
            break ev;
        }
        let now = Instant::now();
        match speaking_since {
            None if now > no_speech_by => break Event::NoSpeech { at: ep.position() },
            Some(t) if now > t + MAX_ANSWER => break Event::MaxLength { at: ep.position() },
            _ => {}
        }
    };
    Ok(Gathered { end, ep, dropped })
}

/// Stores the answer (WAV and MP3) and returns its signed URL, when a public URL is known.
fn keep(
    cfg: &CoreConfig,
    call: &StoredCall,
    n: u32,
    pcm: &Pcm,
) -> Result<Option<String>, ApiError> {
    let fail = |e: &dyn std::fmt::Display| ApiError::internal("answer_not_saved", e.to_string());
    std::fs::create_dir_all(&cfg.answers_dir).map_err(|e| fail(&e))?;
    sweep(cfg);
    let stem = format!("{}-{n}", call.id);
    pcm.write_wav_atomic(&cfg.answers_dir.join(format!("{stem}.wav")))
        .map_err(|e| fail(&e))?;
    let mp3 = apicall_speech::encode_mp3(pcm).map_err(|e| fail(&e))?;
    let file = format!("{stem}.mp3");
    let tmp = cfg.answers_dir.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, mp3).map_err(|e| fail(&e))?;
    std::fs::rename(&tmp, cfg.answers_dir.join(&file)).map_err(|e| fail(&e))?;
    let base = if call.public_url.is_empty() {
        &cfg.public_url
    } else {
        &call.public_url
    };
    if base.is_empty() || cfg.url_secret.is_empty() {
        tracing::warn!(
            id = call.id,
            "no public URL or url_secret: UserAnswerMp3Url left empty"
        );
        return Ok(None);
    }
    let expires = answer_url::now() + cfg.answer_url_lifetime.as_secs();
    Ok(Some(format!(
        "{base}/answer.php?{}",
        answer_url::sign(&cfg.url_secret, &file, expires)?
    )))
}

/// Deletes answers older than the retention period; returns how many went. Run when an answer
/// is kept and by the module's every-minute job, so files go on time even when no call comes.
pub fn sweep(cfg: &CoreConfig) -> usize {
    let Ok(entries) = std::fs::read_dir(&cfg.answers_dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut deleted = 0;
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > cfg.answer_retention);
        if old && std::fs::remove_file(e.path()).is_ok() {
            deleted += 1;
        }
    }
    deleted
}

fn transcribe(cfg: &CoreConfig, step: &Step, pcm: &Pcm) -> Result<Vec<Alternative>, String> {
    crate::stt::transcribe(cfg, pcm, &step.language, &step.speech_context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn tone(freq: f64, secs: f64, amplitude: f64) -> Vec<i16> {
        let n = (8000.0 * secs) as usize;
        (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin()) as i16
            })
            .collect()
    }

    fn bytes(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    fn voice_step() -> Step {
        let body = br#"{"PhoneNumber":"2001","UserInputMethod":"voice","EndOfSpeakSilenceLength":0.5,"Timeout":5}"#;
        super::super::request::AibotRequest::parse(body, "en_US", "999")
            .unwrap()
            .step
    }

    #[test]
    fn audio_queued_before_listening_is_not_in_the_answer() {
        let (mut phone, script_end) = UnixStream::pair().unwrap();
        let audio = EagiAudio::from_fd(script_end.into());
        // The caller talks loudly while the prompt plays: a full sentence's worth of audio,
        // with its own pause, sits in the queue when listening begins.
        let early = [
            tone(400.0, 1.0, 20000.0),
            vec![0; 8000],
            tone(400.0, 0.5, 20000.0),
        ]
        .concat();
        phone.write_all(&bytes(&early)).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let step = voice_step();
        let later = std::thread::spawn(move || {
            // Then the real answer, quieter, after listening began; the phone keeps sending
            // silence afterwards, as a real line does.
            std::thread::sleep(Duration::from_millis(300));
            let answer = [vec![0; 2400], tone(1000.0, 0.8, 3000.0), vec![0; 16000]].concat();
            for chunk in answer.chunks(160) {
                if phone.write_all(&bytes(chunk)).is_err() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_secs(3));
        });
        let Gathered {
            end,
            mut ep,
            dropped,
        } = gather(&audio, &step).ok().unwrap();
        assert!(matches!(end, Event::SpeechEnded { .. }), "{end:?}");
        let pcm = ep.take_answer();
        let peak = pcm.samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        // Only the later, quieter answer: none of the loud early speech.
        assert!((2500..=3000).contains(&peak), "peak {peak}");
        let secs = pcm.samples.len() as f64 / 8000.0;
        assert!((0.8..1.6).contains(&secs), "{secs} s kept");
        assert_eq!(
            dropped,
            early.len(),
            "everything queued before listening was drained"
        );
        drop(later);
    }

    #[test]
    fn sweep_deletes_only_answers_past_retention() {
        let dir = std::env::temp_dir().join(format!("apicall-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = dir.join(format!("{}-1.mp3", "a".repeat(32)));
        let new = dir.join(format!("{}-1.mp3", "b".repeat(32)));
        for f in [&old, &new] {
            std::fs::write(f, b"x").unwrap();
        }
        let eight_days = SystemTime::now() - Duration::from_secs(8 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(eight_days)
            .unwrap();
        let cfg = CoreConfig::for_test(&[
            ("answers_dir", dir.to_str().unwrap()),
            ("answer_retention_days", "7"),
        ]);
        assert_eq!(sweep(&cfg), 1);
        assert!(!old.exists() && new.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
