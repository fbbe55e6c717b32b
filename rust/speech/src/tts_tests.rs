//! Tests of the TTS providers: espeak-ng for real (it is installed with the stack's
//! dependencies), the OpenAI-compatible client against stand-ins that check each request as
//! OpenAI and as the local speech service would receive it, and the fallback chain.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::standin::{serve, Reply, Request, Verdict};
use crate::testutil::tone;

/// OpenAI's voices (the speech endpoint refuses any other).
const OPENAI_VOICES: [&str; 13] = [
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage",
    "shimmer", "verse",
];

fn openai_error(status: u16, msg: &str, code: Option<&str>) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"message": msg, "type": "invalid_request_error", "param": null, "code": code}}),
    )
}

/// A WAV as OpenAI streams it: 24 kHz mono 16-bit, with the RIFF and data sizes unknown
/// (0xFFFFFFFF) because the header goes out before the audio is made.
fn streamed_wav(pcm: &Pcm) -> Vec<u8> {
    let mut w = pcm.to_wav_bytes().unwrap();
    w[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    w[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    w
}

/// The checks OpenAI's `POST /v1/audio/speech` makes, with its statuses.
fn check_as_openai(r: &Request, key: Option<&str>) -> Result<serde_json::Value, (u16, String)> {
    if let Some(key) = key {
        if r.header("authorization") != Some(format!("Bearer {key}").as_str()) {
            return Err((401, "Incorrect API key provided: sk-wr***ng.".into()));
        }
    }
    if r.method != "POST" || r.path != "/v1/audio/speech" {
        return Err((404, format!("Invalid URL ({} {})", r.method, r.path)));
    }
    if !r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err((400, "Content-Type must be application/json".into()));
    }
    let body = r.json().map_err(|e| (400, e))?;
    let obj = body
        .as_object()
        .ok_or((400, "body is not an object".to_string()))?;
    for k in obj.keys() {
        if ![
            "model",
            "input",
            "voice",
            "response_format",
            "speed",
            "instructions",
        ]
        .contains(&k.as_str())
        {
            return Err((400, format!("Unrecognized request argument supplied: {k}")));
        }
    }
    match obj.get("model").and_then(|m| m.as_str()) {
        Some("tts-1" | "tts-1-hd" | "gpt-4o-mini-tts") => {}
        other => return Err((400, format!("Invalid model: {other:?}"))),
    }
    let input = obj.get("input").and_then(|i| i.as_str()).unwrap_or("");
    if input.is_empty() || input.chars().count() > 4096 {
        return Err((400, "input must be 1 to 4096 characters".into()));
    }
    let voice = obj.get("voice").and_then(|v| v.as_str()).unwrap_or("");
    if !OPENAI_VOICES.contains(&voice) {
        return Err((400, format!("Invalid value for 'voice': {voice:?}.")));
    }
    if let Some(f) = obj.get("response_format") {
        if !["mp3", "opus", "aac", "flac", "wav", "pcm"].contains(&f.as_str().unwrap_or("")) {
            return Err((400, format!("Invalid value for 'response_format': {f}.")));
        }
    }
    Ok(body)
}

/// The local service: OpenAI's checks, plus its own `language` and `sample_rate` fields.
fn check_as_local(r: &Request) -> Result<serde_json::Value, (u16, String)> {
    if r.method != "POST" || r.path != "/v1/audio/speech" {
        return Err((404, format!("no route {} {}", r.method, r.path)));
    }
    if r.header("authorization").is_some() {
        return Err((400, "the local service takes no key".into()));
    }
    let body = r.json().map_err(|e| (400, e))?;
    let lang = body["language"].as_str().unwrap_or("");
    let ok_lang = lang.len() == 2 || (lang.len() == 5 && &lang[2..3] == "-");
    if !ok_lang || lang[..2].chars().any(|c| !c.is_ascii_lowercase()) {
        return Err((400, format!("unsupported language {lang:?}")));
    }
    if !body["sample_rate"].is_u64() {
        return Err((400, "sample_rate must be a number".into()));
    }
    Ok(body)
}

fn refuse(status: u16, msg: String) -> Verdict {
    (openai_error(status, &msg, None), Some(msg))
}

fn openai(base: &str, key: Option<&str>, timeout_ms: u64) -> OpenAiTts {
    OpenAiTts::new(OpenAiTtsConfig {
        base_url: base.to_string(),
        model: "tts-1".into(),
        voice: "alloy".into(),
        api_key: key.map(str::to_string),
        send_language: false,
        sample_rate: None,
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(timeout_ms),
    })
    .unwrap()
}

fn local(base: &str) -> OpenAiTts {
    OpenAiTts::new(OpenAiTtsConfig {
        base_url: base.to_string(),
        model: "tts-1".into(),
        voice: "alloy".into(),
        api_key: None,
        send_language: true,
        sample_rate: Some(8000),
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

/// A stand-in for OpenAI that answers `audio` to every valid request.
async fn openai_standin(key: Option<&'static str>, audio: Vec<u8>) -> crate::standin::Standin {
    serve(move |r| match check_as_openai(r, key) {
        Ok(_) => (Reply::bytes(200, "audio/wav", audio.clone()), None),
        Err((s, m)) => refuse(s, m),
    })
    .await
}

#[tokio::test]
async fn openai_request_is_what_openai_expects_and_streamed_wav_is_read() {
    let speech = tone(24000, 220.0, 1.5, 8000.0);
    let server = openai_standin(Some("sk-test"), streamed_wav(&speech)).await;
    let p = openai(&server.base, Some("sk-test"), 5000);
    assert_eq!(p.url(), format!("{}/v1/audio/speech", server.base));
    let pcm = p
        .synthesize("Hello, this is a test call.", "en-US", "nova")
        .await
        .unwrap();
    assert_eq!(pcm, speech);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].refused, None);
    assert_eq!(
        reqs[0].json().unwrap(),
        json!({"model": "tts-1", "voice": "nova", "input": "Hello, this is a test call.",
               "response_format": "wav"})
    );
}

#[tokio::test]
async fn voices_of_other_engines_become_the_default_voice() {
    let server = openai_standin(
        None,
        tone(24000, 220.0, 0.3, 8000.0).to_wav_bytes().unwrap(),
    )
    .await;
    let p = openai(&server.base, None, 5000);
    for v in ["it-IT-Wavenet-A", "f3", "", "  ", "Nova"] {
        p.synthesize("Buongiorno", "it_IT", v).await.unwrap();
    }
    for r in server.requests() {
        assert_eq!(r.refused, None);
        assert_eq!(r.json().unwrap()["voice"], "alloy");
        assert_eq!(r.header("authorization"), None);
    }
}

#[tokio::test]
async fn local_service_gets_language_and_rate() {
    let speech = tone(8000, 300.0, 1.0, 8000.0);
    let wav = speech.to_wav_bytes().unwrap();
    let server = serve(move |r| match check_as_local(r) {
        Ok(_) => (Reply::bytes(200, "audio/wav", wav.clone()), None),
        Err((s, m)) => refuse(s, m),
    })
    .await;
    let pcm = local(&server.base)
        .synthesize("Buongiorno, la chiamo per conferma.", "it_IT", "")
        .await
        .unwrap();
    assert_eq!(pcm, speech);
    let r = &server.requests()[0];
    assert_eq!(r.refused, None);
    assert_eq!(
        r.json().unwrap(),
        json!({"model": "tts-1", "voice": "alloy", "input": "Buongiorno, la chiamo per conferma.",
               "response_format": "wav", "language": "it-IT", "sample_rate": 8000})
    );

    // OpenAI itself refuses the local service's extra fields, which is why only `local` sends them.
    let openai_server = openai_standin(None, vec![]).await;
    let err = local(&openai_server.base)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Http { status: 400, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("Unrecognized request argument supplied: language"),
        "{err}"
    );
}

#[tokio::test]
async fn an_mp3_reply_is_decoded_too() {
    let speech = tone(24000, 440.0, 1.0, 8000.0);
    let mp3 = crate::encode_mp3(&speech).unwrap();
    let server = serve(move |_| (Reply::bytes(200, "audio/mpeg", mp3.clone()), None)).await;
    let pcm = openai(&server.base, None, 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap();
    assert_eq!(pcm.rate, 24000);
    assert!(
        (pcm.duration_secs() - 1.0).abs() < 0.05,
        "{}",
        pcm.duration_secs()
    );
}

#[tokio::test]
async fn openai_errors_are_clear() {
    let wav = tone(24000, 220.0, 0.3, 8000.0).to_wav_bytes().unwrap();
    let server = openai_standin(Some("sk-right"), wav).await;
    let err = openai(&server.base, Some("sk-wrong"), 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TtsError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
    assert!(err.try_next());
    assert_eq!(err.code(), "unauthorized");

    let server = serve(|_| {
        (
            Reply::Raw(
                429,
                vec![("retry-after", "7".into())],
                "application/json",
                br#"{"error":{"message":"Rate limit reached for tts-1","type":"requests","code":"rate_limit_exceeded"}}"#.to_vec(),
            ),
            None,
        )
    })
    .await;
    let err = openai(&server.base, None, 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TtsError::RateLimited {
                retry_after: Some(7),
                ..
            }
        ),
        "{err}"
    );

    let server = serve(|_| {
        (
            openai_error(503, "The engine is currently overloaded", None),
            None,
        )
    })
    .await;
    let err = openai(&server.base, None, 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Server { status: 503, .. }), "{err}");
    assert!(err.to_string().contains("overloaded"), "{err}");

    // A 200 that is not audio (a captive portal, a JSON body) says what came.
    let server = serve(|_| (Reply::json(200, &json!({"status": "queued"})), None)).await;
    let err = openai(&server.base, None, 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::BadReply { .. }), "{err}");
    assert!(err.to_string().contains("application/json"), "{err}");
    assert!(err.to_string().contains("queued"), "{err}");

    let server = serve(|_| (Reply::Hang(Duration::from_secs(5)), None)).await;
    let t = Instant::now();
    let err = openai(&server.base, None, 300)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Timeout { .. }), "{err}");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );

    let server = serve(|_| (Reply::Close, None)).await;
    let err = openai(&server.base, None, 5000)
        .synthesize("Hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn openai_check_lists_models() {
    let server = serve(|r| {
        if r.method == "GET" && r.path == "/v1/models" {
            (
                Reply::json(
                    200,
                    &json!({"object": "list", "data": [
                        {"id": "tts-1", "object": "model", "created": 1, "owned_by": "system"},
                        {"id": "whisper-1", "object": "model", "created": 1, "owned_by": "system"}]}),
                ),
                None,
            )
        } else {
            refuse(404, format!("Invalid URL ({} {})", r.method, r.path))
        }
    })
    .await;
    let detail = openai(&server.base, None, 5000).check().await.unwrap();
    assert_eq!(detail, "answers; model tts-1 listed");
    let err = openai("http://127.0.0.1:9", None, 1000)
        .check()
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Unreachable { .. }), "{err}");
}

#[test]
fn config_is_checked_and_key_is_not_logged() {
    let cfg = OpenAiTtsConfig {
        base_url: "https://api.openai.com/v1/".into(),
        model: "tts-1".into(),
        voice: "alloy".into(),
        api_key: Some("sk-secret".into()),
        send_language: false,
        sample_rate: None,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
    };
    let p = OpenAiTts::new(cfg.clone()).unwrap();
    assert_eq!(p.url(), "https://api.openai.com/v1/audio/speech");
    assert!(!format!("{p:?}").contains("sk-secret"));
    for bad in [
        OpenAiTtsConfig {
            base_url: "file:///etc".into(),
            ..cfg.clone()
        },
        OpenAiTtsConfig {
            model: "".into(),
            ..cfg.clone()
        },
        OpenAiTtsConfig {
            voice: " ".into(),
            ..cfg.clone()
        },
        OpenAiTtsConfig {
            connect_timeout: Duration::ZERO,
            ..cfg.clone()
        },
    ] {
        assert!(matches!(OpenAiTts::new(bad), Err(TtsError::Config { .. })));
    }
}

#[test]
fn names_and_tags() {
    assert_eq!(bcp47("it_IT"), "it-IT");
    assert_eq!(bcp47("en-us"), "en-US");
    assert_eq!(bcp47("IT"), "it");
    assert_eq!(bcp47("de_DE.UTF-8"), "de-DE");
    assert_eq!(bcp47("es-419"), "es-419");
    assert_eq!(bcp47(""), "");
    assert!(is_openai_voice("alloy"));
    assert!(is_openai_voice("en_us-joe"));
    assert!(!is_openai_voice("it-IT-Wavenet-A"));
    assert!(!is_openai_voice("f3"));
    assert!(!is_openai_voice("nova; rm"));
}

#[test]
fn espeak_voices_map_to_espeak_names() {
    assert_eq!(EspeakTts::voice_for("it", ""), "it");
    assert_eq!(EspeakTts::voice_for("it_IT", ""), "it");
    assert_eq!(EspeakTts::voice_for("en_US", ""), "en-us");
    assert_eq!(EspeakTts::voice_for("en-GB", "f3"), "en-gb+f3");
    assert_eq!(EspeakTts::voice_for("it_IT", "it-IT-Wavenet-A"), "it");
    assert_eq!(EspeakTts::voice_for("", ""), "en");
}

#[tokio::test]
async fn espeak_speaks_text_that_looks_like_options() {
    let engine = EspeakTts::new("espeak-ng");
    // On stdin, this is only text: spoken, never an option or a command.
    let pcm = engine
        .synthesize("-v --help; rm -rf /", "en_US", "")
        .await
        .expect("espeak-ng must be installed (tests/stack/install-deps.sh)");
    assert_eq!(pcm.rate, 22050);
    assert!(pcm.duration_secs() > 1.0, "{}", pcm.duration_secs());
    assert!(pcm.rms_dbfs() > -40.0, "{}", pcm.rms_dbfs());
    let it = engine
        .synthesize("Buongiorno, questa è una chiamata di prova.", "it_IT", "f3")
        .await
        .unwrap();
    assert!(it.duration_secs() > 1.5, "{}", it.duration_secs());
    assert!(engine.check().await.unwrap().contains("eSpeak NG"));
}

/// A stand-in program for espeak-ng, written for the test.
fn fake_program(name: &str, script: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("apicall-tts-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn espeak_failures_are_clear() {
    let err = EspeakTts::new("/nonexistent/espeak-ng")
        .synthesize("hello", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::Engine { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/espeak-ng"), "{err}");
    assert!(err.try_next());

    let failing = fake_program(
        "fails",
        "cat >/dev/null; echo 'no voice named xx' >&2; exit 1",
    );
    let err = EspeakTts::new(failing)
        .synthesize("hello", "xx", "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no voice named xx"), "{err}");

    let silent = fake_program("silent", "cat >/dev/null; exit 0");
    let err = EspeakTts::new(silent)
        .synthesize("hello", "en", "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("its output"), "{err}");

    let hangs = fake_program("hangs", "exec sleep 30");
    let t = Instant::now();
    let err = EspeakTts::new(hangs)
        .with_timeout(Duration::from_millis(300))
        .synthesize("hello", "en", "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("killed"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    let err = EspeakTts::new("espeak-ng")
        .synthesize(" \n", "en", "")
        .await
        .unwrap_err();
    assert!(matches!(err, TtsError::BadText { .. }), "{err}");
    assert!(!err.try_next());
}

#[tokio::test]
async fn fallback_goes_to_the_next_provider_and_says_which_spoke() {
    let down = openai("http://127.0.0.1:9", None, 1000);
    let chain = TtsFallback::new(vec![Box::new(down), Box::new(EspeakTts::new("espeak-ng"))]);
    assert_eq!(
        chain.name(),
        "fallback[openai-tts(http://127.0.0.1:9), espeak-ng]"
    );
    let Chained {
        value: pcm,
        provider: by,
        failed,
    } = chain.synthesize_from("Hello", "en", "").await.unwrap();
    assert_eq!(by, "espeak-ng");
    assert!(
        matches!(&failed[..], [TtsError::Unreachable { .. }]),
        "{failed:?}"
    );
    assert!(pcm.duration_secs() > 0.3);

    // The default voice fills in when the request names none.
    let server = openai_standin(
        None,
        tone(24000, 220.0, 0.3, 8000.0).to_wav_bytes().unwrap(),
    )
    .await;
    let chain = TtsFallback::new(vec![Box::new(openai(&server.base, None, 5000))])
        .with_default_voice("shimmer");
    chain.synthesize("Hello", "en", "").await.unwrap();
    chain.synthesize("Hello", "en", "echo").await.unwrap();
    let voices: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.json().unwrap()["voice"].clone())
        .collect();
    assert_eq!(voices, [json!("shimmer"), json!("echo")]);

    // Nothing to say stops the chain; every provider failing names each failure.
    let err = chain.synthesize("", "en", "").await.unwrap_err();
    assert!(matches!(err, TtsError::BadText { .. }), "{err}");
    let chain = TtsFallback::new(vec![
        Box::new(openai("http://127.0.0.1:9", None, 1000)),
        Box::new(EspeakTts::new("/nonexistent/espeak-ng")),
    ]);
    let err = chain.synthesize("Hello", "en", "").await.unwrap_err();
    assert!(
        matches!(&err, TtsError::AllFailed { errors, .. } if errors.len() == 2),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("no text-to-speech provider succeeded: openai-tts("),
        "{msg}"
    );
    assert!(msg.contains("/nonexistent/espeak-ng"), "{msg}");
}
