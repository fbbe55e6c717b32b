//! apicall-speech: the audio side of apicall, independent of PHP, Asterisk and the database.
//!
//! - `audio`: PCM in the shapes Asterisk carries (8 kHz signed linear), WAV, resampling.
//! - `endpoint`: when a caller's answer starts and ends, on the EAGI stream.
//! - `mp3`: the answer encoded with LAME; WAV or MP3 prompts decoded.
//! - `stt`: speech-to-text behind one trait, with the OpenAI-compatible provider.
//! - `tts`: text-to-speech behind one trait: espeak-ng, OpenAI-compatible servers.
//! - `google`: Google Cloud Speech-to-Text and Text-to-Speech, with service-account auth.
//! - `providers`: the configured chains, built from the module's flat settings.
//! - `error`: the one error type both directions share.

pub mod audio;
pub mod endpoint;
pub mod error;
pub mod google;
mod http;
pub mod mp3;
pub mod providers;
pub mod stt;
pub mod tts;

use std::future::Future;
use std::pin::Pin;

pub use audio::Pcm;
pub use endpoint::{EndpointConfig, Endpointer, Event};
pub use error::{SpeechError, SttError, TtsError};
pub use google::{GoogleAuth, GoogleStt, GoogleSttConfig, GoogleTts, GoogleTtsConfig};
pub use mp3::{decode_any, encode_mp3, Mp3Error};
pub use providers::Providers;
pub use stt::{Alternative, Fallback, OpenAiStt, OpenAiSttConfig, SttProvider};
pub use tts::{EspeakTts, OpenAiTts, OpenAiTtsConfig, TtsFallback, TtsProvider};

/// What a provider's `check` returns: what it found when it answered (e.g. "answers; model
/// whisper-1 listed"), or the error a real request would meet.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SpeechError>> + Send + 'a>>;

#[cfg(test)]
pub(crate) mod standin;
/// What a fallback chain returns: the result, the provider that gave it, and the failures of
/// the providers tried before it (worth a warning in a log: the preferred engine is not
/// working).
#[derive(Debug)]
pub struct Chained<'a, T> {
    pub value: T,
    pub provider: &'a str,
    pub failed: Vec<SpeechError>,
}

#[cfg(test)]
pub(crate) mod testutil;
