//! espeak-ng, the offline engine that is always there (Debian package `espeak-ng`).
//!
//! It runs as a child process with the text on stdin, never as an argument and never through a
//! shell, so no text can become an option or a command. Output is read back from a temporary WAV.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{TtsEngine, TtsRequest};
use crate::audio::Pcm;
use crate::error::ApiError;

pub struct Espeak {
    program: String,
    scratch: std::path::PathBuf,
}

impl Espeak {
    /// `program` is the espeak-ng executable; `scratch` a folder for its output file.
    pub fn new(program: impl Into<String>, scratch: impl Into<std::path::PathBuf>) -> Self {
        Espeak {
            program: program.into(),
            scratch: scratch.into(),
        }
    }

    /// espeak-ng names voices `it`, `en-us`, `pt-br`, with variants as `en-us+f3`. API requests
    /// use `it_IT`/`en-US` and may name a cloud voice (`it-IT-Wavenet-A`) that espeak lacks:
    /// only short variant names (`f3`, `m1`, `klatt`) are passed through.
    pub fn voice_for(req: &TtsRequest) -> String {
        let tag = req.language.to_ascii_lowercase().replace('_', "-");
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
            None => tag.clone(),
        };
        match req.voice.as_deref() {
            Some(v)
                if v.len() <= 12
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
            {
                format!("{base}+{v}")
            }
            _ => base,
        }
    }
}

impl TtsEngine for Espeak {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    fn synthesize(&self, req: &TtsRequest) -> Result<Pcm, ApiError> {
        let fail = |why: String| ApiError::internal("tts_failed", format!("espeak-ng: {why}"));
        std::fs::create_dir_all(&self.scratch).map_err(|e| fail(e.to_string()))?;
        let out = self.scratch.join(format!(
            ".espeak-{}-{}.wav",
            std::process::id(),
            crate::token::random_hex(8)
        ));
        let mut child = Command::new(&self.program)
            .arg("-v")
            .arg(Self::voice_for(req))
            .arg("--stdin")
            .arg("-w")
            .arg(&out)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot run {:?}: {e}", self.program)))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(req.text.as_bytes())
                .map_err(|e| fail(e.to_string()))?;
        }
        let status = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
        let result = if status.status.success() {
            std::fs::read(&out)
                .map_err(|e| fail(e.to_string()))
                .and_then(|b| Pcm::from_wav_bytes(&b).map_err(|e| fail(e.to_string())))
        } else {
            Err(fail(
                String::from_utf8_lossy(&status.stderr).trim().to_string(),
            ))
        };
        let _ = std::fs::remove_file(&out);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(lang: &str, voice: Option<&str>) -> TtsRequest {
        TtsRequest {
            text: "x".into(),
            language: lang.into(),
            voice: voice.map(Into::into),
        }
    }

    #[test]
    fn voices_map_to_espeak_names() {
        assert_eq!(Espeak::voice_for(&req("it", None)), "it");
        assert_eq!(Espeak::voice_for(&req("it_IT", None)), "it");
        assert_eq!(Espeak::voice_for(&req("en_US", None)), "en-us");
        assert_eq!(Espeak::voice_for(&req("en-GB", Some("f3"))), "en-gb+f3");
        assert_eq!(
            Espeak::voice_for(&req("it_IT", Some("it-IT-Wavenet-A"))),
            "it"
        );
    }

    #[test]
    fn synthesizes_real_speech_when_installed() {
        let engine = Espeak::new("espeak-ng", std::env::temp_dir());
        if Command::new("espeak-ng").arg("--version").output().is_err() {
            panic!("espeak-ng is not installed: run `make deps`");
        }
        let pcm = engine
            .synthesize(&TtsRequest {
                text: "-v --help; rm -rf /".into(),
                language: "en_US".into(),
                voice: None,
            })
            .unwrap();
        assert!(pcm.duration_secs() > 1.0, "{}", pcm.duration_secs());
        assert!(pcm.rms_dbfs() > -40.0, "{}", pcm.rms_dbfs());
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let e = Espeak::new("/nonexistent/espeak", std::env::temp_dir())
            .synthesize(&req("it", None))
            .unwrap_err();
        assert_eq!(e.code, "tts_failed");
        assert!(e.message.contains("/nonexistent/espeak"), "{e}");
    }
}
