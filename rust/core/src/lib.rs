//! apicall-core: the engine of the apicall FreePBX module.
//!
//! Everything the module does that is worth testing lives here, free of PHP types, so that
//! `cargo test` covers it: request validation, Asterisk call files, text-to-speech, the token
//! check against FreePBX's kvstore, and the per-process async runtime the PHP extension borrows.
//! The `apicall-php` crate only translates between PHP values and these types.

pub mod access;
pub mod agi;
pub mod agi_config;
pub mod aibot;
pub mod answer_url;
pub mod calls;
pub mod cdr;
pub mod config;
pub mod config_cache;
pub mod eagi;
pub mod kvstore;
pub mod originate;
pub mod outbox;
pub mod runtime;
pub mod schema;
pub mod speech;
#[cfg(test)]
mod stack_test;
pub mod stt;
pub mod token;
pub mod tts;
pub mod webhook;

pub use apicall_request::{callfile, error, fields, json};
pub use apicall_speech::audio;
pub use config::CoreConfig;
pub use error::ApiError;

/// The module's version: the extension reports it, and it matches module.xml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
