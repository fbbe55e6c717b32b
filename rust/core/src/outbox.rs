//! The durable outbox: status events are stored before they are sent, and sent until delivered.
//!
//! A call's status is the one message its application cannot do without, and the moment it is
//! produced (a channel hanging up) is the worst moment to depend on someone else's server. So
//! the event is written to MariaDB first, with an id the receiver can deduplicate on, then sent:
//! a couple of quick tries from the call's own hangup path, and after that by a periodic runner
//! (FreePBX cron / `fwconsole apicall:outbox`) with exponential backoff, until it is delivered,
//! runs out of attempts or expires. Each attempt is leased by one process at a time, so the
//! hangup path and the runner never send the same attempt twice.

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Pool, Row};
use serde::Serialize;

use crate::aibot::request::Header;
use crate::config::CoreConfig;
use crate::error::{chain, ApiError};
use crate::runtime;
use crate::webhook::{self, Delivery, Timeouts};

/// How long an attempt is leased to the process making it.
const LEASE: Duration = Duration::from_secs(60);

fn db_err(e: mysql_async::Error) -> ApiError {
    ApiError::database_unavailable(chain(&e))
}

/// One stored event.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_id: String,
    pub call_id: String,
    pub url: String,
    pub headers: Vec<Header>,
    /// The exact bytes sent, every time.
    pub body: String,
    pub attempts: u32,
}

/// Delay before attempt `n + 1` after `n` failures: 5 s, 10 s, 20 s, ... at most 10 minutes.
pub fn backoff(failures: u32) -> Duration {
    let secs = 5u64.saturating_mul(1 << failures.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(600))
}

/// Claims the call's status (`calls::claim_status`) and stores its event, if it has a URL to go
/// to, in one transaction: a process that dies or loses the database between the two leaves
/// neither, so the status can still be produced (by a later path, or sent directly by this
/// one), never a claim whose event is gone. Ok(false): another process has the claim.
pub async fn claim_and_enqueue(
    pool: &Pool,
    cfg: &CoreConfig,
    call_id: &str,
    outcome: &str,
    ev: Option<&Event>,
) -> Result<bool, ApiError> {
    // Before the transaction: CREATE TABLE would commit it.
    crate::schema::ensure(pool, &cfg.db).await?;
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    let mut tx = conn
        .start_transaction(mysql_async::TxOpts::default())
        .await
        .map_err(db_err)?;
    if !crate::calls::claim_status(&mut tx, call_id, outcome)
        .await
        .map_err(db_err)?
    {
        tx.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    if let Some(ev) = ev {
        insert(&mut tx, cfg, ev).await?;
    }
    // Dropping an uncommitted transaction (any `?` above) rolls it back.
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Stores an event, due now, within `tx`.
async fn insert(
    tx: &mut mysql_async::Transaction<'_>,
    cfg: &CoreConfig,
    ev: &Event,
) -> Result<(), ApiError> {
    let headers =
        serde_json::to_string(&ev.headers).map_err(|e| ApiError::internal("internal_error", e))?;
    tx.exec_drop(
        "INSERT INTO apicall_outbox (event_id, call_id, url, headers, body, created, \
         next_attempt_at, attempts, expires_at) \
         VALUES (?, ?, ?, ?, ?, NOW(), NOW(), 0, NOW() + INTERVAL ? SECOND)",
        (
            &ev.event_id,
            &ev.call_id,
            &ev.url,
            headers,
            &ev.body,
            cfg.status_event_ttl.as_secs(),
        ),
    )
    .await
    .map_err(db_err)
}

/// Takes the lease of a due, undelivered event; `None` if someone else has it or it is not due.
async fn lease(pool: &Pool, event_id: &str) -> Result<Option<Event>, ApiError> {
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    conn.exec_drop(
        "UPDATE apicall_outbox SET next_attempt_at = NOW() + INTERVAL ? SECOND \
         WHERE event_id = ? AND delivered_at IS NULL AND next_attempt_at <= NOW() AND expires_at > NOW()",
        (LEASE.as_secs(), event_id),
    )
    .await
    .map_err(db_err)?;
    if conn.affected_rows() != 1 {
        return Ok(None);
    }
    let row: Option<Row> = conn
        .exec_first(
            "SELECT event_id, call_id, url, headers, body, attempts FROM apicall_outbox WHERE event_id = ?",
            (event_id,),
        )
        .await
        .map_err(db_err)?;
    let Some(mut row) = row else { return Ok(None) };
    let text = |row: &mut Row, i: usize| -> String {
        row.take_opt(i).and_then(Result::ok).unwrap_or_default()
    };
    let headers: Vec<Header> = serde_json::from_str(&text(&mut row, 3)).unwrap_or_default();
    Ok(Some(Event {
        event_id: text(&mut row, 0),
        call_id: text(&mut row, 1),
        url: text(&mut row, 2),
        headers,
        body: text(&mut row, 4),
        attempts: row.take_opt(5).and_then(Result::ok).unwrap_or(0),
    }))
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Attempt {
    Delivered,
    /// Failed; another attempt is scheduled.
    Failed,
    /// Failed and out of attempts.
    Expired,
    /// Not ours to try now (leased elsewhere, not due, or already delivered).
    Skipped,
}

/// Makes one attempt at an event: its URL, then the fallback URL.
pub async fn attempt(pool: &Pool, cfg: &CoreConfig, event_id: &str) -> Result<Attempt, ApiError> {
    let Some(ev) = lease(pool, event_id).await? else {
        return Ok(Attempt::Skipped);
    };
    let result = send(cfg, &ev).await;
    let delivered = result.is_ok();
    let errors = result.err().unwrap_or_default();
    let mut conn = runtime::conn(pool).await.map_err(db_err)?;
    if delivered {
        conn.exec_drop(
            "UPDATE apicall_outbox SET delivered_at = NOW(), attempts = attempts + 1, last_error = NULL WHERE event_id = ?",
            (event_id,),
        )
        .await
        .map_err(db_err)?;
        tracing::info!(
            event_id,
            call_id = ev.call_id,
            attempt = ev.attempts + 1,
            "status event delivered"
        );
        return Ok(Attempt::Delivered);
    }
    let failures = ev.attempts + 1;
    let error: String = errors.chars().take(250).collect();
    let out_of_attempts = failures >= cfg.webhook_retries;
    let delay = if out_of_attempts {
        Duration::ZERO
    } else {
        backoff(failures)
    };
    conn.exec_drop(
        "UPDATE apicall_outbox SET attempts = ?, last_error = ?, next_attempt_at = NOW() + INTERVAL ? SECOND, \
         expires_at = IF(?, NOW(), expires_at) WHERE event_id = ?",
        (failures, &error, delay.as_secs(), out_of_attempts, event_id),
    )
    .await
    .map_err(db_err)?;
    if out_of_attempts {
        tracing::error!(
            event_id,
            call_id = ev.call_id,
            failures,
            error,
            "status event given up"
        );
        Ok(Attempt::Expired)
    } else {
        tracing::warn!(
            event_id,
            call_id = ev.call_id,
            failures,
            error,
            retry_in = delay.as_secs(),
            "status event not delivered"
        );
        Ok(Attempt::Failed)
    }
}

/// One delivery of `ev` to its URL, then to the fallback URL: Ok when one answered 2xx, else
/// what went wrong with each, joined.
async fn send(cfg: &CoreConfig, ev: &Event) -> Result<(), String> {
    let t = Timeouts {
        connect: cfg.webhook_connect_timeout,
        total: cfg.webhook_timeout,
    };
    let delivery = Delivery {
        secret: &cfg.webhook_secret,
        event_id: Some(&ev.event_id),
    };
    let mut errors = Vec::new();
    // The fallback is the install's `webhook_fallback_url` as it is at each attempt (an admin
    // who sets it while a receiver is down gets the waiting events there too).
    let mut targets = vec![ev.url.as_str()];
    if let Some(f) = cfg
        .webhook_fallback_url
        .as_deref()
        .filter(|f| !f.is_empty())
    {
        targets.push(f);
    }
    for url in targets {
        if !webhook::host_allowed(url, &cfg.allowed_hosts) {
            errors.push(format!("{url}: host not in allowed_hosts"));
            continue;
        }
        let sent = webhook::post_json_to(
            url,
            &ev.headers,
            ev.body.as_bytes(),
            t,
            &delivery,
            &cfg.allowed_hosts,
        );
        match sent.await {
            Ok((code, _)) if (200..300).contains(&code) => return Ok(()),
            Ok((code, _)) => errors.push(format!("{url}: HTTP {code}")),
            Err(e) => errors.push(format!("{url}: {e}")),
        }
    }
    Err(errors.join("; "))
}

/// The last resort for an event the outbox could not store (the database refused it for longer
/// than the process would wait): one direct delivery, so the receiver still hears of the call.
/// Nothing retries it after that; returns whether it was delivered.
pub fn deliver_unstored(cfg: &CoreConfig, ev: &Event) -> bool {
    match runtime::block_on(send(cfg, ev)) {
        Ok(()) => {
            tracing::warn!(
                event_id = ev.event_id,
                call_id = ev.call_id,
                "status event delivered without being stored (no retries were possible)"
            );
            true
        }
        Err(error) => {
            tracing::error!(
                event_id = ev.event_id,
                call_id = ev.call_id,
                error,
                "status event neither stored nor delivered: lost"
            );
            false
        }
    }
}

/// From the call's hangup path: up to `tries` attempts now, a second apart. What is still not
/// delivered stays for the runner.
pub fn deliver_now(pool: &Pool, cfg: &CoreConfig, event_id: &str, tries: u32) -> Attempt {
    let mut last = Attempt::Skipped;
    for i in 0..tries {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(1));
            // Make the next quick try due at once (the failed one scheduled a backoff).
            let _ = runtime::block_on(async {
                let mut conn = runtime::conn(pool).await?;
                conn.exec_drop(
                    "UPDATE apicall_outbox SET next_attempt_at = NOW() WHERE event_id = ? AND delivered_at IS NULL",
                    (event_id,),
                )
                .await
            });
        }
        last = match runtime::block_on(attempt(pool, cfg, event_id)) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(event_id, error = %e, "outbox unavailable");
                return Attempt::Skipped;
            }
        };
        if last != Attempt::Failed {
            break;
        }
    }
    last
}

/// What the periodic runner did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub delivered: u32,
    pub failed: u32,
    pub expired: u32,
    /// Still undelivered and not expired after the run.
    pub pending: u64,
}

/// The periodic runner: attempts every due event, for at most `budget`.
pub fn deliver_due(cfg: &CoreConfig, budget: Duration) -> Result<Summary, ApiError> {
    let pool = runtime::pool(&cfg.db);
    let started = Instant::now();
    let mut summary = Summary::default();
    runtime::block_on(crate::schema::ensure(&pool, &cfg.db))?;
    let due: Vec<String> = runtime::block_on(async {
        let mut conn = runtime::conn(&pool).await?;
        conn.query(
            "SELECT event_id FROM apicall_outbox WHERE delivered_at IS NULL AND next_attempt_at <= NOW() \
             AND expires_at > NOW() ORDER BY next_attempt_at LIMIT 1000",
        )
        .await
    })
    .map_err(db_err)?;
    for id in due {
        if started.elapsed() > budget {
            break;
        }
        match runtime::block_on(attempt(&pool, cfg, &id))? {
            Attempt::Delivered => summary.delivered += 1,
            Attempt::Failed => summary.failed += 1,
            Attempt::Expired => summary.expired += 1,
            Attempt::Skipped => {}
        }
    }
    summary.pending = runtime::block_on(async {
        let mut conn = runtime::conn(&pool).await?;
        conn.query_first::<u64, _>(
            "SELECT COUNT(*) FROM apicall_outbox WHERE delivered_at IS NULL AND expires_at > NOW()",
        )
        .await
    })
    .map_err(db_err)?
    .unwrap_or(0);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn config() -> CoreConfig {
        CoreConfig::for_test(&[("webhook_secret", "k3y")])
    }

    fn event(url: String) -> Event {
        Event {
            event_id: "0123456789abcdef0123456789abcdef".into(),
            call_id: "c".into(),
            url,
            headers: Vec::new(),
            body: r#"{"Outcome":"answered"}"#.into(),
            attempts: 0,
        }
    }

    /// A receiver for one request: answers 200 and hands back what it read.
    fn receiver() -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/status", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !String::from_utf8_lossy(&buf).contains(r#""answered"}"#) {
                let n = s.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
            String::from_utf8_lossy(&buf).to_lowercase()
        });
        (url, handle)
    }

    #[test]
    fn an_event_that_could_not_be_stored_is_still_sent_once_signed() {
        let (url, got) = receiver();
        assert!(deliver_unstored(&config(), &event(url)));
        let request = got.join().unwrap();
        assert!(request.starts_with("post /status"), "{request}");
        assert!(request.contains("x-apicall-event-id: 0123456789abcdef0123456789abcdef"));
        assert!(request.contains("x-apicall-signature: v1="), "{request}");
        assert!(request.ends_with(r#"{"outcome":"answered"}"#));
    }

    #[test]
    fn an_event_neither_stored_nor_delivered_is_reported_lost() {
        // A port nobody listens on: the connection is refused.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(!deliver_unstored(
            &config(),
            &event(format!("http://127.0.0.1:{port}/status"))
        ));
    }

    #[test]
    fn a_claim_never_stands_without_its_stored_event() {
        let Some(cfg) = crate::stack_test::config() else {
            return;
        };
        let pool = runtime::pool(&cfg.db);
        let call_id = crate::token::call_id();
        let taken = crate::token::call_id();
        let sql = |q: String| {
            let pool = pool.clone();
            runtime::block_on(async move { runtime::conn(&pool).await?.query_drop(q).await })
                .unwrap()
        };
        let sent_at = || -> Option<String> {
            let q = format!(
                "SELECT CAST(status_sent_at AS CHAR) FROM apicall_calls WHERE id = '{call_id}'"
            );
            runtime::block_on(async { runtime::conn(&pool).await?.query_first(q).await })
                .unwrap()
                .flatten()
        };
        runtime::block_on(crate::schema::ensure(&pool, &cfg.db)).unwrap();
        sql(format!(
            "INSERT INTO apicall_calls (id, created, kind, tocall, request, public_url, status, \
             attempts, max_retries) VALUES ('{call_id}', NOW(), 'aibot', '2003', '{{}}', '', 'queued', 0, 0)"
        ));
        // An event id already stored: the INSERT in the transaction fails after the claim.
        sql(format!(
            "INSERT INTO apicall_outbox (event_id, call_id, url, headers, body, created, \
             next_attempt_at, attempts, expires_at) VALUES ('{taken}', 'x', 'http://x/', '[]', '', \
             NOW(), NOW() + INTERVAL 1 DAY, 0, NOW() + INTERVAL 1 DAY)"
        ));
        let mut ev = event("http://127.0.0.1:9/status".into());
        ev.call_id = call_id.clone();
        ev.event_id = taken.clone();
        let failed = runtime::block_on(claim_and_enqueue(&pool, &cfg, &call_id, "busy", Some(&ev)));
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(sent_at(), None, "the claim stayed without its event");

        ev.event_id = crate::token::call_id();
        let claim = |ev: &Event| {
            runtime::block_on(claim_and_enqueue(&pool, &cfg, &call_id, "busy", Some(ev))).unwrap()
        };
        assert!(claim(&ev));
        assert!(sent_at().is_some());
        // The claim is taken once: a second path stores nothing more.
        let mut second = ev.clone();
        second.event_id = crate::token::call_id();
        assert!(!claim(&second));
        let stored: Option<u64> = runtime::block_on(async {
            let q = format!("SELECT COUNT(*) FROM apicall_outbox WHERE call_id = '{call_id}'");
            runtime::conn(&pool).await?.query_first(q).await
        })
        .unwrap();
        assert_eq!(stored, Some(1));
        sql(format!(
            "DELETE FROM apicall_outbox WHERE call_id = '{call_id}' OR event_id = '{taken}'"
        ));
        sql(format!("DELETE FROM apicall_calls WHERE id = '{call_id}'"));
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let secs: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(backoff(1000).as_secs(), 600);
    }
}
