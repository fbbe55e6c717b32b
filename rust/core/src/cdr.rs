//! Call detail records, read back from FreePBX's CDR table for the CallDetailUrl endpoint and
//! for the status of a call that could not be placed.
//!
//! FreePBX indexes neither `userfield` nor `linkedid`, and a PBX's CDR table holds years of
//! calls: a lookup by either scans all of it (about 100 ms of MariaDB CPU at 300k rows, once per
//! failed call). Asterisk's unique ids are `[systemname-]<Unix seconds>.<n>`, so every lookup
//! here also bounds the indexed `uniqueid` column from below by a time the rows cannot predate.

use mysql_async::prelude::*;
use mysql_async::{Row, Value as SqlValue};
use serde_json::{Map, Value};

use crate::config::{CoreConfig, DbConfig};
use crate::error::ApiError;
use crate::{kvstore, runtime};

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

/// How far before the time a row's channel can have been made the bound is put, for a clock
/// stepped back between channels.
const CLOCK_MARGIN_S: u64 = 60;

/// The smallest `uniqueid` of a channel made at or after `epoch` (Unix seconds) by an Asterisk
/// whose ids start with `prefix` (its `systemname-`, usually empty). With ten-digit seconds
/// (until the year 2286) the ids' string order follows their time down to the second.
pub fn uniqueid_floor(prefix: &str, epoch: u64) -> String {
    format!("{prefix}{}.", epoch.saturating_sub(CLOCK_MARGIN_S))
}

/// The `systemname-` part of an Asterisk unique id and its Unix seconds, or None when `id` is
/// not shaped like one.
pub fn split_uniqueid(id: &str) -> Option<(&str, u64)> {
    let (head, seq) = id.rsplit_once('.')?;
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || seq.is_empty() || !seq.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (prefix, secs) = head.split_at(head.len() - digits);
    Some((prefix, secs.parse().ok()?))
}

/// The CDR rows of a call, by `uniqueid` or by `linkedid` (every leg of it). Every leg of a
/// call was made at or after its linkedid's channel (Asterisk keeps the oldest channel's id as
/// the linkedid), which bounds the scan.
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
    let floor = split_uniqueid(value)
        .map(|(prefix, secs)| uniqueid_floor(prefix, secs))
        .unwrap_or_default();
    let sql = format!(
        "SELECT * FROM `cdr` WHERE `uniqueid` >= ? AND `{column}` = ? ORDER BY calldate, sequence"
    );
    let rows: Vec<Row> = runtime::block_on(kvstore::guarded_read(&cdr_db(cfg), |mut conn| {
        let (sql, floor) = (sql.clone(), floor.clone());
        async move { conn.exec(sql, (floor, value)).await }
    }))?;
    Ok(rows.into_iter().map(row_to_json).collect())
}

/// The rows marked `userfield` made in the same second as the newest of them, oldest first,
/// among the rows whose `uniqueid` is at least `floor` (see [`uniqueid_floor`]; "" for all):
/// for a failed call, the rows of its last attempt (the call's own channel, `;1` of the Local
/// pair).
///
/// FreePBX does not index `userfield`, so the newest marked row is found by reading the indexed
/// `uniqueid` backwards from the newest row, which stops at the first match. Read forwards from
/// `floor`, every row since the call was queued was looked at, and at a few hundred calls a
/// second MariaDB chose to scan the whole table instead (0.5 s per failed call at 470k rows in
/// `make bench`). Ids of one second do not sort by their sequence number as text (".99" comes
/// after ".123"), so all that second's rows are then read and ordered by time.
pub fn newest_by_userfield(
    cfg: &CoreConfig,
    userfield: &str,
    floor: &str,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let rows: Vec<Row> =
        runtime::block_on(kvstore::guarded_read(&cdr_db(cfg), |mut conn| async move {
            let newest: Option<String> = conn
                .exec_first(
                    "SELECT `uniqueid` FROM `cdr` WHERE `uniqueid` >= ? AND `userfield` = ? \
                     ORDER BY `uniqueid` DESC LIMIT 1",
                    (floor, userfield),
                )
                .await?;
            let Some(newest) = newest else {
                return Ok(Vec::new());
            };
            // That second's ids: from "<seconds>." up to, not including, "<seconds + 1>.".
            let (since, until) = match split_uniqueid(&newest) {
                Some((prefix, secs)) => {
                    (format!("{prefix}{secs}."), format!("{prefix}{}.", secs + 1))
                }
                None => (newest.clone(), format!("{newest}~")),
            };
            conn.exec(
                "SELECT * FROM `cdr` WHERE `uniqueid` >= ? AND `uniqueid` < ? AND `userfield` = ? \
                 ORDER BY calldate, sequence",
                (since, until, userfield),
            )
            .await
        }))?;
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
    use std::time::Duration;

    #[test]
    fn uniqueids() {
        assert!(is_uniqueid("1795299939.39"));
        for bad in ["", "1", "1.", ".1", "1.2.3", "1.x", "1 .2", "1.2;--"] {
            assert!(!is_uniqueid(bad), "{bad}");
        }
    }

    #[test]
    fn uniqueid_parts() {
        assert_eq!(split_uniqueid("1795299939.39"), Some(("", 1795299939)));
        assert_eq!(
            split_uniqueid("pbx-1.1795299939.7"),
            Some(("pbx-1.", 1795299939))
        );
        for bad in [
            "",
            "x.1",
            "1795299939.",
            "1795299939",
            "1795299939.1a",
            ".5",
        ] {
            assert_eq!(split_uniqueid(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_floor_orders_below_every_later_id_of_the_same_asterisk() {
        let floor = uniqueid_floor("", 1795299939);
        assert_eq!(floor, "1795299879.");
        // Later channels, whatever their sequence number's length, and those of the margin.
        for later in [
            "1795299939.9",
            "1795299939.10000",
            "1795300000.1",
            "1795299879.0",
        ] {
            assert!(later >= floor.as_str(), "{later}");
        }
        for older in ["1795299878.99999", "1700000000.1"] {
            assert!(older < floor.as_str(), "{older}");
        }
        let named = uniqueid_floor("pbx-", 1795299939);
        assert!("pbx-1795299940.3" >= named.as_str());
        assert!("pbx-1795299000.3" < named.as_str());
    }

    /// A database that takes the connection and then never answers (a hung MariaDB, a
    /// firewall dropping packets) ends both CDR reads with 503 after `DB_TIMEOUT`: cdr.php
    /// answers, and a failed call's status process goes on to its next try.
    #[test]
    fn a_database_that_never_answers_ends_in_503() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let held = std::thread::spawn(move || {
            // Hold every connection open without a byte of the MariaDB handshake.
            let mut open = Vec::new();
            for c in silent.incoming().take(4) {
                open.push(c);
            }
            std::thread::sleep(Duration::from_secs(15));
        });
        let cfg = CoreConfig::for_test(&[("db_host", "127.0.0.1"), ("db_port", &port.to_string())]);
        // Each read runs on a thread of its own, so that a read that hangs fails the test
        // instead of holding it.
        type Read = fn(&CoreConfig) -> Result<Vec<Map<String, Value>>, ApiError>;
        let times_out = |read: Read| {
            let (tx, rx) = std::sync::mpsc::channel();
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let _ = tx.send((read(&cfg), started.elapsed()));
            });
            let (result, took) = rx
                .recv_timeout(kvstore::DB_TIMEOUT * 2)
                .expect("the read did not end within twice DB_TIMEOUT");
            let e = result.unwrap_err();
            assert_eq!(e.status, 503, "{e:?}");
            assert!(e.message.contains("no answer within"), "{e:?}");
            assert!(took >= kvstore::DB_TIMEOUT, "{took:?}");
        };
        times_out(|cfg| rows(cfg, Some("1795299939.39"), None));
        times_out(|cfg| newest_by_userfield(cfg, "apicall:x", "1795299879."));
        drop(held);
    }

    /// The rows of a failed call's last attempt, on the stack's real CDR table: the newest
    /// marked second wins even where its ids do not sort as text (".99" after ".123"); a marked
    /// row below the floor (with the newest calldate) and another call's newer row are not taken.
    #[test]
    fn newest_by_userfield_finds_the_last_attempt() {
        use mysql_async::prelude::Queryable;
        let Some(cfg) = crate::stack_test::config() else {
            return;
        };
        let t = crate::answer_url::now();
        let mark = format!("apicall:test-{}-{t}", std::process::id());
        let other = format!("{mark}-other");
        let rows: [(String, &str, i64, &str); 5] = [
            (format!("{}.5", t - 8), "2026-01-01 00:00:01", 1, &mark),
            (format!("{}.99", t - 4), "2026-01-01 00:00:05", 2, &mark),
            (format!("{}.123", t - 4), "2026-01-01 00:00:05", 3, &mark),
            (format!("{}.1", t - 100), "2099-01-01 00:00:00", 4, &mark),
            (format!("{}.7", t - 1), "2026-01-01 00:00:09", 5, &other),
        ];
        let pool = runtime::pool(&cdr_db(&cfg));
        let write = |sql: String| {
            runtime::block_on(async {
                let mut c = runtime::conn(&pool).await.unwrap();
                c.query_drop(sql).await.unwrap();
            })
        };
        for (id, calldate, seq, field) in &rows {
            write(format!(
                "INSERT INTO cdr (calldate, uniqueid, userfield, sequence, channel) \
                 VALUES ('{calldate}', '{id}', '{field}', {seq}, 'test')"
            ));
        }
        let found = newest_by_userfield(&cfg, &mark, &format!("{}.", t - 10));
        write(format!(
            "DELETE FROM cdr WHERE userfield IN ('{mark}', '{other}')"
        ));
        let ids: Vec<String> = found
            .unwrap()
            .iter()
            .map(|r| r["uniqueid"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, [format!("{}.99", t - 4), format!("{}.123", t - 4)]);
    }
}
