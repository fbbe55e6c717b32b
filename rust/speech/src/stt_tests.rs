//! Tests of the OpenAI-compatible provider against a stand-in server run inside the test.
//!
//! The stand-in reads the raw HTTP request off a loopback socket and parses it by hand (request
//! line, headers, Content-Length or chunked body, multipart parts by their boundary), so what is
//! checked is what travels on the wire, not what a client library meant to send. It rejects a
//! request the way OpenAI would (400 with an `invalid_request_error`, 401 for a wrong key), and
//! otherwise answers what the test asks: a realistic verbose_json, an error status, garbage,
//! silence past the timeout, or a dropped connection.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::*;
use crate::testutil::{espeak_8k, tone};

#[derive(Debug, Default)]
struct Captured {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    parts: Vec<FormPart>,
    /// Why the stand-in refused the request, if it did.
    refused: Option<String>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn field(&self, name: &str) -> Option<String> {
        self.parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8(p.data.clone()).unwrap())
    }

    fn file(&self) -> &FormPart {
        self.parts.iter().find(|p| p.name == "file").unwrap()
    }
}

#[derive(Debug)]
struct FormPart {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

enum Reply {
    /// Status, extra headers, content type, body.
    Raw(u16, Vec<(&'static str, String)>, &'static str, String),
    /// Reads the request, then says nothing for this long.
    Hang(Duration),
    /// Reads the request, then closes the connection.
    Close,
}

fn json(status: u16, body: &str) -> Reply {
    Reply::Raw(status, vec![], "application/json", body.to_string())
}

/// What OpenAI answers for a short English answer (the shape of a real whisper-1 reply).
fn verbose(text: &str, segments: &[(f64, f64, f64)]) -> Reply {
    let segs: Vec<serde_json::Value> = segments
        .iter()
        .enumerate()
        .map(|(i, &(start, end, lp))| {
            serde_json::json!({
                "id": i, "seek": 0, "start": start, "end": end, "text": format!(" {text}"),
                "tokens": [50364, 7192, 11, 286, 576, 411, 281, 751, 281, 5763, 13, 50464],
                "temperature": 0.0, "avg_logprob": lp, "compression_ratio": 0.8571428571428571,
                "no_speech_prob": 0.0123
            })
        })
        .collect();
    let duration = segments.last().map(|s| s.1).unwrap_or(0.0);
    let body = serde_json::json!({
        "task": "transcribe", "language": "english", "duration": duration,
        "text": format!(" {text}"), "segments": segs,
        "usage": {"type": "duration", "seconds": duration.ceil()}
    });
    json(200, &body.to_string())
}

/// Starts a stand-in for one request; `key` is the API key it demands, if any.
async fn standin(reply: Reply, key: Option<&str>) -> (String, JoinHandle<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key = key.map(str::to_string);
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut cap = read_request(&mut sock).await;
        cap.refused = check_as_openai(&cap, key.as_deref()).err();
        let reply = match &cap.refused {
            Some((401, msg)) => json(
                401,
                &serde_json::json!({"error": {"message": msg, "type": "invalid_request_error",
                    "param": null, "code": "invalid_api_key"}})
                .to_string(),
            ),
            Some((status, msg)) => json(
                *status,
                &serde_json::json!({"error": {"message": msg, "type": "invalid_request_error",
                    "param": null, "code": null}})
                .to_string(),
            ),
            None => reply,
        };
        match reply {
            Reply::Raw(status, extra, ctype, body) => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (n, v) in extra {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("\r\n");
                sock.write_all(head.as_bytes()).await.unwrap();
                sock.write_all(body.as_bytes()).await.unwrap();
                let _ = sock.shutdown().await;
            }
            Reply::Hang(d) => tokio::time::sleep(d).await,
            Reply::Close => drop(sock),
        }
        Captured::from(cap)
    });
    (base, task)
}

struct RawCapture {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    parts: Vec<FormPart>,
    refused: Option<(u16, String)>,
    content_type_ok: Result<(), String>,
}

impl From<RawCapture> for Captured {
    fn from(r: RawCapture) -> Self {
        Captured {
            method: r.method,
            path: r.path,
            headers: r.headers,
            parts: r.parts,
            refused: r.refused.map(|(_, m)| m),
        }
    }
}

async fn read_request(sock: &mut TcpStream) -> RawCapture {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut tmp).await.unwrap();
        assert!(n > 0, "client closed before sending headers");
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap().split(' ');
    let method = request_line.next().unwrap().to_string();
    let path = request_line.next().unwrap().to_string();
    assert_eq!(request_line.next(), Some("HTTP/1.1"));
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let get = |n: &str| headers.iter().find(|(h, _)| h == n).map(|(_, v)| v.clone());
    let mut body = buf[head_end + 4..].to_vec();
    if let Some(len) = get("content-length") {
        let len: usize = len.parse().unwrap();
        while body.len() < len {
            let n = sock.read(&mut tmp).await.unwrap();
            assert!(n > 0, "body shorter than content-length");
            body.extend_from_slice(&tmp[..n]);
        }
    } else if get("transfer-encoding").as_deref() == Some("chunked") {
        body = read_chunked(sock, body).await;
    }
    let (parts, content_type_ok) = match get("content-type") {
        Some(ct) => match ct.strip_prefix("multipart/form-data; boundary=") {
            Some(b) if !b.is_empty() => match parse_multipart(&body, b) {
                Ok(p) => (p, Ok(())),
                Err(e) => (vec![], Err(e)),
            },
            _ => (
                vec![],
                Err(format!("content type {ct:?} is not multipart/form-data")),
            ),
        },
        None => (vec![], Err("no content type".into())),
    };
    RawCapture {
        method,
        path,
        headers,
        parts,
        refused: None,
        content_type_ok,
    }
}

async fn read_chunked(sock: &mut TcpStream, mut raw: Vec<u8>) -> Vec<u8> {
    let mut tmp = [0u8; 8192];
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while !raw[pos..].windows(2).any(|w| w == b"\r\n") {
            let n = sock.read(&mut tmp).await.unwrap();
            raw.extend_from_slice(&tmp[..n]);
        }
        let eol = pos + raw[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[pos..eol]).unwrap().trim(), 16).unwrap();
        while raw.len() < eol + 2 + size + 2 {
            let n = sock.read(&mut tmp).await.unwrap();
            raw.extend_from_slice(&tmp[..n]);
        }
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        pos = eol + 2 + size + 2;
    }
}

/// multipart/form-data as RFC 7578 defines it: parts between `--boundary` lines, each with
/// headers, a blank line and the data; the last delimiter is `--boundary--`.
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<FormPart>, String> {
    let delim = format!("--{boundary}");
    let find = |hay: &[u8], from: usize, needle: &[u8]| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    if !body.starts_with(delim.as_bytes()) {
        return Err("body does not start with the boundary".into());
    }
    let mut parts = Vec::new();
    let mut pos = delim.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err("no CRLF after a boundary".into());
        }
        pos += 2;
        let head_end = find(body, pos, b"\r\n\r\n").ok_or("part without a header end")?;
        let head = std::str::from_utf8(&body[pos..head_end]).map_err(|e| e.to_string())?;
        let next = find(body, head_end + 4, format!("\r\n{delim}").as_bytes())
            .ok_or("part without a closing boundary")?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let (h, v) = line.split_once(':').ok_or("bad part header")?;
            match h.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    let mut it = v.split(';').map(str::trim);
                    if it.next() != Some("form-data") {
                        return Err(format!("disposition {v:?}"));
                    }
                    for kv in it {
                        let (k, val) = kv.split_once('=').ok_or("bad disposition param")?;
                        let val = val.trim_matches('"').to_string();
                        match k {
                            "name" => name = Some(val),
                            "filename" => filename = Some(val),
                            _ => {}
                        }
                    }
                }
                "content-type" => content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        parts.push(FormPart {
            name: name.ok_or("part without a name")?,
            filename,
            content_type,
            data: body[head_end + 4..next].to_vec(),
        });
        pos = next + 2 + delim.len();
    }
}

/// The checks OpenAI's endpoint makes, with its statuses: 401 for the key, 404 for the path,
/// 400 for the form.
fn check_as_openai(c: &RawCapture, key: Option<&str>) -> Result<(), (u16, String)> {
    if let Some(key) = key {
        if c.headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.as_str())
            != Some(format!("Bearer {key}").as_str())
        {
            return Err((401, "Incorrect API key provided: sk-wr***ng.".into()));
        }
    }
    if c.method != "POST" || c.path != "/v1/audio/transcriptions" {
        return Err((404, format!("Invalid URL ({} {})", c.method, c.path)));
    }
    c.content_type_ok.clone().map_err(|e| (400, e))?;
    let known = [
        "file",
        "model",
        "language",
        "prompt",
        "response_format",
        "temperature",
    ];
    for p in &c.parts {
        if !known.contains(&p.name.as_str()) {
            return Err((
                400,
                format!("Unrecognized request argument supplied: {}", p.name),
            ));
        }
    }
    let field = |n: &str| c.parts.iter().find(|p| p.name == n);
    let file = field("file").ok_or((400, "you must provide a 'file' field".to_string()))?;
    let fname = file.filename.as_deref().unwrap_or("");
    let ext = fname.rsplit('.').next().unwrap_or("");
    if ![
        "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
    ]
    .contains(&ext)
    {
        return Err((400, format!("Invalid file format {fname:?}")));
    }
    let pcm = Pcm::from_wav_bytes(&file.data).map_err(|e| (400, format!("Invalid file: {e}")))?;
    if !matches!(pcm.rate, 8000 | 16000) || pcm.samples.is_empty() {
        return Err((
            400,
            format!(
                "unexpected audio: {} Hz, {} samples",
                pcm.rate,
                pcm.samples.len()
            ),
        ));
    }
    match field("model") {
        Some(m) if !m.data.is_empty() => {}
        _ => return Err((400, "you must provide a model parameter".into())),
    }
    if let Some(f) = field("response_format") {
        let v = std::str::from_utf8(&f.data).unwrap_or("");
        if !["json", "text", "srt", "verbose_json", "vtt"].contains(&v) {
            return Err((400, format!("'{v}' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - 'response_format'")));
        }
    }
    if let Some(l) = field("language") {
        if l.data.len() != 2 || !l.data.iter().all(u8::is_ascii_lowercase) {
            return Err((
                400,
                "Invalid language. Language parameter must be specified in ISO-639-1 format."
                    .into(),
            ));
        }
    }
    Ok(())
}

fn provider(base: &str, key: Option<&str>, timeout_ms: u64) -> OpenAiStt {
    OpenAiStt::new(OpenAiSttConfig {
        base_url: base.to_string(),
        model: "whisper-1".into(),
        api_key: key.map(str::to_string),
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(timeout_ms),
    })
    .unwrap()
}

fn hints(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn request_is_what_openai_expects_and_reply_is_read() {
    let speech = espeak_8k("yes, I would like to talk to sales");
    let (base, server) = standin(
        verbose("Yes, I would like to talk to sales.", &[(0.0, 2.4, -0.21)]),
        Some("sk-test"),
    )
    .await;
    let p = provider(&base, Some("sk-test"), 5000);
    let alts = p
        .transcribe(
            &speech,
            "en-US",
            &hints(&["sales", " support ", "", "billing"]),
        )
        .await
        .unwrap();
    let cap = server.await.unwrap();
    assert_eq!(cap.refused, None);
    assert_eq!(cap.method, "POST");
    assert_eq!(cap.path, "/v1/audio/transcriptions");
    assert_eq!(cap.header("authorization"), Some("Bearer sk-test"));
    assert!(cap
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert_eq!(cap.field("model").as_deref(), Some("whisper-1"));
    assert_eq!(cap.field("language").as_deref(), Some("en"));
    assert_eq!(
        cap.field("prompt").as_deref(),
        Some("sales, support, billing")
    );
    assert_eq!(
        cap.field("response_format").as_deref(),
        Some("verbose_json")
    );
    let file = cap.file();
    assert_eq!(file.filename.as_deref(), Some("answer.wav"));
    assert_eq!(file.content_type.as_deref(), Some("audio/wav"));
    // The WAV carries the answer exactly, at its own 8 kHz.
    assert_eq!(Pcm::from_wav_bytes(&file.data).unwrap(), speech);

    assert_eq!(alts.len(), 1);
    assert_eq!(alts[0].transcript, "Yes, I would like to talk to sales.");
    assert!(
        (alts[0].confidence - (-0.21f32).exp()).abs() < 1e-6,
        "{alts:?}"
    );
}

#[tokio::test]
async fn italian_locale_no_hints_no_key_and_odd_rates() {
    // 22.05 kHz (what espeak-ng writes) goes up as 16 kHz; no prompt field without hints; no
    // Authorization header without a key; it_IT becomes "it".
    let audio = tone(22050, 440.0, 1.0, 5000.0);
    let (base, server) = standin(verbose("Sì, grazie.", &[(0.0, 1.0, -0.4)]), None).await;
    let alts = provider(&base, None, 5000)
        .transcribe(&audio, "it_IT", &[])
        .await
        .unwrap();
    let cap = server.await.unwrap();
    assert_eq!(cap.refused, None);
    assert_eq!(cap.field("language").as_deref(), Some("it"));
    assert_eq!(cap.field("prompt"), None);
    assert_eq!(cap.header("authorization"), None);
    let sent = Pcm::from_wav_bytes(&cap.file().data).unwrap();
    assert_eq!(sent.rate, 16000);
    assert!((sent.duration_secs() - 1.0).abs() < 0.01);
    assert_eq!(alts[0].transcript, "Sì, grazie.");

    // An empty language is left to the engine.
    let (base, server) = standin(verbose("hello", &[(0.0, 1.0, -0.1)]), None).await;
    provider(&base, None, 5000)
        .transcribe(&audio, "", &[])
        .await
        .unwrap();
    assert_eq!(server.await.unwrap().field("language"), None);
}

#[tokio::test]
async fn confidence_is_duration_weighted_and_defaults_to_one() {
    let audio = tone(8000, 300.0, 1.0, 5000.0);
    let (base, _s) = standin(
        verbose("one two three four", &[(0.0, 1.0, -0.1), (1.0, 4.0, -0.5)]),
        None,
    )
    .await;
    let alts = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap();
    let expect = ((-0.1f64).exp() * 1.0 + (-0.5f64).exp() * 3.0) / 4.0;
    assert!(
        (f64::from(alts[0].confidence) - expect).abs() < 1e-6,
        "{alts:?}"
    );

    // A plain `json` reply (no segments): nothing says the transcript is doubtful.
    let (base, _s) = standin(json(200, r#"{"text":"hello there"}"#), None).await;
    let alts = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap();
    assert_eq!(
        alts,
        vec![Alternative {
            transcript: "hello there".into(),
            confidence: 1.0
        }]
    );

    // Silence: no words, no alternative.
    let (base, _s) = standin(verbose("", &[]), None).await;
    assert!(provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn wrong_key_is_unauthorized() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let (base, server) = standin(verbose("x", &[]), Some("sk-right")).await;
    let err = provider(&base, Some("sk-wrong"), 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    server.await.unwrap();
    assert!(
        matches!(err, SttError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(401));
    assert!(
        err.to_string().contains("Incorrect API key provided"),
        "{err}"
    );
    assert!(err.try_next());
}

#[tokio::test]
async fn rate_limit_and_server_errors() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let body = r#"{"error":{"message":"Rate limit reached for whisper-1","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    let (base, _s) = standin(
        Reply::Raw(
            429,
            vec![("retry-after", "20".into())],
            "application/json",
            body.into(),
        ),
        None,
    )
    .await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SttError::RateLimited {
                retry_after: Some(20),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Rate limit reached"), "{err}");

    let (base, _s) = standin(json(500, r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#), None).await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Server { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("had an error"), "{err}");

    // A proxy's HTML 503 page: the message is the start of the page.
    let (base, _s) = standin(
        Reply::Raw(
            503,
            vec![],
            "text/html",
            "<html><body><h1>503 Service Unavailable</h1></body></html>".into(),
        ),
        None,
    )
    .await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Server { status: 503, .. }), "{err}");
    assert!(err.to_string().contains("503 Service Unavailable"), "{err}");
}

#[tokio::test]
async fn wrong_path_is_an_http_error() {
    // A base URL pointing below some other prefix: the stand-in answers 404 like OpenAI does.
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let (base, server) = standin(verbose("x", &[]), None).await;
    let p = provider(&format!("{base}/api"), None, 5000);
    assert!(p.url().ends_with("/api/v1/audio/transcriptions"));
    let err = p.transcribe(&audio, "en", &[]).await.unwrap_err();
    assert!(server
        .await
        .unwrap()
        .refused
        .unwrap()
        .contains("Invalid URL"));
    assert!(matches!(err, SttError::Http { status: 404, .. }), "{err}");
}

#[tokio::test]
async fn slow_server_times_out_on_time() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let (base, _s) = standin(Reply::Hang(Duration::from_secs(5)), None).await;
    let t = Instant::now();
    let err = provider(&base, None, 300)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, SttError::Timeout { .. }), "{err}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[tokio::test]
async fn nobody_listening_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let err = provider(&format!("http://127.0.0.1:{port}"), None, 2000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let (base, _s) = standin(Reply::Close, None).await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn garbage_replies_are_bad_replies() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let (base, _s) = standin(
        Reply::Raw(
            200,
            vec![],
            "text/html",
            "<html><body>Welcome to nginx!</body></html>".into(),
        ),
        None,
    )
    .await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::BadReply { .. }), "{err}");
    assert!(err.to_string().contains("Welcome to nginx"), "{err}");

    let (base, _s) = standin(json(200, r#"{"transcript":"hello"}"#), None).await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing field `text`"), "{err}");

    let (base, _s) = standin(json(200, ""), None).await;
    let err = provider(&base, None, 5000)
        .transcribe(&audio, "en", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("(empty body)"), "{err}");
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let p = provider("http://127.0.0.1:9", None, 1000);
    let empty = Pcm {
        rate: 8000,
        samples: vec![],
    };
    let err = p.transcribe(&empty, "en", &[]).await.unwrap_err();
    assert!(matches!(err, SttError::BadAudio { .. }), "{err}");
    assert!(!err.try_next());
    let err = p
        .transcribe(&tone(8000, 300.0, 0.5, 5000.0), "english", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Config { .. }), "{err}");
}

#[test]
fn config_is_checked_and_key_is_not_logged() {
    let cfg = OpenAiSttConfig {
        base_url: "https://api.openai.com/v1/".into(),
        model: "whisper-1".into(),
        api_key: Some("sk-secret".into()),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
    };
    let p = OpenAiStt::new(cfg.clone()).unwrap();
    assert_eq!(p.url(), "https://api.openai.com/v1/audio/transcriptions");
    assert_eq!(p.name(), "openai(https://api.openai.com/v1)");
    assert!(!format!("{cfg:?}").contains("sk-secret"));
    assert!(!format!("{p:?}").contains("sk-secret"));
    for bad in [
        OpenAiSttConfig {
            base_url: "ftp://x".into(),
            ..cfg.clone()
        },
        OpenAiSttConfig {
            base_url: "not a url".into(),
            ..cfg.clone()
        },
        OpenAiSttConfig {
            model: " ".into(),
            ..cfg.clone()
        },
        OpenAiSttConfig {
            timeout: Duration::ZERO,
            ..cfg.clone()
        },
    ] {
        assert!(matches!(OpenAiStt::new(bad), Err(SttError::Config { .. })));
    }
}

#[test]
fn locales_and_prompts() {
    assert_eq!(iso639_1("it_IT").as_deref(), Some("it"));
    assert_eq!(iso639_1("en-US").as_deref(), Some("en"));
    assert_eq!(iso639_1("EN").as_deref(), Some("en"));
    assert_eq!(iso639_1("de_DE.UTF-8").as_deref(), Some("de"));
    assert_eq!(iso639_1("english"), None);
    assert_eq!(iso639_1(""), None);
    let many: Vec<String> = (0..200).map(|i| format!("phrase number {i}")).collect();
    let p = hints_prompt(&many);
    assert!(p.len() <= MAX_PROMPT_CHARS);
    assert!(
        p.ends_with(&format!("phrase number {}", p.matches(", ").count())),
        "{p}"
    );
}

/// A provider that fails in a fixed way, to test the fallback order.
struct Failing(fn() -> SttError);

impl SttProvider for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn transcribe<'a>(&'a self, _: &'a Pcm, _: &'a str, _: &'a [String]) -> SttFuture<'a> {
        let e = (self.0)();
        Box::pin(async move { Err(e) })
    }
}

#[tokio::test]
async fn fallback_tries_the_next_provider() {
    let audio = tone(8000, 300.0, 0.5, 5000.0);
    let unreachable = || SttError::Unreachable {
        provider: "a".into(),
        url: "u".into(),
        detail: "refused".into(),
    };
    let (base, _s) = standin(verbose("hello", &[(0.0, 1.0, -0.1)]), None).await;
    let chain = Fallback::new(vec![
        Box::new(Failing(unreachable)),
        Box::new(provider(&base, None, 5000)),
    ]);
    assert!(chain.name().starts_with("fallback[failing, openai("));
    let alts = chain.transcribe(&audio, "en", &[]).await.unwrap();
    assert_eq!(alts[0].transcript, "hello");

    let chain = Fallback::new(vec![
        Box::new(Failing(unreachable)),
        Box::new(Failing(unreachable)),
    ]);
    let err = chain.transcribe(&audio, "en", &[]).await.unwrap_err();
    assert!(
        matches!(&err, SttError::AllFailed { errors, .. } if errors.len() == 2),
        "{err}"
    );

    // Bad audio stops the chain: no other provider would take it either.
    let bad = || SttError::BadAudio {
        provider: "a".into(),
        detail: "no samples".into(),
    };
    let chain = Fallback::new(vec![Box::new(Failing(bad)), Box::new(Failing(unreachable))]);
    assert!(matches!(
        chain.transcribe(&audio, "en", &[]).await,
        Err(SttError::BadAudio { .. })
    ));
}
