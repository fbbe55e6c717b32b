//! The async runtime and database pools, one set per process, made on first use.
//!
//! PHP (mod_php, PHP-FPM) forks its workers after the extension is loaded; tokio's threads and
//! open sockets do not survive a fork. So nothing is created at load time: the first call in a
//! process builds a current-thread runtime and pools, and a call that finds them made by another
//! PID (the parent, before the fork) forgets them and builds fresh ones.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use mysql_async::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};

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

fn opts(db: &DbConfig) -> Opts {
    let constraints = PoolConstraints::new(0, 4).expect("0 <= 4");
    let mut b = OptsBuilder::default()
        .user(Some(db.user.clone()))
        .pass(Some(db.pass.clone()))
        .db_name(Some(db.name.clone()))
        .pool_opts(PoolOpts::default().with_constraints(constraints))
        .prefer_socket(false);
    b = match &db.socket {
        Some(sock) => b.socket(Some(sock.clone())),
        None => b.ip_or_hostname(db.host.clone()).tcp_port(db.port),
    };
    Opts::from(b)
}
