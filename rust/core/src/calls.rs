//! The `apicall_calls` table: one row per API-started call, from queueing to its final status.
//!
//! The call file carries only the call's id; everything else (the validated request, where the
//! public URLs point, how far the call got) lives here, so the AGI side can pick it up and so the
//! status webhook can be claimed exactly once, whichever path (hangup or failure) gets there.

use mysql_async::prelude::*;
use mysql_async::{Pool, Row};

use crate::aibot::request::AibotRequest;
use crate::error::{chain, ApiError};
use crate::runtime;

pub const TABLE: &str = "apicall_calls";

fn db_err(e: mysql_async::Error) -> ApiError {
    tracing::warn!(error = %chain(&e), "apicall_calls query failed");
    ApiError::database_unavailable(chain(&e))
}

/// What the AGI side needs of a stored call.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub id: String,
    pub request: AibotRequest,
    pub public_url: String,
    pub status: String,
    pub outcome: Option<String>,
    pub attempts: u32,
    pub uniqueid: Option<String>,
    pub linkedid: Option<String>,
    /// When the call was queued (Unix seconds).
    pub created_epoch: u64,
}

pub async fn insert(
    pool: &Pool,
    id: &str,
    request: &AibotRequest,
    public_url: &str,
) -> Result<(), ApiError> {
    let json =
        serde_json::to_string(request).map_err(|e| ApiError::internal("internal_error", e))?;
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        format!(
            "INSERT INTO `{TABLE}` (id, created, kind, tocall, request, public_url, status, attempts, max_retries) \
             VALUES (?, NOW(), 'aibot', ?, ?, ?, 'queued', 0, ?)"
        ),
        (id, &request.phone_number, json, public_url, request.max_retries),
    )
    .await
    .map_err(db_err)
}

/// Removes a row whose call file could not be written, so nothing half-made stays behind.
pub async fn delete(pool: &Pool, id: &str) -> Result<(), ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(format!("DELETE FROM `{TABLE}` WHERE id = ?"), (id,))
        .await
        .map_err(db_err)
}

pub async fn load(pool: &Pool, id: &str) -> Result<Option<StoredCall>, ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    let row: Option<Row> = conn
        .exec_first(
            format!(
                "SELECT id, request, COALESCE(public_url, ''), status, outcome, attempts, uniqueid, linkedid, \
                 CAST(UNIX_TIMESTAMP(created) AS UNSIGNED) FROM `{TABLE}` WHERE id = ?"
            ),
            (id,),
        )
        .await
        .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut row = row;
    let bad = |what: &str| {
        ApiError::internal("internal_error", format!("apicall_calls.{what} unreadable"))
    };
    let id: String = row
        .take_opt(0)
        .and_then(Result::ok)
        .ok_or_else(|| bad("id"))?;
    let request: String = row
        .take_opt(1)
        .and_then(Result::ok)
        .ok_or_else(|| bad("request"))?;
    let public_url: String = row.take_opt(2).and_then(Result::ok).unwrap_or_default();
    let status: String = row.take_opt(3).and_then(Result::ok).unwrap_or_default();
    let outcome: Option<String> = row.take_opt(4).and_then(Result::ok).flatten();
    let attempts: u32 = row.take_opt(5).and_then(Result::ok).unwrap_or(0);
    let uniqueid: Option<String> = row.take_opt(6).and_then(Result::ok).flatten();
    let linkedid: Option<String> = row.take_opt(7).and_then(Result::ok).flatten();
    let created_epoch: u64 = row.take_opt(8).and_then(Result::ok).unwrap_or(0);
    let request = serde_json::from_str(&request).map_err(|e| {
        ApiError::internal("internal_error", format!("stored request of {id}: {e}"))
    })?;
    Ok(Some(StoredCall {
        id,
        request,
        public_url,
        status,
        outcome,
        attempts,
        uniqueid,
        linkedid,
        created_epoch,
    }))
}

pub async fn mark_answered(
    pool: &Pool,
    id: &str,
    uniqueid: &str,
    linkedid: &str,
) -> Result<(), ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        format!(
            "UPDATE `{TABLE}` SET status = 'answered', answered_at = COALESCE(answered_at, NOW()), \
             attempts = attempts + 1, uniqueid = ?, linkedid = ? WHERE id = ?"
        ),
        (uniqueid, linkedid, id),
    )
    .await
    .map_err(db_err)
}

/// The conversation is over: `completed` (reached its destination) or `callee-hangup`.
pub async fn mark_ended(pool: &Pool, id: &str, outcome: &str) -> Result<(), ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        format!("UPDATE `{TABLE}` SET status = 'ended', outcome = COALESCE(outcome, ?), ended_at = NOW() WHERE id = ?"),
        (outcome, id),
    )
    .await
    .map_err(db_err)
}

pub async fn set_last_webhook(pool: &Pool, id: &str, result: &str) -> Result<(), ApiError> {
    let text: String = result.chars().take(250).collect();
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        format!("UPDATE `{TABLE}` SET last_webhook = ? WHERE id = ?"),
        (text, id),
    )
    .await
    .map_err(db_err)
}

/// Counts one failed attempt; returns the number of attempts so far.
pub async fn add_failed_attempt(pool: &Pool, id: &str) -> Result<u32, ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        format!("UPDATE `{TABLE}` SET attempts = attempts + 1 WHERE id = ?"),
        (id,),
    )
    .await
    .map_err(db_err)?;
    let n: Option<u32> = conn
        .exec_first(
            format!("SELECT attempts FROM `{TABLE}` WHERE id = ?"),
            (id,),
        )
        .await
        .map_err(db_err)?;
    Ok(n.unwrap_or(0))
}

/// Claims the right to send the call's status, inside `tx`: true for exactly one caller, ever,
/// once `tx` commits. It runs in the transaction that stores the status event
/// (`outbox::claim_and_enqueue`), so a claim never stands without its event.
pub async fn claim_status(
    tx: &mut mysql_async::Transaction<'_>,
    id: &str,
    outcome: &str,
) -> Result<bool, mysql_async::Error> {
    tx.exec_drop(
        format!(
            "UPDATE `{TABLE}` SET status_sent_at = NOW(), outcome = ?, status = 'ended', \
             ended_at = COALESCE(ended_at, NOW()) WHERE id = ? AND status_sent_at IS NULL"
        ),
        (outcome, id),
    )
    .await?;
    Ok(tx.affected_rows() == 1)
}
