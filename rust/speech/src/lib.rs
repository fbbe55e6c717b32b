//! apicall-speech: the audio side of apicall, independent of PHP, Asterisk and the database.
//!
//! - `audio`: PCM in the shapes Asterisk carries (8 kHz signed linear), WAV, resampling.
//! - `endpoint`: when a caller's answer starts and ends, on the EAGI stream.
//! - `mp3`: the answer encoded with LAME; WAV or MP3 prompts decoded.
//! - `stt`: speech-to-text behind one trait, with the OpenAI-compatible provider.

pub mod audio;
pub mod endpoint;
pub mod mp3;
pub mod stt;

pub use audio::Pcm;
pub use endpoint::{EndpointConfig, Endpointer, Event};
pub use mp3::{decode_any, encode_mp3, Mp3Error};
pub use stt::{Alternative, Fallback, OpenAiStt, OpenAiSttConfig, SttError, SttProvider};

#[cfg(test)]
pub(crate) mod testutil;
