//! The module's own tables, made sure of once per process.
//!
//! FreePBX creates the tables module.xml declares when the module is installed; an install that
//! predates a table (an upgrade in progress, or the local stack) must not break the API, so the
//! core also creates any missing table with the same schema before first use.

use std::collections::HashSet;
use std::sync::Mutex;

use mysql_async::prelude::*;
use mysql_async::Pool;

use crate::config::DbConfig;
use crate::error::{chain, ApiError};

const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `apicall_outbox` (
        `event_id` CHAR(32) NOT NULL PRIMARY KEY,
        `call_id` CHAR(32) NOT NULL,
        `url` VARCHAR(2048) NOT NULL,
        `fallback_url` VARCHAR(2048) NULL, -- unused: the fallback is the setting webhook_fallback_url; kept to match module.xml
        `headers` TEXT NOT NULL,
        `body` MEDIUMTEXT NOT NULL,
        `created` DATETIME NOT NULL,
        `next_attempt_at` DATETIME NOT NULL,
        `attempts` INT NOT NULL DEFAULT 0,
        `last_error` VARCHAR(255) NULL,
        `delivered_at` DATETIME NULL,
        `expires_at` DATETIME NOT NULL,
        KEY `due` (`delivered_at`, `next_attempt_at`),
        KEY `call_id` (`call_id`)
    )",
    "CREATE TABLE IF NOT EXISTS `apicall_auth_failures` (
        `ip` VARCHAR(45) NOT NULL,
        `minute` INT NOT NULL,
        `failures` INT NOT NULL DEFAULT 0,
        PRIMARY KEY (`ip`, `minute`)
    )",
    "CREATE TABLE IF NOT EXISTS `apicall_idempotency` (
        `idem_key` CHAR(64) NOT NULL PRIMARY KEY,
        `endpoint` VARCHAR(16) NOT NULL,
        `response` MEDIUMTEXT NULL,
        `status` INT NULL,
        `created` DATETIME NOT NULL
    )",
];

static DONE: Mutex<Option<(u32, HashSet<DbConfig>)>> = Mutex::new(None);

/// Creates the reliability tables if they are missing (once per process and database).
pub async fn ensure(pool: &Pool, db: &DbConfig) -> Result<(), ApiError> {
    let pid = std::process::id();
    {
        let guard = DONE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((p, set)) = guard.as_ref() {
            if *p == pid && set.contains(db) {
                return Ok(());
            }
        }
    }
    let mut conn = crate::runtime::conn(pool)
        .await
        .map_err(|e| ApiError::database_unavailable(chain(&e)))?;
    for sql in TABLES {
        conn.query_drop(*sql)
            .await
            .map_err(|e| ApiError::database_unavailable(chain(&e)))?;
    }
    let mut guard = DONE.lock().unwrap_or_else(|p| p.into_inner());
    let entry = guard.get_or_insert_with(|| (pid, HashSet::new()));
    if entry.0 != pid {
        *entry = (pid, HashSet::new());
    }
    entry.1.insert(db.clone());
    Ok(())
}
