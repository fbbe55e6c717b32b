//! Asterisk call files: rendering and atomic hand-over to the spool.
//!
//! Asterisk's pbx_spool picks up any file that appears in `outgoing/`, possibly while it is still
//! being written, so the file is written in the spool's own `tmp/` (same filesystem) and renamed
//! into place. Every value is re-checked when rendered: a value holding a line break could add a
//! line (an `Application:` or a `Setvar:`) to the file, and this is the last gate before Asterisk.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::ApiError;
use crate::fields::{CallerId, Destination};

/// One outgoing call as Asterisk's spool understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFile {
    /// The call's id (lowercase hex), also the file's name.
    pub id: String,
    /// `Local/<number>@<dial_context>`.
    pub channel: String,
    pub callerid: CallerId,
    pub max_retries: u32,
    pub retry_time: u32,
    pub wait_time: u32,
    /// Where the answered call starts: `context`, `s`, `1`.
    pub context: String,
    /// Channel variables, in order.
    pub vars: Vec<(String, String)>,
}

/// The dialplan context the module's doDialplanHook writes for index.php calls.
pub const MESSAGE_CONTEXT: &str = "apicall-message";
/// The context of aibot.php calls (an EAGI conversation).
pub const AIBOT_CONTEXT: &str = "apicall-aibot";

impl CallFile {
    /// The call file for an index.php call: dial, play the message if any, go to `dest`.
    pub fn for_message(
        id: &str,
        number: &str,
        dial_context: &str,
        callerid: CallerId,
        retries: (u32, u32, u32),
        message: Option<&Path>,
        dest: &Destination,
    ) -> Result<Self, ApiError> {
        let message = match message {
            None => String::new(),
            Some(p) => p
                .to_str()
                .ok_or_else(|| ApiError::config("the TTS cache path is not UTF-8"))?
                .to_string(),
        };
        Ok(CallFile {
            id: id.to_string(),
            channel: format!("Local/{number}@{dial_context}"),
            callerid,
            max_retries: retries.0,
            retry_time: retries.1,
            wait_time: retries.2,
            context: MESSAGE_CONTEXT.to_string(),
            vars: vec![
                // Inherited (`__`) so the callee side of the Local channel knows the call too.
                ("__APICALL_ID".into(), id.to_string()),
                ("APICALL_MESSAGE".into(), message),
                ("APICALL_DEST_CONTEXT".into(), dest.context.clone()),
                ("APICALL_DEST_EXTEN".into(), dest.exten.clone()),
                ("APICALL_DEST_PRIORITY".into(), dest.priority.clone()),
            ],
        })
    }

    /// The call file for an aibot.php call: only the id travels; the rest is in the database.
    pub fn for_aibot(
        id: &str,
        number: &str,
        dial_context: &str,
        callerid: CallerId,
        retries: (u32, u32, u32),
    ) -> Self {
        CallFile {
            id: id.to_string(),
            channel: format!("Local/{number}@{dial_context}"),
            callerid,
            max_retries: retries.0,
            retry_time: retries.1,
            wait_time: retries.2,
            context: AIBOT_CONTEXT.to_string(),
            vars: vec![
                ("__APICALL_ID".into(), id.to_string()),
                // Marks the CDR rows of every attempt, so even an unanswered call can be found.
                ("CDR(userfield)".into(), format!("apicall:{id}")),
            ],
        }
    }

    /// The file's text. Fails, rather than writes, if any value could break the line structure.
    pub fn render(&self) -> Result<String, ApiError> {
        let mut out = String::new();
        let mut line = |key: &str, value: &str| -> Result<(), ApiError> {
            if let Some(c) = value.chars().find(|c| c.is_control()) {
                return Err(ApiError::internal(
                    "unsafe_call_file",
                    format!("refusing to write {key} holding control character {c:?}"),
                ));
            }
            let _ = writeln!(out, "{key}: {value}");
            Ok(())
        };
        line("Channel", &self.channel)?;
        let cid = match &self.callerid.name {
            Some(name) => format!("\"{name}\" <{}>", self.callerid.number),
            None => format!("<{}>", self.callerid.number),
        };
        line("CallerID", &cid)?;
        line("MaxRetries", &self.max_retries.to_string())?;
        line("RetryTime", &self.retry_time.to_string())?;
        line("WaitTime", &self.wait_time.to_string())?;
        line("Context", &self.context)?;
        line("Extension", "s")?;
        line("Priority", "1")?;
        for (k, v) in &self.vars {
            let name_ok = !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '(' | ')'));
            if !name_ok {
                return Err(ApiError::internal(
                    "unsafe_call_file",
                    format!("bad variable name {k:?}"),
                ));
            }
            line("Setvar", &format!("{k}={v}"))?;
        }
        line("Archive", "no")?;
        Ok(out)
    }

    /// Writes the call file into `<spool>/tmp` and renames it into `<spool>/outgoing`.
    /// Returns the final path. On any error nothing is left in `outgoing/`.
    pub fn queue(&self, spool_dir: &Path) -> Result<PathBuf, ApiError> {
        self.stage(spool_dir)?.commit()
    }

    /// Writes the call file into `<spool>/tmp` and waits until it is on disk, without handing
    /// it to Asterisk yet: [`Staged::commit`] does that. Split so a caller can make the file
    /// durable while it stores something else the call needs (the wait for the disk is most of
    /// the cost of queueing a call).
    pub fn stage(&self, spool_dir: &Path) -> Result<Staged, ApiError> {
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::internal(
                "unsafe_call_file",
                "call id must be hex",
            ));
        }
        let text = self.render()?;
        let tmp_dir = spool_dir.join("tmp");
        let out_dir = spool_dir.join("outgoing");
        let name = format!("apicall-{}.call", self.id);
        let tmp = tmp_dir.join(&name);
        fs::create_dir_all(&tmp_dir).map_err(|e| spool_err("create", &tmp_dir, e))?;
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(spool_err("write", &tmp, e));
        }
        Ok(Staged {
            tmp: Some(tmp),
            dest: out_dir.join(&name),
        })
    }
}

/// The `spool_error` of a failed file operation on the spool: what was done, where, why.
pub fn spool_err(what: &str, p: &Path, e: std::io::Error) -> ApiError {
    ApiError::internal("spool_error", format!("cannot {what} {}: {e}", p.display()))
}

/// A call file written to the spool's `tmp/`, not yet seen by Asterisk. Dropped without
/// [`Staged::commit`], it is removed.
#[derive(Debug)]
pub struct Staged {
    tmp: Option<PathBuf>,
    dest: PathBuf,
}

impl Staged {
    /// Renames the file into `outgoing/`, where Asterisk picks it up. Returns the final path.
    pub fn commit(mut self) -> Result<PathBuf, ApiError> {
        let tmp = self.tmp.take().expect("a staged file is committed once");
        if let Err(e) = fs::rename(&tmp, &self.dest) {
            let _ = fs::remove_file(&tmp);
            let dir = self.dest.parent().unwrap_or(&self.dest);
            return Err(spool_err("move the call file into", dir, e));
        }
        Ok(self.dest.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CallFile {
        CallFile::for_message(
            "0123abcd",
            "200",
            "from-internal",
            CallerId {
                name: Some("Acme".into()),
                number: "999".into(),
            },
            (2, 60, 30),
            Some(Path::new("/var/lib/asterisk/sounds/apicall/tts/ab12")),
            &Destination::hangup(),
        )
        .unwrap()
    }

    #[test]
    fn renders_the_expected_lines() {
        let text = sample().render().unwrap();
        assert_eq!(
            text,
            "Channel: Local/200@from-internal\n\
             CallerID: \"Acme\" <999>\n\
             MaxRetries: 2\nRetryTime: 60\nWaitTime: 30\n\
             Context: apicall-message\nExtension: s\nPriority: 1\n\
             Setvar: __APICALL_ID=0123abcd\n\
             Setvar: APICALL_MESSAGE=/var/lib/asterisk/sounds/apicall/tts/ab12\n\
             Setvar: APICALL_DEST_CONTEXT=app-blackhole\n\
             Setvar: APICALL_DEST_EXTEN=hangup\n\
             Setvar: APICALL_DEST_PRIORITY=1\n\
             Archive: no\n"
        );
    }

    #[test]
    fn refuses_values_that_break_lines() {
        for evil in ["x\nApplication: System", "x\r", "x\0"] {
            let mut f = sample();
            f.callerid.name = Some(evil.into());
            assert_eq!(f.render().unwrap_err().code, "unsafe_call_file");
            let mut f = sample();
            f.vars.push(("X".into(), evil.into()));
            assert!(f.render().is_err());
        }
        let mut f = sample();
        f.vars.push(("A=B".into(), "1".into()));
        assert!(f.render().is_err());
    }

    #[test]
    fn queue_is_atomic_and_leaves_nothing_on_error() {
        let dir = std::env::temp_dir().join(format!("apicall-spool-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("outgoing")).unwrap();
        let path = sample().queue(&dir).unwrap();
        assert_eq!(path, dir.join("outgoing/apicall-0123abcd.call"));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            sample().render().unwrap()
        );
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        fs::remove_file(&path).unwrap();
        let mut bad = sample();
        bad.vars.push(("X".into(), "a\nb".into()));
        assert!(bad.queue(&dir).is_err());
        assert_eq!(fs::read_dir(dir.join("outgoing")).unwrap().count(), 0);
        // Missing outgoing folder: error, and the temp file is cleaned up.
        fs::remove_dir_all(dir.join("outgoing")).unwrap();
        assert_eq!(sample().queue(&dir).unwrap_err().code, "spool_error");
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_staged_file_is_outside_outgoing_until_committed_and_gone_if_dropped() {
        let dir = std::env::temp_dir().join(format!("apicall-stage-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("outgoing")).unwrap();
        let staged = sample().stage(&dir).unwrap();
        assert_eq!(fs::read_dir(dir.join("outgoing")).unwrap().count(), 0);
        assert_eq!(
            fs::read_to_string(dir.join("tmp/apicall-0123abcd.call")).unwrap(),
            sample().render().unwrap()
        );
        drop(staged);
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.join("outgoing")).unwrap().count(), 0);

        let path = sample().stage(&dir).unwrap().commit().unwrap();
        assert_eq!(path, dir.join("outgoing/apicall-0123abcd.call"));
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
