//! Call detail records, read back from FreePBX's CDR table for the CallDetailUrl endpoint.

use mysql_async::prelude::*;
use mysql_async::{Row, Value as SqlValue};
use serde_json::{Map, Value};

use crate::config::{CoreConfig, DbConfig};
use crate::error::{chain, ApiError};
use crate::runtime;

/// Asterisk unique ids look like `1700000000.42`.
pub fn is_uniqueid(s: &str) -> bool {
    let Some((a, b)) = s.split_once('.') else {
        return false;
    };
    !a.is_empty()
        && !b.is_empty()
        && s.len() <= 64
        && (a.chars().chain(b.chars())).all(|c| c.is_ascii_digit())
}

fn cdr_db(cfg: &CoreConfig) -> DbConfig {
    DbConfig {
        name: cfg.cdr_db_name.clone(),
        ..cfg.db.clone()
    }
}

/// The CDR rows of a call, by `uniqueid` or by `linkedid` (every leg of it).
pub fn rows(
    cfg: &CoreConfig,
    uniqueid: Option<&str>,
    linkedid: Option<&str>,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let (column, value, field) = match (
        uniqueid.filter(|s| !s.is_empty()),
        linkedid.filter(|s| !s.is_empty()),
    ) {
        (Some(u), _) => ("uniqueid", u, "uniqueid"),
        (None, Some(l)) => ("linkedid", l, "linkedid"),
        (None, None) => return Err(ApiError::missing("uniqueid")),
    };
    if !is_uniqueid(value) {
        return Err(ApiError::invalid(
            field,
            "must be an Asterisk unique id such as 1700000000.42",
        ));
    }
    let pool = runtime::pool(&cdr_db(cfg));
    let sql = format!("SELECT * FROM `cdr` WHERE `{column}` = ? ORDER BY calldate, sequence");
    let rows: Vec<Row> = runtime::block_on(async {
        let mut conn = runtime::conn(&pool).await?;
        conn.exec(sql, (value,)).await
    })
    .map_err(|e: mysql_async::Error| ApiError::database_unavailable(chain(&e)))?;
    Ok(rows.into_iter().map(row_to_json).collect())
}

/// The rows of the call's own channel (`;1` of the Local pair) marked `userfield`, oldest first.
pub fn by_userfield(
    cfg: &CoreConfig,
    userfield: &str,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let pool = runtime::pool(&cdr_db(cfg));
    let rows: Vec<Row> = runtime::block_on(async {
        let mut conn = runtime::conn(&pool).await?;
        conn.exec(
            "SELECT * FROM `cdr` WHERE `userfield` = ? ORDER BY calldate, sequence",
            (userfield,),
        )
        .await
    })
    .map_err(|e: mysql_async::Error| ApiError::database_unavailable(chain(&e)))?;
    Ok(rows.into_iter().map(row_to_json).collect())
}

fn row_to_json(row: Row) -> Map<String, Value> {
    let columns = row.columns();
    let mut out = Map::new();
    for (i, col) in columns.iter().enumerate() {
        let v = match row.as_ref(i) {
            None | Some(SqlValue::NULL) => Value::Null,
            Some(SqlValue::Int(n)) => Value::from(*n),
            Some(SqlValue::UInt(n)) => Value::from(*n),
            Some(SqlValue::Float(f)) => Value::from(f64::from(*f)),
            Some(SqlValue::Double(f)) => Value::from(*f),
            Some(SqlValue::Bytes(b)) => Value::from(String::from_utf8_lossy(b).into_owned()),
            Some(SqlValue::Date(y, mo, d, h, mi, s, _)) => {
                Value::from(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            }
            Some(SqlValue::Time(neg, d, h, m, s, _)) => {
                let sign = if *neg { "-" } else { "" };
                Value::from(format!("{sign}{}:{m:02}:{s:02}", u32::from(*h) + d * 24))
            }
        };
        out.insert(col.name_str().into_owned(), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniqueids() {
        assert!(is_uniqueid("1795299939.39"));
        for bad in ["", "1", "1.", ".1", "1.2.3", "1.x", "1 .2", "1.2;--"] {
            assert!(!is_uniqueid(bad), "{bad}");
        }
    }
}
