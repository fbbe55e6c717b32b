//! aibot.php: calls that hold a conversation.
//!
//! `queue` turns a request into a stored call and a call file; `session` runs inside Asterisk
//! (EAGI) once the callee answers: it plays each step's message, collects digits or speech, asks
//! the webhook for the next step and finally hands the channel to its destination; `status`
//! reports how the call ended, exactly once, whether it was answered or not.

pub mod payload;
pub mod prompt;
pub mod queue;
pub mod session;
pub mod status;
pub mod voice;

pub use apicall_request::aibot as request;
pub use queue::queue;
pub use session::run as run_session;
pub use status::run as run_status;

/// The signal Asterisk sends an AGI script at hangup would kill PHP before the script can record
/// the outcome; hangups are detected on the AGI channel instead.
pub(crate) fn ignore_sighup() {
    // SAFETY: setting a signal disposition to SIG_IGN has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
}

/// How long a call's AGI process keeps trying to reach MariaDB before it gives up on a row or a
/// status event. A burst of calls can exhaust max_connections for a moment; the caller is on
/// the line (or already gone, for the status) and waiting a few seconds loses nothing.
pub(crate) const AGI_CONNECT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// The same for the hangup and failed handlers, which store the status event: the caller is
/// gone, and a status event that cannot be stored is lost, so they wait longer. (At the end of
/// 100 calls at once, every handler connects at the same moment.)
pub(crate) const STATUS_CONNECT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Call ids are 32 lowercase hex characters.
pub(crate) fn is_call_id(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}
