//! The `apicall` binary run as an administrator (or fwconsole) runs it: a real process, settings
//! from flags, a file or stdin, JSON on stdout, exit statuses; providers played by stand-in
//! servers on loopback that check what each request carries as the real service would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use apicall_speech::Pcm;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Req {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

type Handler = dyn Fn(&Req) -> (u16, &'static str, Vec<u8>) + Send + Sync;

/// A loopback server answering each request with `handler`; returns its base URL and the
/// requests it saw.
fn standin(handler: Box<Handler>) -> (String, Arc<Mutex<Vec<Req>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let handler: Arc<Handler> = Arc::from(handler);
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(sock) = sock else { return };
            let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
            std::thread::spawn(move || serve_one(sock, &*handler, &log));
        }
    });
    (base, seen)
}

fn serve_one(sock: TcpStream, handler: &Handler, log: &Mutex<Vec<Req>>) {
    let mut reader = BufReader::new(sock.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.insert(n.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(len) = headers.get("content-length") {
        body.resize(len.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let req = Req {
        method,
        path,
        headers,
        body,
    };
    let (status, ctype, reply) = handler(&req);
    log.lock().unwrap().push(req);
    let mut sock = sock;
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    );
    let _ = sock.write_all(head.as_bytes());
    let _ = sock.write_all(&reply);
}

fn apicall(args: &[&str], stdin: Option<&str>) -> (Output, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apicall"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apicall-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

fn tone(rate: u32, secs: f64) -> Pcm {
    let n = (f64::from(rate) * secs) as usize;
    Pcm {
        rate,
        samples: (0..n)
            .map(|i| ((i as f64 * 0.1).sin() * 6000.0) as i16)
            .collect(),
    }
}

/// The multipart field `name` of a form body, as text.
fn form_field(req: &Req, name: &str) -> Option<Vec<u8>> {
    let ct = req.headers.get("content-type")?;
    let boundary = ct.split("boundary=").nth(1)?;
    let delim = format!("--{boundary}");
    let body = &req.body;
    let text_pos = |from: usize, needle: &[u8]| {
        body[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let marker = format!("name=\"{name}\"");
    let at = text_pos(0, marker.as_bytes())?;
    let start = text_pos(at, b"\r\n\r\n")? + 4;
    let end = text_pos(start, format!("\r\n{delim}").as_bytes())?;
    Some(body[start..end].to_vec())
}

#[test]
fn usage_and_settings_errors_exit_2_with_json() {
    let (out, _) = apicall(&[], None);
    assert_eq!(out.status.code(), Some(2), "clap's usage error");

    let (out, v) = apicall(&["--set", "no-equals", "providers"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "usage");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("KEY=VALUE"));

    let bad = tmp("bad.json");
    std::fs::write(&bad, "[1,2]").unwrap();
    let (out, v) = apicall(&["providers", "--config", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a JSON object"));

    let (out, v) = apicall(
        &[
            "tts",
            "hi",
            "--lang",
            "en",
            "-o",
            "/tmp/x.wav",
            "--provider",
            "azure",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["error"]["code"], "config");
    assert!(v["error"]["message"].as_str().unwrap().contains("azure"));

    let (out, v) = apicall(&["stt", "/nonexistent.wav", "--lang", "en"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent.wav"));
}

#[test]
fn tts_with_espeak_writes_an_asterisk_wav() {
    let out_wav = tmp("espeak.wav");
    let (out, v) = apicall(
        &[
            "tts",
            "Your appointment is confirmed.",
            "--lang",
            "en-US",
            "--provider",
            "espeak",
            "-o",
            out_wav.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["provider"], "espeak-ng");
    assert_eq!(v["rate"], 8000);
    assert_eq!(v["engine_rate"], 22050);
    assert_eq!(v["failed"], json!([]));
    let pcm = Pcm::from_wav_bytes(&std::fs::read(&out_wav).unwrap()).unwrap();
    assert_eq!(pcm.rate, 8000);
    assert!((pcm.duration_secs() - v["seconds"].as_f64().unwrap()).abs() < 0.01);
    assert_eq!(v["file"], out_wav.to_str().unwrap());

    let (out, v) = apicall(
        &[
            "tts",
            "Hello",
            "--lang",
            "en",
            "--provider",
            "espeak",
            "--rate",
            "16000",
            "-o",
            out_wav.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["rate"], 16000);
}

#[test]
fn tts_through_the_local_service_from_a_config_file() {
    let wav = tone(8000, 1.0).to_wav_bytes().unwrap();
    let (base, seen) = standin(Box::new(move |r| {
        let b = r.json();
        let ok = r.method == "POST"
            && r.path == "/v1/audio/speech"
            && b["model"] == "tts-1"
            && b["response_format"] == "wav"
            && b["language"].is_string()
            && b["sample_rate"] == 8000
            && b["input"].as_str().is_some_and(|s| !s.is_empty());
        if ok {
            (200, "audio/wav", wav.clone())
        } else {
            (
                400,
                "application/json",
                br#"{"error":{"message":"bad request"}}"#.to_vec(),
            )
        }
    }));
    let cfg = tmp("local.json");
    std::fs::write(
        &cfg,
        json!({"tts_provider": "local", "stt_url": base, "default_voice": "", "webhook_retries": 8})
            .to_string(),
    )
    .unwrap();
    let out_wav = tmp("local.wav");
    let (out, v) = apicall(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "tts",
            "Buongiorno",
            "--lang",
            "it_IT",
            "--voice",
            "nova",
            "-o",
            out_wav.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["provider"], format!("openai-tts({base})"));
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let b = reqs[0].json();
    assert_eq!(b["language"], "it-IT");
    assert_eq!(b["voice"], "nova");
    assert_eq!(b["input"], "Buongiorno");
    assert!(!reqs[0].headers.contains_key("authorization"));
}

#[test]
fn tts_falls_back_to_espeak_and_says_why() {
    let down = closed_port();
    let out_wav = tmp("fallback.wav");
    let (out, v) = apicall(
        &[
            "tts",
            "Hello",
            "--lang",
            "en",
            "--set",
            &format!("stt_url={down}"),
            "-o",
            out_wav.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["provider"], "espeak-ng");
    assert_eq!(v["failed"][0]["code"], "unreachable");
    assert!(v["failed"][0]["message"].as_str().unwrap().contains(&down));
}

#[test]
fn stt_through_the_local_service_with_hints() {
    let (base, seen) = standin(Box::new(|r| {
        if r.path != "/v1/audio/transcriptions" || form_field(r, "file").is_none() {
            return (404, "application/json", b"{}".to_vec());
        }
        (
            200,
            "application/json",
            json!({"text": " I want sales.", "segments": [
                {"start": 0.0, "end": 1.0, "avg_logprob": -0.1}]})
            .to_string()
            .into_bytes(),
        )
    }));
    let answer = tone(8000, 1.0);
    let wav = tmp("answer.wav");
    std::fs::write(&wav, answer.to_wav_bytes().unwrap()).unwrap();
    let (out, v) = apicall(
        &[
            "stt",
            wav.to_str().unwrap(),
            "--lang",
            "en-US",
            "--hint",
            "sales",
            "--hint",
            "support",
            "--set",
            &format!("stt_url={base}"),
            "--set",
            "stt_model=whisper-tiny.en",
        ],
        None,
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["text"], "I want sales.");
    assert_eq!(v["alternatives"][0]["transcript"], "I want sales.");
    assert!((v["alternatives"][0]["confidence"].as_f64().unwrap() - (-0.1f64).exp()).abs() < 1e-6);
    assert_eq!(v["seconds"], 1.0);
    let r = seen.lock().unwrap()[0].clone();
    assert_eq!(form_field(&r, "language").unwrap(), b"en");
    assert_eq!(form_field(&r, "prompt").unwrap(), b"sales, support");
    assert_eq!(form_field(&r, "model").unwrap(), b"whisper-tiny.en");
    let sent = Pcm::from_wav_bytes(&form_field(&r, "file").unwrap()).unwrap();
    assert_eq!(sent, answer);
}

#[test]
fn stt_through_google_with_settings_on_stdin() {
    let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = kp.public_key().as_ref().to_vec();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(kp.as_der().unwrap().as_ref())
    );
    let token_url = Arc::new(Mutex::new(String::new()));
    let tu = Arc::clone(&token_url);
    let (base, seen) = standin(Box::new(move |r| {
        let err = |code: u16, msg: &str| {
            (
                code,
                "application/json",
                json!({"error": {"code": code, "message": msg, "status": "INVALID_ARGUMENT"}})
                    .to_string()
                    .into_bytes(),
            )
        };
        if r.path == "/token" {
            let form = String::from_utf8(r.body.clone()).unwrap();
            let assertion = form
                .split('&')
                .find_map(|p| p.strip_prefix("assertion="))
                .unwrap_or("");
            let parts: Vec<&str> = assertion.split('.').collect();
            let claims: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
            let verified = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(
                    format!("{}.{}", parts[0], parts[1]).as_bytes(),
                    &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
                )
                .is_ok();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            if !verified
                || !form
                    .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
                || claims["aud"] != tu.lock().unwrap().as_str()
                || claims["iss"] != "cli-test@apicall.iam.gserviceaccount.com"
                || (claims["iat"].as_i64().unwrap() - now).abs() > 60
            {
                return (
                    400,
                    "application/json",
                    br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
                        .to_vec(),
                );
            }
            return (
                200,
                "application/json",
                br#"{"access_token":"ya29.cli","expires_in":3599,"token_type":"Bearer"}"#.to_vec(),
            );
        }
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer ya29.cli") {
            return err(401, "Request had invalid authentication credentials.");
        }
        let b = r.json();
        let c = &b["config"];
        if r.path != "/v1/speech:recognize"
            || c["encoding"] != "LINEAR16"
            || c["sampleRateHertz"] != 16000
            || c["languageCode"] != "it-IT"
        {
            return err(400, "Invalid recognition 'config'");
        }
        (
            200,
            "application/json",
            json!({"results": [{"alternatives": [
                {"transcript": "sì grazie", "confidence": 0.87},
                {"transcript": "si grazie"}]}]})
            .to_string()
            .into_bytes(),
        )
    }));
    *token_url.lock().unwrap() = format!("{base}/token");
    let creds = tmp("google-auth.json");
    std::fs::write(
        &creds,
        json!({"type": "service_account", "project_id": "apicall", "private_key_id": "k1",
               "private_key": pem, "client_email": "cli-test@apicall.iam.gserviceaccount.com",
               "token_uri": format!("{base}/token")})
        .to_string(),
    )
    .unwrap();
    let wav = tmp("italian.wav");
    std::fs::write(&wav, tone(16000, 0.8).to_wav_bytes().unwrap()).unwrap();
    let settings = json!({"stt_provider": "google", "google_credentials_file": creds,
                          "google_stt_url": base, "google_token_url": ""})
    .to_string();
    let (out, v) = apicall(
        &[
            "stt",
            wav.to_str().unwrap(),
            "--lang",
            "it",
            "--config",
            "-",
        ],
        Some(&settings),
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["provider"], "google-stt");
    assert_eq!(
        v["alternatives"],
        json!([{"transcript": "sì grazie", "confidence": 0.87f32},
               {"transcript": "si grazie", "confidence": 0.0}])
    );
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/token", "/v1/speech:recognize"]);
}

#[test]
fn stt_failure_is_json_with_every_reason() {
    let (base, _) = standin(Box::new(|_| {
        (
            429,
            "application/json",
            br#"{"error":{"message":"Rate limit reached for whisper-1"}}"#.to_vec(),
        )
    }));
    let wav = tmp("fail.wav");
    std::fs::write(&wav, tone(8000, 0.5).to_wav_bytes().unwrap()).unwrap();
    let (out, v) = apicall(
        &[
            "stt",
            wav.to_str().unwrap(),
            "--lang",
            "en",
            "--provider",
            "local,openai",
            "--set",
            &format!("stt_url={}", closed_port()),
            "--set",
            &format!("openai_base_url={base}"),
            "--set",
            "openai_api_key=sk-test",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "all_failed");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("cannot reach"), "{msg}");
    assert!(msg.contains("Rate limit reached"), "{msg}");
    assert!(!msg.contains("sk-test"), "{msg}");
}

#[test]
fn providers_reports_each_one() {
    let (base, _) = standin(Box::new(|r| {
        if r.path == "/v1/models" {
            (
                200,
                "application/json",
                br#"{"object":"list","data":[{"id":"whisper-tiny.en","object":"model"}]}"#.to_vec(),
            )
        } else {
            (404, "application/json", b"{}".to_vec())
        }
    }));
    let (out, v) = apicall(
        &[
            "providers",
            "--set",
            &format!("stt_url={base}"),
            "--set",
            "tts_provider=local,google",
            "--set",
            "google_credentials_file=/nonexistent/google-auth.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "google cannot work: {v}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["tts"], json!(["local", "google", "espeak"]));
    assert_eq!(v["stt"], json!(["local"]));
    let list = v["providers"].as_array().unwrap();
    let oks: Vec<(String, String, bool)> = list
        .iter()
        .map(|p| {
            (
                p["task"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
                p["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        oks,
        [
            ("tts".into(), "local".into(), true),
            ("tts".into(), "google".into(), false),
            ("tts".into(), "espeak".into(), true),
            ("stt".into(), "local".into(), true),
        ]
    );
    assert!(list[1]["detail"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/google-auth.json"));

    let (out, v) = apicall(&["providers", "--set", &format!("stt_url={base}")], None);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["ok"], true);
}
