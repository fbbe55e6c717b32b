//! The module's configuration, kept between the requests one process serves.
//!
//! Building the configuration takes the FreePBX bootstrap (its database connection, its settings,
//! the module's class): on a real FreePBX that is most of an API request's time. An Apache worker
//! serves many requests, so it keeps the configuration the first request built and reuses it for
//! as long as the module's kvstore rows (the token, every setting, the secrets) read exactly as
//! they did then: one query on the worker's pooled connection instead of a bootstrap. A setting
//! saved from the admin page, by `fwconsole`, a restore or by hand changes the rows, so the next
//! request bootstraps again. What the kvstore does not hold (FreePBX's own paths and database
//! credentials) is taken as fresh for `MAX_AGE` at most.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{CoreConfig, DbConfig};
use crate::error::ApiError;
use crate::{kvstore, runtime};

/// How long a kept configuration is used before the next bootstrap, even with unchanged rows.
pub const MAX_AGE: Duration = Duration::from_secs(60);

struct Kept {
    pid: u32,
    at: Instant,
    values: HashMap<String, String>,
    db: DbConfig,
    rows: String,
}

static KEPT: Mutex<Option<Kept>> = Mutex::new(None);

/// A digest of the module's kvstore rows (id `noid`), in key order, read the way every kvstore
/// read is (timeout, one retry on a dead pooled connection). The rows come back as text and are
/// hashed here: a digest made by MariaDB (SHA2 over GROUP_CONCAT) cost three times as long per
/// request. Lengths go in with the values, so no two different row sets hash the same bytes.
pub async fn rows_digest(db: &DbConfig) -> Result<String, ApiError> {
    use sha2::{Digest, Sha256};
    let sql = format!(
        "SELECT `key`, `val`, `type` FROM `{}` WHERE `id` = 'noid' ORDER BY `key`",
        kvstore::TABLE
    );
    let rows: Vec<(String, Option<String>, Option<String>)> = kvstore::read_all(db, &sql).await?;
    let mut hash = Sha256::new();
    for (key, val, kind) in rows {
        for part in [Some(key), val, kind] {
            match part {
                None => hash.update(u64::MAX.to_le_bytes()),
                Some(s) => {
                    hash.update((s.len() as u64).to_le_bytes());
                    hash.update(s.as_bytes());
                }
            }
        }
    }
    Ok(hex::encode(hash.finalize()))
}

/// Keeps `values` (the PHP `$config` array, as strings) for the next requests of this process.
/// The kvstore rows are read now: the configuration is taken as built from them.
pub fn remember(values: HashMap<String, String>) -> Result<(), ApiError> {
    let db = CoreConfig::from_map(&values)?.db;
    let rows = runtime::block_on(rows_digest(&db))?;
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    *kept = Some(Kept {
        pid: std::process::id(),
        at: Instant::now(),
        values,
        db,
        rows,
    });
    Ok(())
}

/// The kept configuration when it is still current: kept by this process, younger than
/// `MAX_AGE`, and the kvstore rows unchanged. `None` means: bootstrap and `remember` again.
pub fn current() -> Option<HashMap<String, String>> {
    let (db, rows) = {
        let kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        let k = kept.as_ref()?;
        if k.pid != std::process::id() || k.at.elapsed() > MAX_AGE {
            return None;
        }
        (k.db.clone(), k.rows.clone())
    };
    if !rows_unchanged(&db, &rows) {
        forget();
        return None;
    }
    let kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    kept.as_ref().map(|k| k.values.clone())
}

/// Whether the module's kvstore rows still read as `rows` (a [`rows_digest`]), so a
/// configuration built from them may be used again; a failed read counts as a change (the
/// bootstrap that follows reports the database's state). Why not is logged at debug level.
pub fn rows_unchanged(db: &DbConfig, rows: &str) -> bool {
    match runtime::block_on(rows_digest(db)) {
        Ok(now) if now == rows => true,
        Ok(_) => {
            tracing::debug!("module settings changed: configuration rebuilt");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "kvstore not readable: configuration rebuilt");
            false
        }
    }
}

/// Drops the kept configuration.
pub fn forget() {
    *KEPT.lock().unwrap_or_else(|p| p.into_inner()) = None;
}
