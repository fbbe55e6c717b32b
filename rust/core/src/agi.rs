//! The Asterisk Gateway Interface, spoken by the core itself.
//!
//! An AGI script talks to Asterisk over its stdin/stdout: first a block of `agi_name: value`
//! lines, then one command per line, each answered by `200 result=N [(data)] [key=value]`.
//! When the channel hangs up Asterisk may write `HANGUP` on its own line, and every later
//! command gets `511`; both become [`AgiError::Hangup`], the one error a conversation expects.
//! Generic over the reader and writer so tests can play Asterisk's part.

use std::collections::HashMap;
use std::io::{BufRead, Write};

#[derive(Debug, thiserror::Error)]
pub enum AgiError {
    #[error("the channel hung up")]
    Hangup,
    #[error("AGI I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("AGI protocol: {0}")]
    Protocol(String),
}

/// One parsed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub result: i64,
    /// The text in parentheses, e.g. a variable's value.
    pub data: Option<String>,
    /// Whatever followed (`endpos=1234`).
    pub extra: String,
}

pub struct Agi<R, W> {
    reader: R,
    writer: W,
    env: HashMap<String, String>,
}

impl<R: BufRead, W: Write> Agi<R, W> {
    /// Reads the environment block Asterisk sends first.
    pub fn start(mut reader: R, writer: W) -> Result<Self, AgiError> {
        let mut env = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Err(AgiError::Protocol(
                    "end of input inside the AGI environment".into(),
                ));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(": ") {
                env.insert(k.trim_start_matches("agi_").to_string(), v.to_string());
            }
        }
        Ok(Agi {
            reader,
            writer,
            env,
        })
    }

    /// An environment value without its `agi_` prefix (`uniqueid`, `channel`, `callerid`...).
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, cmd: &str) -> Result<Reply, AgiError> {
        if cmd.contains(['\n', '\r', '\0']) {
            return Err(AgiError::Protocol(format!(
                "refusing a command with a line break: {cmd:?}"
            )));
        }
        self.writer.write_all(cmd.as_bytes())?;
        self.writer.write_all(b"\n")?;
        self.writer.flush()?;
        loop {
            let line = self.read_line()?;
            if line == "HANGUP" {
                // Asterisk's notice that the channel is gone; the reply to our command follows.
                continue;
            }
            let reply = parse_reply(&line)?;
            return match reply.code {
                200 => Ok(reply),
                511 => Err(AgiError::Hangup),
                520 => {
                    // Usage text, ending with "520 End of proper usage."
                    while !self.read_line()?.starts_with("520 ") {}
                    Err(AgiError::Protocol(format!("invalid command syntax: {cmd}")))
                }
                code => Err(AgiError::Protocol(format!("{cmd}: {code} {line}"))),
            };
        }
    }

    fn read_line(&mut self) -> Result<String, AgiError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            // Asterisk closed our stdin: the channel is gone.
            return Err(AgiError::Hangup);
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    /// `GET VARIABLE`: `None` when the variable is not set.
    pub fn get_variable(&mut self, name: &str) -> Result<Option<String>, AgiError> {
        let r = self.command(&format!("GET VARIABLE {}", quote(name)))?;
        Ok(if r.result == 1 { r.data } else { None })
    }

    /// `GET FULL VARIABLE`: evaluates an expression such as `${CHANNEL(linkedid)}`.
    pub fn get_full_variable(&mut self, expr: &str) -> Result<Option<String>, AgiError> {
        let r = self.command(&format!("GET FULL VARIABLE {}", quote(expr)))?;
        Ok(if r.result == 1 { r.data } else { None })
    }

    pub fn set_variable(&mut self, name: &str, value: &str) -> Result<(), AgiError> {
        self.command(&format!("SET VARIABLE {} {}", quote(name), quote(value)))?;
        Ok(())
    }

    /// Plays a file (path without extension); returns the escape digit that stopped it.
    pub fn stream_file(
        &mut self,
        file: &str,
        escape_digits: &str,
    ) -> Result<Option<char>, AgiError> {
        let r = self.command(&format!(
            "STREAM FILE {} {}",
            quote(file),
            quote(escape_digits)
        ))?;
        match r.result {
            -1 => Err(AgiError::Hangup),
            0 => {
                // endpos=0 with result 0 means the file could not be played at all.
                if r.extra.contains("endpos=0") && r.data.is_none() {
                    tracing::warn!(
                        file,
                        "STREAM FILE played nothing (missing or unreadable file?)"
                    );
                }
                Ok(None)
            }
            n => Ok(digit(n)),
        }
    }

    /// Waits up to `ms` for one DTMF digit.
    pub fn wait_for_digit(&mut self, ms: u64) -> Result<Option<char>, AgiError> {
        let r = self.command(&format!("WAIT FOR DIGIT {ms}"))?;
        match r.result {
            -1 => Err(AgiError::Hangup),
            0 => Ok(None),
            n => Ok(digit(n)),
        }
    }

    /// A line in Asterisk's verbose log.
    pub fn verbose(&mut self, message: &str, level: u8) -> Result<(), AgiError> {
        let clean: String = message
            .chars()
            .map(|c| {
                if c.is_control() || c == '"' || c == '\\' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        self.command(&format!("VERBOSE \"{clean}\" {level}"))?;
        Ok(())
    }
}

fn digit(code: i64) -> Option<char> {
    u8::try_from(code)
        .ok()
        .map(char::from)
        .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
}

/// Quotes an argument the way res_agi's parser reads it.
fn quote(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for c in arg.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn parse_reply(line: &str) -> Result<Reply, AgiError> {
    let bad = || AgiError::Protocol(format!("unexpected reply {line:?}"));
    let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let rest = line.get(3..).unwrap_or("").trim_start_matches([' ', '-']);
    let Some(after) = rest.strip_prefix("result=") else {
        return Ok(Reply {
            code,
            result: 0,
            data: None,
            extra: rest.to_string(),
        });
    };
    let end = after.find(' ').unwrap_or(after.len());
    let result = after[..end].parse().map_err(|_| bad())?;
    let tail = after[end..].trim_start();
    let (data, extra) = match tail.strip_prefix('(') {
        Some(inner) => match inner.rfind(')') {
            Some(close) => (
                Some(inner[..close].to_string()),
                inner[close + 1..].trim().to_string(),
            ),
            None => (Some(inner.to_string()), String::new()),
        },
        None => (None, tail.to_string()),
    };
    Ok(Reply {
        code,
        result,
        data,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn agi(script: &str) -> Agi<Cursor<Vec<u8>>, Vec<u8>> {
        let input = format!("agi_request: apicall-aibot.php\nagi_channel: Local/2001@x-1;1\nagi_uniqueid: 1700.5\n\n{script}");
        Agi::start(Cursor::new(input.into_bytes()), Vec::new()).unwrap()
    }

    #[test]
    fn reads_the_environment() {
        let a = agi("");
        assert_eq!(a.env("uniqueid"), Some("1700.5"));
        assert_eq!(a.env("request"), Some("apicall-aibot.php"));
    }

    #[test]
    fn variables_and_quoting() {
        let mut a = agi("200 result=1 (abc def)\n200 result=0\n200 result=1\n");
        assert_eq!(
            a.get_variable("APICALL_ID").unwrap().as_deref(),
            Some("abc def")
        );
        assert_eq!(a.get_variable("NOPE").unwrap(), None);
        a.set_variable("X", "a \"b\" c").unwrap();
        let sent = String::from_utf8(a.writer.clone()).unwrap();
        assert_eq!(
            sent,
            "GET VARIABLE \"APICALL_ID\"\nGET VARIABLE \"NOPE\"\nSET VARIABLE \"X\" \"a \\\"b\\\" c\"\n"
        );
    }

    #[test]
    fn digits_and_hangups() {
        let mut a = agi("200 result=50 endpos=1200\n200 result=0 endpos=8000\n200 result=35\nHANGUP\n200 result=-1\n");
        assert_eq!(a.stream_file("/x/y", "2#").unwrap(), Some('2'));
        assert_eq!(a.stream_file("/x/y", "").unwrap(), None);
        assert_eq!(a.wait_for_digit(1000).unwrap(), Some('#'));
        assert!(matches!(a.wait_for_digit(1000), Err(AgiError::Hangup)));
        // Input closed: hung up, not an I/O error.
        assert!(matches!(a.wait_for_digit(10), Err(AgiError::Hangup)));
    }

    #[test]
    fn dead_channel_and_usage_errors() {
        let mut a = agi("511 Command Not Permitted on a dead channel or intercepted channel\n520-Invalid command syntax.  Proper usage follows:\nUsage: ...\n520 End of proper usage.\n");
        assert!(matches!(a.wait_for_digit(5), Err(AgiError::Hangup)));
        assert!(matches!(a.command("BOGUS"), Err(AgiError::Protocol(_))));
        assert!(matches!(a.command("X\nY"), Err(AgiError::Protocol(_))));
    }

    #[test]
    fn reply_parsing() {
        let r = parse_reply("200 result=1 (a (b) c) endpos=3").unwrap();
        assert_eq!(r.data.as_deref(), Some("a (b) c"));
        assert_eq!(r.extra, "endpos=3");
        assert!(parse_reply("garbage").is_err());
    }
}
