//! aibot.php's work: validate, store, queue.

use serde::Serialize;

use super::request::AibotRequest;
use crate::callfile::{CallFile, Staged};
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

/// Validates the body, stores the call and writes its call file (see [`stage`]).
pub fn queue(cfg: &CoreConfig, body: &[u8]) -> Result<QueuedAibot, ApiError> {
    stage(cfg, body)?.commit()
}

/// A stored call whose call file is on disk in the spool's `tmp/`, not yet handed to Asterisk:
/// [`ReadyAibot::commit`] (a rename) is all that runs under the capacity lock. Dropped without
/// commit (the call was refused), its file and its row are removed.
pub struct ReadyAibot {
    cfg_db: crate::config::DbConfig,
    queued: Option<QueuedAibot>,
    file: Option<Staged>,
}

impl ReadyAibot {
    /// Hands the call file to Asterisk; a file that cannot be moved removes the row again.
    pub fn commit(mut self) -> Result<QueuedAibot, ApiError> {
        let file = self.file.take().expect("committed once");
        file.commit()?;
        let q = self.queued.take().expect("committed once");
        tracing::info!(id = q.id, phone = q.phone_number, "aibot call queued");
        Ok(q)
    }
}

impl Drop for ReadyAibot {
    fn drop(&mut self) {
        // Not committed: the staged file goes with `file`; the row must go too. Never dropped
        // inside the runtime (the callers hold it in plain code), so blocking here is safe.
        if let Some(q) = self.queued.take() {
            let pool = runtime::pool(&self.cfg_db);
            if let Err(e) = runtime::block_on(calls::delete(&pool, &q.id)) {
                tracing::warn!(id = q.id, error = %e, "the row of a call not queued stays");
            }
        }
    }
}

/// Validates the body, stores the call and writes its call file into the spool's `tmp/`. All
/// or nothing: a call file that cannot be written removes the stored row again, and a row that
/// cannot be stored leaves no call file. The row's commit and the call file each wait for the
/// disk; they are done at the same time (the file on a helper thread), and the file reaches
/// Asterisk only on commit, once both are durable, so the call never starts without its row.
pub fn stage(cfg: &CoreConfig, body: &[u8]) -> Result<ReadyAibot, ApiError> {
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
    let staged = match (stored, staged) {
        (Ok(()), Ok(staged)) => staged,
        (Err(e), _) => return Err(e), // a staged file is removed when dropped
        (Ok(()), Err(e)) => {
            let _ = runtime::block_on(calls::delete(&pool, &id));
            return Err(e);
        }
    };
    Ok(ReadyAibot {
        cfg_db: cfg.db.clone(),
        queued: Some(QueuedAibot {
            id,
            status: "queued",
            phone_number: req.phone_number,
        }),
        file: Some(staged),
    })
}
