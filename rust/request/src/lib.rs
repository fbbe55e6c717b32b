//! apicall-request: what an API request may say, and the Asterisk call file it becomes.
//!
//! Every value that can travel from an HTTP request towards Asterisk passes through here: the
//! strict JSON reading, the grammar of each field, the request types of index.php and aibot.php
//! (the latter also being the shape of a webhook's reply), and the call-file renderer that is the
//! last gate before the spool. It has no database, network or PHP in it, so it is small enough
//! to fuzz (rust/fuzz) and to test exhaustively.

pub mod aibot;
pub mod callfile;
pub mod error;
pub mod fields;
pub mod json;
pub mod originate;

pub use error::ApiError;
