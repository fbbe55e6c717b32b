//! Who may use the API, how often, and how much at once.
//!
//! Checked before any work is done: the source address against the optional allowlist, the
//! source's recent failed token attempts (a token is 256 bits, but a flood of guesses still costs
//! the PBX), the token itself, and before a call is queued, the number of API-started calls
//! already queued, ringing or talking. An `Idempotency-Key` makes a retried POST return the
//! first call instead of placing a second one.

use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use mysql_async::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::CoreConfig;
use crate::error::{chain, ApiError};
use crate::{kvstore, runtime, schema};

fn db_err(e: mysql_async::Error) -> ApiError {
    ApiError::database_unavailable(chain(&e))
}

fn minute() -> i64 {
    (crate::answer_url::now() / 60) as i64
}

/// Allowlist, failure limit, token: the whole entry check of a token-protected endpoint.
pub fn check(cfg: &CoreConfig, token: Option<&str>, remote: Option<&str>) -> Result<(), ApiError> {
    let ip: Option<IpAddr> = remote.and_then(|r| r.trim().parse().ok());
    if !cfg.ip_allowlist.is_empty()
        && !ip.is_some_and(|ip| cfg.ip_allowlist.iter().any(|n| n.contains(&ip)))
    {
        return Err(ApiError::new(
            403,
            "forbidden",
            "this address may not use the API (ip_allowlist)",
        ));
    }
    let pool = runtime::pool(&cfg.db);
    let ip_text = ip.map(|i| i.to_string()).unwrap_or_default();
    // The stored token and this address's recent failures in one round trip.
    let sql = format!(
        "SELECT (SELECT `val` FROM `{}` WHERE `key` = 'token' AND `id` = 'noid'), \
         (SELECT COALESCE(SUM(failures), 0) FROM apicall_auth_failures WHERE ip = ? AND minute >= ?)",
        kvstore::TABLE
    );
    let (stored, failures): (Option<String>, u64) = runtime::block_on(async {
        schema::ensure(&pool, &cfg.db).await?;
        kvstore::read_first(&cfg.db, &sql, (ip_text.clone(), minute() - 1)).await
    })?
    .unwrap_or((None, 0));
    if !ip_text.is_empty() && failures >= u64::from(cfg.token_failures_per_minute) {
        return Err(ApiError::new(
            429,
            "too_many_requests",
            "too many failed token attempts from this address",
        )
        .with_retry_after(60));
    }
    match kvstore::compare_token(stored.as_deref(), token) {
        Err(e) if e.status == 401 && !ip_text.is_empty() => {
            let _ = runtime::block_on(async {
                let mut conn = runtime::conn(&pool).await?;
                conn.exec_drop(
                    "INSERT INTO apicall_auth_failures (ip, minute, failures) VALUES (?, ?, 1) \
                     ON DUPLICATE KEY UPDATE failures = failures + 1",
                    (&ip_text, minute()),
                )
                .await?;
                conn.exec_drop(
                    "DELETE FROM apicall_auth_failures WHERE minute < ?",
                    (minute() - 10,),
                )
                .await
            });
            tracing::warn!(ip = ip_text, "failed token attempt");
            Err(e)
        }
        other => other,
    }
}

/// API-started calls now queued (call files in the spool), ringing or in conversation, counted
/// up to `limit`: at the limit the answer is the same whatever lies beyond, so the spool is read
/// no further and the database is not asked (a backlog beyond the limit, say after the limit was
/// lowered or while Asterisk is stopped, was read to its end by every refused request, under the
/// lock). The database part is a guarded kvstore-style read (time limit, one retry on a dead
/// pooled connection): it runs under the capacity lock, which a read that never answered would
/// hold.
fn active_calls(cfg: &CoreConfig, limit: u64) -> Result<u64, ApiError> {
    let queued = std::fs::read_dir(cfg.spool_dir.join("outgoing"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("apicall-"))
                .take(limit as usize)
                .count() as u64
        })
        .unwrap_or(0);
    if queued >= limit {
        return Ok(queued);
    }
    let talking: Option<u64> = runtime::block_on(kvstore::read_first(
        &cfg.db,
        "SELECT COUNT(*) FROM apicall_calls WHERE status = 'answered' AND answered_at > NOW() - INTERVAL 2 HOUR",
        (),
    ))?;
    Ok(queued + talking.unwrap_or(0))
}

/// How long a request waits for another one's count-and-queue before answering 503.
const CAPACITY_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Runs `queue` (which hands one call to Asterisk) only while fewer than `max_concurrent_calls`
/// are active; else 429. Counting and queueing hold a lock, so that requests arriving together
/// cannot all see the last free place: the count each one sees includes the calls the ones
/// before it queued. Keep slow work out of `queue` (speech synthesis, the waits for the disk:
/// stage the call file first, and let `queue` only rename it into the spool).
pub fn with_capacity<T>(
    cfg: &CoreConfig,
    queue: impl FnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let _held = SpoolLock::acquire(&cfg.spool_dir.join("outgoing"), CAPACITY_LOCK_WAIT)?;
    let active = active_calls(cfg, u64::from(cfg.max_concurrent_calls))?;
    if active >= u64::from(cfg.max_concurrent_calls) {
        return Err(ApiError::new(
            429,
            "too_many_calls",
            format!(
                "{active} API calls are active (max_concurrent_calls is {})",
                cfg.max_concurrent_calls
            ),
        )
        .with_retry_after(30));
    }
    queue()
}

/// An exclusive `flock` on the spool's `outgoing/` folder, held until dropped (or until the
/// process dies: the kernel frees it with the descriptor).
///
/// Why a file lock and not a MariaDB named lock (which this was): every process that queues
/// calls writes into this folder, so they all run on its machine, and a file lock costs no
/// round trip to take or to give back. The named lock took two more round trips per call
/// (GET_LOCK, RELEASE_LOCK), both while other requests waited for it.
struct SpoolLock {
    _dir: std::fs::File,
}

impl SpoolLock {
    /// Waits up to `wait` for the lock; then 503 (the caller may retry: nothing was queued).
    fn acquire(dir: &Path, wait: Duration) -> Result<SpoolLock, ApiError> {
        let spool_err = |e| crate::callfile::spool_err("lock", dir, e);
        let file = std::fs::File::open(dir).map_err(spool_err)?;
        match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => return Ok(SpoolLock { _dir: file }),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(spool_err(e)),
        }
        // Taken: wait for it in the kernel's queue, which wakes waiters as it is let go (a
        // waiter that polled could lose to newcomers again and again). flock has no timeout, so
        // a helper thread waits, on a duplicate descriptor: the lock belongs to the open file
        // both share. When the helper gets it after this request gave up, it drops the last
        // descriptor, which lets the lock go at once.
        let waiter = file.try_clone().map_err(spool_err)?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(flock(&waiter, libc::LOCK_EX));
        });
        match rx.recv_timeout(wait) {
            Ok(Ok(())) => Ok(SpoolLock { _dir: file }),
            Ok(Err(e)) => Err(spool_err(e)),
            Err(_) => Err(
                ApiError::new(503, "busy", "the call queue is busy; try again").with_retry_after(1),
            ),
        }
    }
}

/// `flock(2)` on `file`, retried when a signal interrupts it.
fn flock(file: &std::fs::File, op: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor `file` keeps open for the call's duration.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Runs `place` once per `Idempotency-Key`: a repeated key gets the first answer back (with
/// `"replayed": true`) and places nothing. Keys are remembered for 24 hours.
pub fn idempotent(
    cfg: &CoreConfig,
    endpoint: &str,
    key: Option<&str>,
    place: impl FnOnce() -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return place();
    };
    if key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    let hash = hex::encode(Sha256::digest(format!("{endpoint}\n{key}").as_bytes()));
    let pool = runtime::pool(&cfg.db);
    let inserted = runtime::block_on(async {
        schema::ensure(&pool, &cfg.db).await?;
        let mut conn = runtime::conn(&pool).await.map_err(db_err)?;
        conn.exec_drop(
            "DELETE FROM apicall_idempotency WHERE created < NOW() - INTERVAL 1 DAY",
            (),
        )
        .await
        .map_err(db_err)?;
        conn.exec_drop(
            "INSERT IGNORE INTO apicall_idempotency (idem_key, endpoint, created) VALUES (?, ?, NOW())",
            (&hash, endpoint),
        )
        .await
        .map_err(db_err)?;
        Ok::<_, ApiError>(conn.affected_rows() == 1)
    })?;
    if !inserted {
        let stored: Option<Option<String>> = runtime::block_on(async {
            let mut conn = runtime::conn(&pool).await.map_err(db_err)?;
            conn.exec_first(
                "SELECT response FROM apicall_idempotency WHERE idem_key = ?",
                (&hash,),
            )
            .await
            .map_err(db_err)
        })?;
        return match stored
            .flatten()
            .and_then(|r| serde_json::from_str::<Value>(&r).ok())
        {
            Some(mut v) => {
                if let Value::Object(m) = &mut v {
                    m.insert("replayed".into(), Value::Bool(true));
                }
                Ok(v)
            }
            None => Err(ApiError::new(
                409,
                "idempotency_conflict",
                "a request with this Idempotency-Key is still being handled",
            )
            .with_field("Idempotency-Key")
            .with_retry_after(1)),
        };
    }
    let result = place();
    runtime::block_on(async {
        let mut conn = runtime::conn(&pool).await.map_err(db_err)?;
        match &result {
            Ok(v) => conn
                .exec_drop(
                    "UPDATE apicall_idempotency SET response = ?, status = 200 WHERE idem_key = ?",
                    (v.to_string(), &hash),
                )
                .await
                .map_err(db_err),
            // A refused request may be corrected and sent again with the same key.
            Err(_) => conn
                .exec_drop(
                    "DELETE FROM apicall_idempotency WHERE idem_key = ?",
                    (&hash,),
                )
                .await
                .map_err(db_err),
        }
    })?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn folder(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("apicall-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// At the limit the spool alone answers: 429 without asking the database (here one that
    /// refuses every connection); below it the database is asked for the calls in conversation.
    #[test]
    fn a_full_spool_refuses_without_asking_the_database() {
        let spool = folder("capacity-full");
        let outgoing = spool.join("outgoing");
        std::fs::create_dir_all(&outgoing).unwrap();
        for name in [
            "apicall-a.call",
            "apicall-b.call",
            "apicall-c.call",
            "other.call",
        ] {
            std::fs::write(outgoing.join(name), "Channel: Local/1@x\n").unwrap();
        }
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let config = |max: u32| {
            CoreConfig::for_test(&[
                ("db_host", "127.0.0.1"),
                ("db_port", &port.to_string()),
                ("spool_dir", &spool.to_string_lossy()),
                ("max_concurrent_calls", &max.to_string()),
            ])
        };
        let queued = |max| with_capacity(&config(max), || Ok(())).unwrap_err();
        let full = queued(3);
        assert_eq!(
            (full.status, full.code),
            (429, "too_many_calls"),
            "{full:?}"
        );
        assert!(
            full.message.starts_with("3 API calls are active"),
            "{full:?}"
        );
        let asked = queued(4);
        assert_eq!(asked.status, 503, "{asked:?}");
        std::fs::remove_dir_all(&spool).unwrap();
    }

    #[test]
    fn the_spool_lock_is_exclusive_and_a_waiter_gives_up_with_503() {
        let dir = folder("lock-busy");
        let held = SpoolLock::acquire(&dir, Duration::from_millis(10)).unwrap();
        let start = Instant::now();
        let err = SpoolLock::acquire(&dir, Duration::from_millis(200))
            .err()
            .expect("a second holder while the first holds it");
        assert_eq!((err.status, err.code), (503, "busy"));
        assert!(start.elapsed() >= Duration::from_millis(150), "it waited");
        drop(held);
        // The waiter that gave up gets it from the kernel now and must let it go again at once,
        // so the next request is not locked out.
        let start = Instant::now();
        let next = SpoolLock::acquire(&dir, Duration::from_secs(2)).unwrap();
        assert!(start.elapsed() < Duration::from_millis(500));
        drop(next);
        SpoolLock::acquire(&dir, Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_waiter_gets_the_spool_lock_when_the_holder_lets_go() {
        let dir = folder("lock-wait");
        let held = SpoolLock::acquire(&dir, Duration::ZERO).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let start = Instant::now();
        SpoolLock::acquire(&dir, Duration::from_secs(5)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(90));
        release.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_spool_folder_is_a_spool_error() {
        let dir = folder("lock-missing").join("outgoing");
        let err = SpoolLock::acquire(&dir, Duration::ZERO).err().unwrap();
        assert_eq!(err.code, "spool_error");
        assert!(err.message.contains("outgoing"), "{}", err.message);
    }
}
