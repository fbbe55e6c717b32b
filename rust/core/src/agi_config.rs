//! The module's configuration, handed from one AGI process to the next through a file.
//!
//! Asterisk starts a new PHP process for every AGI step of a call (the conversation, the status
//! on failure, the hangup handler). Each one used to bootstrap FreePBX for its configuration:
//! CPU on every call, and one more MariaDB connection held for the process's life, so a hundred
//! calls ending at once needed two hundred connections. A process that did bootstrap leaves the
//! configuration in `<spool>/apicall/agi-config.json` (mode 0600: it holds the database password
//! and the module's secrets, as freepbx.conf and the kvstore do); the next ones take it from there
//! while it is younger than `config_cache::MAX_AGE` and the module's kvstore rows still read the
//! same (one query, on the connection the process then uses for its work). Otherwise they
//! bootstrap and write it again. Asterisk tells an AGI process its spool folder
//! (`AST_SPOOL_DIR`), so nothing else has to be known before the configuration is.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::CoreConfig;
use crate::config_cache::{rows_digest, rows_unchanged, MAX_AGE};
use crate::error::ApiError;
use crate::runtime;

/// What an AGI process needs before FreePBX is up: the configuration, where the module's PHP
/// files are (the AGI script is a copy in Asterisk's agi-bin) and where its log goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgiConfig {
    pub values: HashMap<String, String>,
    pub module_dir: String,
    pub log_file: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    /// Unix seconds when it was written.
    written: u64,
    /// `config_cache::rows_digest` of the kvstore rows it was built from.
    rows: String,
    #[serde(flatten)]
    config: AgiConfig,
}

/// The file under Asterisk's spool folder.
pub fn path(spool_dir: &Path) -> PathBuf {
    spool_dir.join("apicall").join("agi-config.json")
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes `config` for the next AGI processes (a new file renamed over the old one, so a
/// reader sees the old or the new, never half of one).
pub fn save(spool_dir: &Path, config: AgiConfig) -> Result<(), ApiError> {
    let db = CoreConfig::from_map(&config.values)?.db;
    let rows = runtime::block_on(rows_digest(&db))?;
    let body = serde_json::to_vec(&Stored {
        written: now_s(),
        rows,
        config,
    })
    .map_err(|e| ApiError::internal("internal_error", e))?;
    let target = path(spool_dir);
    let io = |what: &str, e: std::io::Error| {
        ApiError::internal(
            "internal_error",
            format!("{what} {}: {e}", target.display()),
        )
    };
    let dir = target.parent().expect("the path has a folder");
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create the folder of", e))?;
    let tmp = dir.join(format!(".agi-config.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&body))
        .and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("cannot write", e));
    }
    Ok(())
}

/// Whether a file may be taken as written by this module: the file names the folder whose PHP
/// this process loads, so it must belong to the user this process runs as (Asterisk's) and be
/// open to no one else, as `save` makes it.
fn trusted(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("owned by uid {}, not {me}", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!("mode {:o}: open to others", meta.mode() & 0o777));
    }
    Ok(())
}

/// The configuration another AGI process left, when it is still current; `None`: bootstrap
/// FreePBX (and `save` again). Why it was not taken is logged at debug level.
pub fn load(spool_dir: &Path) -> Option<AgiConfig> {
    let file = path(spool_dir);
    // One open: the file checked is the file read.
    let read = |mut f: std::fs::File| -> Result<Vec<u8>, String> {
        trusted(&f.metadata().map_err(|e| e.to_string())?)?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        Ok(bytes)
    };
    let stored: Stored = match std::fs::File::open(&file)
        .map_err(|e| e.to_string())
        .and_then(read)
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(file = %file.display(), error = e, "no AGI configuration kept");
            return None;
        }
    };
    let age = now_s().checked_sub(stored.written);
    if age.is_none_or(|a| a > MAX_AGE.as_secs()) {
        tracing::debug!(?age, "the kept AGI configuration is too old");
        return None;
    }
    let db = CoreConfig::from_map(&stored.config.values).ok()?.db;
    rows_unchanged(&db, &stored.rows).then_some(stored.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_under_the_spool_folder() {
        assert_eq!(
            path(Path::new("/var/spool/asterisk")),
            Path::new("/var/spool/asterisk/apicall/agi-config.json")
        );
    }

    #[test]
    fn only_a_file_of_this_user_closed_to_others_is_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("apicall-agi-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.json");
        std::fs::write(&f, b"{}").unwrap();
        for (mode, ok) in [(0o600, true), (0o400, true), (0o640, false), (0o604, false)] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let meta = std::fs::metadata(&f).unwrap();
            assert_eq!(trusted(&meta).is_ok(), ok, "mode {mode:o}");
        }
        // Another owner: root's tests chown it away; others cannot, and skip that half.
        if unsafe { libc::geteuid() } == 0 {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&f, Some(65534), None).unwrap();
            let meta = std::fs::metadata(&f).unwrap();
            assert!(trusted(&meta).unwrap_err().contains("owned by uid 65534"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_or_unreadable_file_is_not_taken() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("apicall-agi-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("apicall")).unwrap();
        assert_eq!(load(&dir), None);
        std::fs::write(path(&dir), b"{not json").unwrap();
        std::fs::set_permissions(path(&dir), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load(&dir), None);
        // Age, kvstore changes and modes with a real database: tests/php/agi_test.php.
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
