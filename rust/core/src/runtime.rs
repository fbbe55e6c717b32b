//! The async runtime and database pools, one set per process, made on first use.
//!
//! PHP (mod_php, PHP-FPM) forks its workers after the extension is loaded; tokio's threads and
//! open sockets do not survive a fork. So nothing is created at load time: the first call in a
//! process builds a current-thread runtime and pools, and a call that finds them made by another
//! PID (the parent, before the fork) forgets them and builds fresh ones.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};

use crate::config::DbConfig;

struct PerProcess {
    pid: u32,
    runtime: Arc<tokio::runtime::Runtime>,
    pools: HashMap<DbConfig, Pool>,
}

static STATE: Mutex<Option<PerProcess>> = Mutex::new(None);

fn with_state<R>(f: impl FnOnce(&mut PerProcess) -> R) -> R {
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|s| s.pid != pid) {
        // Made by our parent before fork: its threads are gone here. Dropping would try to talk
        // to them, so the old state is leaked on purpose.
        std::mem::forget(guard.take());
    }
    let state = guard.get_or_insert_with(|| PerProcess {
        pid,
        runtime: Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot build the tokio runtime"),
        ),
        pools: HashMap::new(),
    });
    f(state)
}

/// Runs `fut` to completion on this process's runtime. Must not be called from inside it.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    // The lock is released before running, so the future may itself ask for a pool.
    let runtime = with_state(|s| Arc::clone(&s.runtime));
    runtime.block_on(fut)
}

/// The pool for `db` in this process, made on first use.
pub fn pool(db: &DbConfig) -> Pool {
    with_state(|s| {
        s.pools
            .entry(db.clone())
            .or_insert_with(|| Pool::new(opts(db)))
            .clone()
    })
}

/// How long a connection attempt may keep retrying in this process, in milliseconds. 0 (the
/// default, right for the HTTP API: a client gets its 503 at once) tries once. A call's AGI
/// process sets more: a status event or a call's row must not be lost because MariaDB
/// refused a connection for a moment ("Too many connections" at a burst of calls).
static CONNECT_PATIENCE_MS: AtomicU64 = AtomicU64::new(0);

/// Lets connection attempts of this process retry, with backoff, for up to `patience`.
pub fn set_connect_patience(patience: Duration) {
    CONNECT_PATIENCE_MS.store(patience.as_millis() as u64, Ordering::Relaxed);
}

/// A connection from `pool`, retried with backoff within this process's patience. Only the
/// connecting is retried, never a query, so nothing can run twice.
pub async fn conn(pool: &Pool) -> Result<Conn, mysql_async::Error> {
    let patience = Duration::from_millis(CONNECT_PATIENCE_MS.load(Ordering::Relaxed));
    conn_within(pool, patience).await
}

async fn conn_within(pool: &Pool, patience: Duration) -> Result<Conn, mysql_async::Error> {
    // A connection dropped a moment ago goes back to the pool through the pool's own task, which
    // runs only when this thread's runtime gets a turn: give it one, so that the connection is
    // idle again for us. Without it every back-to-back use opened another connection (a login
    // and a `SET SESSION`): one failed call's status logged in five times instead of twice.
    tokio::task::yield_now().await;
    let start = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match pool.get_conn().await {
            Ok(c) => return Ok(c),
            Err(e) if start.elapsed() + pause <= patience => {
                // Processes refused at the same moment (a burst of calls ending) must not all
                // come back at the same moment: each waits between 1/2 and 1 times the pause.
                let wait = pause.mul_f64(0.5 + 0.5 * jitter());
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "database connection refused; retrying");
                tokio::time::sleep(wait).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A number in [0, 1) that differs between processes and between calls (no need for a real
/// random generator: it only spreads retries apart).
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = (u64::from(nanos) ^ (u64::from(std::process::id()) << 17))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// Closes this process's idle database connections; pools are made again on next use. A call's
/// AGI process lives as long as the call and touches the database only between steps, so it
/// calls this before it listens: a connection kept idle for the whole call would count against
/// MariaDB's max_connections once per call (100 calls: 100 connections doing nothing).
pub fn close_idle_connections() {
    let pools: Vec<Pool> = with_state(|s| s.pools.drain().map(|(_, p)| p).collect());
    for pool in pools {
        if let Err(e) = block_on(pool.disconnect()) {
            tracing::debug!(error = %e, "closing an idle database connection failed");
        }
    }
}

/// How long MariaDB keeps one of our idle connections open (the session's wait_timeout). A web
/// server's worker keeps one connection between requests so a request does not pay a new
/// connection's handshake; a worker that gets no more requests must not keep it for the
/// server's default of 8 hours (one per worker would add up to MariaDB's max_connections).
const IDLE_SECONDS: usize = 60;

fn opts(db: &DbConfig) -> Opts {
    // One idle connection is kept (min 1, and no inactive TTL, so never more than min); up to
    // 4 at once. No reset when a connection comes back: our queries leave no session state,
    // and a reset would undo the session's wait_timeout.
    let constraints = PoolConstraints::new(1, 4).expect("1 <= 4");
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        .with_reset_connection(false);
    let mut b = OptsBuilder::default()
        .user(Some(db.user.clone()))
        .pass(Some(db.pass.clone()))
        .db_name(Some(db.name.clone()))
        .pool_opts(pool_opts)
        .prefer_socket(false)
        .init(vec![format!("SET SESSION wait_timeout = {IDLE_SECONDS}")])
        // The client forgets a connection a little before the server closes it, so it never
        // sends a query on a connection the server has just dropped. Knowing both values
        // also spares a query for them on every new connection.
        .wait_timeout(Some(IDLE_SECONDS - 5))
        .max_allowed_packet(Some(4 << 20));
    b = match &db.socket {
        Some(sock) => b.socket(Some(sock.clone())),
        None => b.ip_or_hostname(db.host.clone()).tcp_port(db.port),
    };
    Opts::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::AtomicUsize;

    /// A "server" that accepts connections and closes them at once, as a MariaDB at its
    /// connection limit does (it sends an error instead of the handshake): counts attempts.
    fn refusing_server() -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        (port, accepted)
    }

    fn pool_at(port: u16) -> Pool {
        Pool::new(opts(&DbConfig {
            host: "127.0.0.1".into(),
            port,
            socket: None,
            user: "u".into(),
            pass: "p".into(),
            name: "d".into(),
        }))
    }

    #[test]
    fn without_patience_a_refused_connection_fails_after_one_attempt() {
        let (port, accepted) = refusing_server();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(conn_within(&pool_at(port), Duration::ZERO));
        assert!(result.is_err());
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn with_patience_a_refused_connection_is_retried_with_backoff_then_fails() {
        let (port, accepted) = refusing_server();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = Instant::now();
        let result = rt.block_on(conn_within(&pool_at(port), Duration::from_millis(2000)));
        assert!(result.is_err(), "the server never accepts");
        // Pauses of 50-100, 100-200, 200-400, 400-800 ms (jittered) then up to 2 s: at least
        // 4 attempts fit in 2 s and the backoff keeps them to at most 6.
        let attempts = accepted.load(Ordering::SeqCst);
        assert!((4..=6).contains(&attempts), "{attempts} attempts");
        assert!(start.elapsed() >= Duration::from_millis(750));
        assert!(start.elapsed() <= Duration::from_millis(2500));
    }

    /// What a failed call's status process does: one use of the database after another, in
    /// separate `block_on`s and within one future. Each must find the connection the last one
    /// gave back, not log in again (a new connection id).
    #[test]
    fn back_to_back_uses_share_one_connection() {
        let Some(cfg) = crate::stack_test::config() else {
            return;
        };
        // A runtime and a pool of its own, as a PHP process has them: on the process's shared
        // runtime another test's thread may be driving it, and the pool's task then runs on
        // that thread's schedule, not this one's.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let p = Pool::new(opts(&cfg.db));
        async fn id(p: &Pool) -> u64 {
            use mysql_async::prelude::Queryable;
            let mut c = conn(p).await.expect("a connection to the stack's MariaDB");
            c.query_first("SELECT CONNECTION_ID()")
                .await
                .unwrap()
                .unwrap()
        }
        let first = rt.block_on(id(&p));
        let second = rt.block_on(id(&p));
        let (third, fourth) = rt.block_on(async { (id(&p).await, id(&p).await) });
        assert_eq!([second, third, fourth], [first; 3]);
    }
}
