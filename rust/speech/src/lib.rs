//! apicall-speech: the audio side of apicall, independent of PHP, Asterisk and the database.
//!
//! PCM in the shapes Asterisk carries (8 kHz signed linear), conversion to and from files, and,
//! as they arrive, endpointing of a caller's answer, mp3 encoding, and speech-to-text clients.

pub mod audio;
pub mod endpoint;
pub mod mp3;

pub use audio::Pcm;
pub use endpoint::{EndpointConfig, Endpointer, Event};
pub use mp3::{decode_any, encode_mp3, Mp3Error};

#[cfg(test)]
pub(crate) mod testutil;
