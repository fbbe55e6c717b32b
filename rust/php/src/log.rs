//! Routes the core's `tracing` events into PHP's own error log.
//!
//! Lines go through `php_log_err_with_severity`, so they land wherever the admin pointed
//! `error_log` (Apache's error log on FreePBX, stderr in the CLI) with PHP's timestamp. Only the
//! thread that is inside an extension call may call into PHP; lines from any other thread wait
//! in a queue and are written by the next call on the PHP thread.

use std::cell::Cell;
use std::ffi::{c_char, c_int, CString};
use std::io;
use std::sync::Mutex;

use tracing::Level;

extern "C" {
    // Exported by the PHP binary (main/main.c); present in every SAPI.
    fn php_log_err_with_severity(message: *const c_char, syslog_type: c_int);
}

thread_local! {
    static IN_PHP: Cell<bool> = const { Cell::new(false) };
}

static PENDING: Mutex<Vec<(Level, String)>> = Mutex::new(Vec::new());

fn write_to_php(level: Level, line: &str) {
    // syslog severities: 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    let severity = match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 5,
        Level::DEBUG => 6,
        Level::TRACE => 7,
    };
    let text = line.trim_end().replace('\0', "\\0");
    if let Ok(c) = CString::new(format!("apicall: {text}")) {
        // SAFETY: called on the PHP thread (checked by the caller) with a valid C string.
        unsafe { php_log_err_with_severity(c.as_ptr(), severity) };
    }
}

/// Marks the current thread as inside a PHP call for the guard's lifetime and flushes lines
/// queued by other threads.
pub struct PhpThread;

impl PhpThread {
    pub fn enter() -> Self {
        IN_PHP.with(|f| f.set(true));
        flush();
        PhpThread
    }
}

impl Drop for PhpThread {
    fn drop(&mut self) {
        flush();
        IN_PHP.with(|f| f.set(false));
    }
}

fn flush() {
    let lines = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|p| p.into_inner()));
    for (level, line) in lines {
        write_to_php(level, &line);
    }
}

/// One formatted event; handed to PHP (or queued) when the formatter is done with it.
pub struct LineWriter {
    level: Level,
    buf: Vec<u8>,
}

impl io::Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let line = String::from_utf8_lossy(&self.buf).into_owned();
        if IN_PHP.with(Cell::get) {
            write_to_php(self.level, &line);
        } else if let Ok(mut q) = PENDING.lock() {
            if q.len() < 1000 {
                q.push((self.level, line));
            }
        }
    }
}

struct MakeLine;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MakeLine {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            level: Level::INFO,
            buf: Vec::new(),
        }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter {
            level: *meta.level(),
            buf: Vec::new(),
        }
    }
}

/// Installs the subscriber. The level comes from the `APICALL_LOG` environment variable
/// (`error`, `warn`, `info`, `debug`, `trace`; default `info`). Creates no thread.
pub fn init() {
    let level = std::env::var("APICALL_LOG")
        .ok()
        .and_then(|v| v.parse::<Level>().ok())
        .unwrap_or(Level::INFO);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(MakeLine)
        .with_max_level(level)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}
