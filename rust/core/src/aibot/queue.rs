//! aibot.php's work: validate, store, queue.

use serde::Serialize;

use super::request::AibotRequest;
use crate::callfile::CallFile;
use crate::calls;
use crate::config::CoreConfig;
use crate::error::ApiError;
use crate::runtime;
use crate::token;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueuedAibot {
    pub id: String,
    pub status: &'static str,
    #[serde(rename = "PhoneNumber")]
    pub phone_number: String,
}

/// Validates the body, stores the call and writes its call file. All or nothing: a call file
/// that cannot be written removes the stored row again, and a row that cannot be stored leaves
/// no call file. The row's commit and the call file each wait for the disk; they are done at
/// the same time (the file on a helper thread), and the file reaches Asterisk only once both
/// are durable, so the call never starts without its row.
pub fn queue(cfg: &CoreConfig, body: &[u8]) -> Result<QueuedAibot, ApiError> {
    let req = AibotRequest::parse(body, &cfg.default_language, &cfg.default_callerid)?;
    let id = token::call_id();
    let pool = runtime::pool(&cfg.db);
    let file = CallFile::for_aibot(
        &id,
        &req.phone_number,
        &cfg.dial_context,
        req.callerid.clone(),
        (req.max_retries, req.retry_time, req.wait_time),
    );
    let (stored, staged) = std::thread::scope(|s| {
        let staging = s.spawn(|| file.stage(&cfg.spool_dir));
        let stored = runtime::block_on(calls::insert(&pool, &id, &req, &cfg.public_url));
        let staged = staging.join().unwrap_or_else(|_| {
            Err(ApiError::internal(
                "spool_error",
                "writing the call file panicked",
            ))
        });
        (stored, staged)
    });
    let committed = match (stored, staged) {
        (Ok(()), Ok(staged)) => staged.commit(),
        (Err(e), _) => return Err(e), // a staged file is removed when dropped
        (Ok(()), Err(e)) => Err(e),
    };
    if let Err(e) = committed {
        let _ = runtime::block_on(calls::delete(&pool, &id));
        return Err(e);
    }
    tracing::info!(id, phone = req.phone_number, "aibot call queued");
    Ok(QueuedAibot {
        id,
        status: "queued",
        phone_number: req.phone_number,
    })
}
