//! Tests that need the local stack's MariaDB (`make up`) find it here.
//!
//! `make test` runs the workspace's tests with the stack up and sets `APICALL_STACK_TESTS`:
//! there a missing stack is a failure, not a pass. A plain `cargo test` without the stack
//! skips these tests and says so.

use std::collections::HashMap;

use crate::config::CoreConfig;

/// The stack's database settings from `.stack/env`; None (after saying so) when the stack is
/// not up. Panics when `APICALL_STACK_TESTS` is set and the stack is missing.
pub fn config() -> Option<CoreConfig> {
    let found = read();
    if found.is_none() {
        assert!(
            std::env::var_os("APICALL_STACK_TESTS").is_none(),
            "APICALL_STACK_TESTS is set but .stack/env is missing or unreadable"
        );
        eprintln!("no .stack/env: the local stack is not up, nothing to test against");
    }
    found
}

fn read() -> Option<CoreConfig> {
    let env = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.stack/env");
    let text = std::fs::read_to_string(env).ok()?;
    let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let mut map: HashMap<String, String> = [
        ("db_host", "DB_HOST"),
        ("db_port", "DB_PORT"),
        ("db_user", "DB_USER"),
        ("db_pass", "DB_PASS"),
        ("db_name", "DB_NAME"),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), vars.get(v)?.to_string())))
    .collect();
    map.insert("spool_dir".into(), "/nonexistent".into());
    map.insert("tts_cache_dir".into(), "/nonexistent".into());
    CoreConfig::from_map(&map).ok()
}
