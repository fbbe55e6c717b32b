//! `apicall`: the module's admin command-line tool.
//!
//! Why it exists: an administrator (or FreePBX's `fwconsole apicall:...` commands, which wrap
//! it) needs to try the configured speech providers outside a call: speak a text to a WAV, read
//! a recorded answer, see which providers answer. It builds the same chains the engine builds
//! (`apicall_speech::Providers::from_settings`) from the same flat settings, so what works here
//! works in a call.
//!
//! Settings come from `--config FILE` (a JSON object of the module's settings; `-` reads it from
//! stdin, which keeps secrets such as `openai_api_key` out of the process list) and then
//! `--set key=value` flags, later ones winning. Every command prints one JSON object on stdout:
//! `"ok": true` with the result, or `"ok": false` with `{"error": {"code", "message"}}`. Exit
//! status: 0 success, 1 a provider failed (or, for `providers`, one did not answer), 2 bad
//! usage or settings.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use apicall_speech::providers::Timeouts;
use apicall_speech::{decode_any, Alternative, Chained, Providers, SpeechError};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(
    name = "apicall",
    version,
    about = "apicall admin tool: try the configured speech providers; prints JSON"
)]
struct Cli {
    /// JSON object of module settings (e.g. tts_provider, stt_url); `-` reads it from stdin.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// A setting, after those of --config (repeatable): --set stt_url=http://127.0.0.1:8765
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,

    /// Time limit of one provider request, in seconds (default: 30 for TTS, 15 for STT).
    #[arg(long, global = true, value_name = "SECS")]
    timeout: Option<f64>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Speak a text into a WAV file (8 kHz mono by default, what Asterisk plays).
    Tts {
        /// The text to speak.
        text: String,
        /// Language, e.g. en-US, it_IT, it.
        #[arg(long)]
        lang: String,
        /// A voice of the engine (e.g. alloy, it-IT-Wavenet-A, f3); default: default_voice.
        #[arg(long, default_value = "")]
        voice: String,
        /// Provider or comma list in fallback order (local, google, openai, espeak);
        /// default: the tts_provider setting.
        #[arg(long)]
        provider: Option<String>,
        /// Where to write the WAV.
        #[arg(short = 'o', long = "output", value_name = "OUT.wav")]
        output: PathBuf,
        /// Sample rate of the WAV; 0 keeps the engine's own.
        #[arg(long, default_value_t = 8000)]
        rate: u32,
    },
    /// Transcribe a WAV (or MP3) file.
    Stt {
        /// The audio file.
        file: PathBuf,
        /// Language, e.g. en-US, it_IT, it.
        #[arg(long)]
        lang: String,
        /// A phrase the speaker is likely to say (repeatable).
        #[arg(long = "hint", value_name = "PHRASE")]
        hints: Vec<String>,
        /// Provider or comma list in fallback order (local, google, openai);
        /// default: the stt_provider setting.
        #[arg(long)]
        provider: Option<String>,
    },
    /// List the configured providers and whether each one answers.
    Providers,
}

/// A failure, as printed: the exit status and the JSON error.
struct Failure {
    exit: u8,
    code: &'static str,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Self {
        Failure {
            exit: 2,
            code: "usage",
            message,
        }
    }
}

impl From<SpeechError> for Failure {
    fn from(e: SpeechError) -> Self {
        // A settings problem is the caller's to fix, like a usage error.
        let exit = if matches!(&e, SpeechError::Config { provider, .. } if provider == "settings") {
            2
        } else {
            1
        };
        Failure {
            exit,
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (exit, out) = match run(cli) {
        Ok((exit, v)) => (exit, v),
        Err(f) => (
            f.exit,
            json!({"ok": false, "error": {"code": f.code, "message": f.message}}),
        ),
    };
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    ExitCode::from(exit)
}

fn run(cli: Cli) -> Result<(u8, Value), Failure> {
    let mut settings = load_settings(cli.config.as_deref(), &cli.set)?;
    let mut timeouts = Timeouts::default();
    if let Some(secs) = cli.timeout {
        if !(secs.is_finite() && secs > 0.0 && secs <= 600.0) {
            return Err(Failure::usage(format!(
                "--timeout must be above 0 and at most 600 seconds: {secs}"
            )));
        }
        timeouts.stt = Duration::from_secs_f64(secs);
        timeouts.tts = Duration::from_secs_f64(secs);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            exit: 1,
            code: "internal",
            message: format!("cannot start the async runtime: {e}"),
        })?;
    match cli.command {
        Command::Tts {
            text,
            lang,
            voice,
            provider,
            output,
            rate,
        } => {
            if let Some(p) = provider {
                settings.insert("tts_provider".into(), p);
            }
            if rate != 0 && !(8000..=48000).contains(&rate) {
                return Err(Failure::usage(format!(
                    "--rate must be 0 or 8000 to 48000: {rate}"
                )));
            }
            let providers = Providers::from_settings_with(&settings, timeouts)?;
            runtime.block_on(tts(&providers, &text, &lang, &voice, &output, rate))
        }
        Command::Stt {
            file,
            lang,
            hints,
            provider,
        } => {
            if let Some(p) = provider {
                settings.insert("stt_provider".into(), p);
            }
            let providers = Providers::from_settings_with(&settings, timeouts)?;
            runtime.block_on(stt(&providers, &file, &lang, &hints))
        }
        Command::Providers => {
            let providers = Providers::from_settings_with(&settings, timeouts)?;
            let reports = runtime.block_on(providers.check());
            let all_ok = reports.iter().all(|r| r.ok);
            Ok((
                if all_ok { 0 } else { 1 },
                json!({
                    "ok": all_ok,
                    "tts": providers.tts_kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "stt": providers.stt_kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "providers": reports,
                }),
            ))
        }
    }
}

/// The settings map: the --config object, then the --set pairs.
fn load_settings(
    config: Option<&Path>,
    sets: &[String],
) -> Result<HashMap<String, String>, Failure> {
    let mut map = HashMap::new();
    if let Some(path) = config {
        let text = if path == Path::new("-") {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Failure::usage(format!("--config -: cannot read stdin: {e}")))?;
            s
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--config {}: {e}", path.display())))?
        };
        let where_ = path.display();
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Failure::usage(format!("--config {where_}: not JSON: {e}")))?;
        let Value::Object(obj) = value else {
            return Err(Failure::usage(format!(
                "--config {where_}: not a JSON object of settings"
            )));
        };
        for (k, v) in obj {
            // FreePBX keeps settings as strings; numbers and booleans are accepted as written.
            let s = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                _ => {
                    return Err(Failure::usage(format!(
                        "--config {where_}: setting {k:?} is not a string"
                    )))
                }
            };
            map.insert(k, s);
        }
    }
    for pair in sets {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| Failure::usage(format!("--set {pair:?}: expected KEY=VALUE")))?;
        map.insert(k.trim().to_string(), v.to_string());
    }
    Ok(map)
}

/// The providers that failed before the one that answered, as JSON errors.
fn failures(errors: &[SpeechError]) -> Value {
    errors
        .iter()
        .map(|e| json!({"code": e.code(), "message": e.to_string()}))
        .collect()
}

fn ms_since(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn tts(
    providers: &Providers,
    text: &str,
    lang: &str,
    voice: &str,
    output: &Path,
    rate: u32,
) -> Result<(u8, Value), Failure> {
    let started = Instant::now();
    let Chained {
        value: pcm,
        provider: by,
        failed,
    } = providers.tts().synthesize_from(text, lang, voice).await?;
    let synth_ms = ms_since(started);
    let engine_rate = pcm.rate;
    let pcm = if rate == 0 || rate == pcm.rate {
        pcm
    } else {
        pcm.resample(rate).map_err(|e| Failure {
            exit: 1,
            code: "bad_audio",
            message: e.to_string(),
        })?
    };
    pcm.write_wav_atomic(output).map_err(|e| Failure {
        exit: 1,
        code: "io",
        message: e.to_string(),
    })?;
    let file = std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf());
    Ok((
        0,
        json!({
            "ok": true,
            "provider": by,
            "failed": failures(&failed),
            "file": file,
            "rate": pcm.rate,
            "engine_rate": engine_rate,
            "seconds": round2(pcm.duration_secs()),
            "ms": synth_ms,
        }),
    ))
}

async fn stt(
    providers: &Providers,
    file: &Path,
    lang: &str,
    hints: &[String],
) -> Result<(u8, Value), Failure> {
    let bytes =
        std::fs::read(file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    let pcm = decode_any(&bytes).map_err(|e| Failure {
        exit: 2,
        code: "bad_audio",
        message: format!("{}: {e}", file.display()),
    })?;
    let started = Instant::now();
    let Chained {
        value: alts,
        provider: by,
        failed,
    } = providers.stt().transcribe_from(&pcm, lang, hints).await?;
    let text = alts.first().map(|a: &Alternative| a.transcript.clone());
    Ok((
        0,
        json!({
            "ok": true,
            "provider": by,
            "failed": failures(&failed),
            "text": text.unwrap_or_default(),
            "alternatives": alts,
            "seconds": round2(pcm.duration_secs()),
            "rate": pcm.rate,
            "ms": ms_since(started),
        }),
    ))
}
