//! FreePBX's key-value store, read directly.
//!
//! FreePBX keeps module settings in `kvstore_<class>` tables (`key`, `val`, `type`, `id`; default
//! id `noid`). The BMO class writes them through the framework; the public entry points read the
//! token here, through a per-process pool, without loading the framework's database layer.

use std::time::Duration;

use mysql_async::prelude::*;

use crate::config::DbConfig;
use crate::error::{chain, ApiError};
use crate::runtime;

/// The module's kvstore table (`FreePBX\modules\Apicall` with `\` turned into `_`).
pub const TABLE: &str = "kvstore_FreePBX_modules_Apicall";

/// How long a request may wait for the database before answering 503.
pub const DB_TIMEOUT: Duration = Duration::from_secs(3);

/// A read on the pooled connection, within `DB_TIMEOUT`; any failure is the database's (503).
/// A pooled connection may have died with a database restart: that error is the connection's,
/// not the database's, so one fresh try follows before giving up. The module's other reads of
/// FreePBX's databases (the CDR) go through it too, so that a database that accepts but never
/// answers cannot hold a request or an AGI process.
pub async fn guarded_read<R, F, Fut>(db: &DbConfig, op: F) -> Result<R, ApiError>
where
    F: Fn(mysql_async::Conn) -> Fut,
    Fut: std::future::Future<Output = Result<R, mysql_async::Error>>,
{
    let pool = runtime::pool(db);
    let query = async {
        let mut last = None;
        for _ in 0..2 {
            let attempt = async { op(runtime::conn(&pool).await?).await };
            match attempt.await {
                Ok(v) => return Ok(v),
                Err(e @ (mysql_async::Error::Io(_) | mysql_async::Error::Driver(_))) => {
                    last = Some(e)
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("two attempts were made"))
    };
    match tokio::time::timeout(DB_TIMEOUT, query).await {
        Err(_) => Err(ApiError::database_unavailable(format!(
            "no answer within {} s",
            DB_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => {
            tracing::warn!(error = %chain(&e), "database read failed");
            Err(ApiError::database_unavailable(chain(&e)))
        }
        Ok(Ok(v)) => Ok(v),
    }
}

/// The first row of a statement with parameters (see `guarded_read` for time limit and retry).
pub async fn read_first<T, P>(db: &DbConfig, sql: &str, params: P) -> Result<Option<T>, ApiError>
where
    T: FromRow + Send + 'static,
    P: Into<mysql_async::Params> + Clone + Send,
{
    guarded_read(db, |mut conn| {
        let params = params.clone();
        async move { conn.exec_first::<T, _, _>(sql, params).await }
    })
    .await
}

/// Every row of a query without parameters, sent as text: no statement to prepare (see
/// `guarded_read` for time limit and retry).
pub async fn read_all<T>(db: &DbConfig, sql: &str) -> Result<Vec<T>, ApiError>
where
    T: FromRow + Send + 'static,
{
    guarded_read(db, |mut conn| async move { conn.query::<T, _>(sql).await }).await
}

/// 503 when no token is stored, 401 unless `given` is it (constant time).
pub fn compare_token(stored: Option<&str>, given: Option<&str>) -> Result<(), ApiError> {
    let Some(stored) = stored.filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::new(
            503,
            "token_not_configured",
            "the module has no token yet: reinstall it or run `fwconsole apicall:token --regenerate`",
        ));
    };
    if crate::token::matches(stored, given.unwrap_or("")) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}
