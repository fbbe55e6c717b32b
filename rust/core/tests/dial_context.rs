//! The dial_context setting reaches the call: the map the PHP side hands the extension, through
//! CoreConfig and originate(), to the `Channel:` line of the file Asterisk reads.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use apicall_core::{originate, CoreConfig};

/// A spool of its own (outgoing/ as Asterisk has it), removed when dropped.
struct Spool(PathBuf);

impl Spool {
    fn new(name: &str) -> Spool {
        let dir = std::env::temp_dir().join(format!("apicall-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("outgoing")).unwrap();
        Spool(dir)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(spool: &Path, dial_context: Option<&str>) -> CoreConfig {
    let mut map: HashMap<String, String> = [
        ("db_user", "freepbxuser"),
        ("spool_dir", spool.to_str().unwrap()),
        ("tts_cache_dir", spool.join("tts").to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(ctx) = dial_context {
        map.insert("dial_context".into(), ctx.into());
    }
    CoreConfig::from_map(&map).unwrap()
}

/// Queues a call to `tocall` (no message: no speech engine, no database) and returns the
/// lines of its call file.
fn queued_lines(cfg: &CoreConfig, spool: &Path, tocall: &str) -> Vec<String> {
    let body = format!(r#"{{"tocall":"{tocall}"}}"#);
    let queued = originate::originate(cfg, body.as_bytes()).unwrap();
    let file = spool
        .join("outgoing")
        .join(format!("apicall-{}.call", queued.id));
    fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

fn channels(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| l.starts_with("Channel:"))
        .map(String::as_str)
        .collect()
}

#[test]
fn the_dial_context_setting_is_the_channel_of_the_call_file() {
    let spool = Spool::new("dial-context");
    let cfg = config(&spool.0, Some("apicall-test-trunk"));
    let lines = queued_lines(&cfg, &spool.0, "+390612345");
    assert_eq!(
        channels(&lines),
        ["Channel: Local/+390612345@apicall-test-trunk"],
        "{lines:#?}"
    );
    // Only the dialing goes through the setting; the call itself runs in the module's context.
    assert!(
        lines.contains(&"Context: apicall-message".to_string()),
        "{lines:#?}"
    );
}

#[test]
fn without_the_setting_calls_are_dialed_from_internal() {
    let spool = Spool::new("dial-default");
    let cfg = config(&spool.0, None);
    let lines = queued_lines(&cfg, &spool.0, "2001");
    assert_eq!(
        channels(&lines),
        ["Channel: Local/2001@from-internal"],
        "{lines:#?}"
    );
}
