//! Tests of the chains built from settings: names, order, defaults and refusals, and the chains
//! at work against stand-ins (a service that is down, OpenAI with its key).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::standin::{serve, Reply};
use crate::testutil::tone;
use crate::Chained;

fn settings(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn names_tts(p: &Providers) -> Vec<String> {
    p.tts()
        .providers()
        .iter()
        .map(|p| p.name().to_string())
        .collect()
}

fn names_stt(p: &Providers) -> Vec<String> {
    p.stt()
        .providers()
        .iter()
        .map(|p| p.name().to_string())
        .collect()
}

/// A port nobody listens on.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[test]
fn defaults_are_the_local_service_then_espeak() {
    let p = Providers::from_settings(&HashMap::new()).unwrap();
    assert_eq!(p.tts_kinds(), [Kind::Local, Kind::Espeak]);
    assert_eq!(p.stt_kinds(), [Kind::Local]);
    assert_eq!(
        names_tts(&p),
        ["openai-tts(http://127.0.0.1:8765)", "espeak-ng"]
    );
    assert_eq!(names_stt(&p), ["openai(http://127.0.0.1:8765)"]);
    // Empty values are the defaults too (FreePBX stores unset settings as '').
    let p = Providers::from_settings(&settings(&[("tts_provider", " "), ("stt_url", "")])).unwrap();
    assert_eq!(p.tts_kinds(), [Kind::Local, Kind::Espeak]);
}

#[test]
fn lists_set_the_order() {
    let p = Providers::from_settings(&settings(&[
        ("tts_provider", "google, openai"),
        ("stt_provider", "OpenAI,local,openai"),
        ("openai_base_url", "https://api.openai.com/v1"),
        ("stt_url", "http://127.0.0.1:9999/"),
    ]))
    .unwrap();
    assert_eq!(p.tts_kinds(), [Kind::Google, Kind::OpenAi]);
    assert_eq!(
        names_tts(&p),
        ["google-tts", "openai-tts(https://api.openai.com/v1)"]
    );
    assert_eq!(p.stt_kinds(), [Kind::OpenAi, Kind::Local]);
    assert_eq!(
        names_stt(&p),
        [
            "openai(https://api.openai.com/v1)",
            "openai(http://127.0.0.1:9999)"
        ]
    );
    // `local` with its own espeak position keeps it there.
    let p =
        Providers::from_settings(&settings(&[("tts_provider", "espeak,local,google")])).unwrap();
    assert_eq!(p.tts_kinds(), [Kind::Espeak, Kind::Local, Kind::Google]);
}

#[test]
fn bad_settings_are_refused_by_name() {
    for (key, value, expect) in [
        (
            "tts_provider",
            "local,azure",
            "tts_provider: unknown provider \"azure\"",
        ),
        ("stt_provider", "espeak", "espeak-ng does no speech-to-text"),
        ("stt_url", "ftp://127.0.0.1", "not http(s)"),
        ("openai_base_url", "not a url", "not a url"),
    ] {
        let mut s = settings(&[(key, value)]);
        if key == "openai_base_url" {
            s.insert("stt_provider".into(), "openai".into());
        }
        let err = Providers::from_settings(&s).unwrap_err();
        assert!(matches!(err, SpeechError::Config { .. }), "{err}");
        assert!(err.to_string().contains(expect), "{expect}: {err}");
    }
    let s = settings(&[("tts_provider", "google"), ("google_tts_url", "gopher://x")]);
    assert!(Providers::from_settings(&s).is_err());
    // Google credentials are read at use, not at build: a missing file is no build error.
    let s = settings(&[
        ("tts_provider", "google,local"),
        ("google_credentials_file", "/nonexistent/google-auth.json"),
    ]);
    assert!(Providers::from_settings(&s).is_ok());
}

#[tokio::test]
async fn a_service_that_is_down_falls_back_to_espeak() {
    let p = Providers::from_settings(&settings(&[("stt_url", &closed_port())])).unwrap();
    let Chained {
        value: pcm,
        provider: by,
        ..
    } = p
        .tts()
        .synthesize_from("Your appointment is confirmed.", "en-US", "")
        .await
        .unwrap();
    assert_eq!(by, "espeak-ng");
    assert!(pcm.duration_secs() > 1.0);
}

#[tokio::test]
async fn local_then_openai_with_key_and_default_voice() {
    let openai = serve(|r| {
        if r.header("authorization") != Some("Bearer sk-test") {
            return (
                Reply::json(
                    401,
                    &json!({"error": {"message": "Incorrect API key provided"}}),
                ),
                Some("key".into()),
            );
        }
        match r.path.as_str() {
            "/v1/audio/transcriptions" => {
                (Reply::json(200, &json!({"text": "talk to sales"})), None)
            }
            "/v1/audio/speech" => (
                Reply::bytes(
                    200,
                    "audio/wav",
                    tone(24000, 200.0, 0.5, 5000.0).to_wav_bytes().unwrap(),
                ),
                None,
            ),
            p => (
                Reply::json(
                    404,
                    &json!({"error": {"message": format!("Invalid URL {p}")}}),
                ),
                Some(p.to_string()),
            ),
        }
    })
    .await;
    let down = closed_port();
    let p = Providers::from_settings_with(
        &settings(&[
            ("tts_provider", "local,openai"),
            ("stt_provider", "local,openai"),
            ("stt_url", &down),
            ("openai_base_url", &openai.base),
            ("openai_api_key", "sk-test"),
            ("openai_tts_voice", "echo"),
            ("openai_stt_model", "whisper-1"),
            ("default_voice", "nova"),
        ]),
        Timeouts {
            connect: Duration::from_millis(500),
            stt: Duration::from_secs(5),
            tts: Duration::from_secs(5),
        },
    )
    .unwrap();
    assert_eq!(p.tts_kinds(), [Kind::Local, Kind::OpenAi, Kind::Espeak]);
    let Chained {
        value: alts,
        provider: by,
        ..
    } = p
        .stt()
        .transcribe_from(&tone(8000, 300.0, 0.5, 5000.0), "en", &["sales".into()])
        .await
        .unwrap();
    assert_eq!(alts[0].transcript, "talk to sales");
    assert!(by.starts_with("openai(http://127.0.0.1"), "{by}");
    let Chained {
        value: pcm,
        provider: by,
        ..
    } = p.tts().synthesize_from("Hello", "en", "").await.unwrap();
    assert_eq!(pcm.rate, 24000);
    assert!(by.starts_with("openai-tts("), "{by}");
    let speech = openai.to("/v1/audio/speech");
    assert_eq!(speech[0].json().unwrap()["voice"], "nova");
    assert!(openai.requests().iter().all(|r| r.refused.is_none()));
}

#[tokio::test]
async fn check_reports_every_provider() {
    let local = serve(|r| match r.path.as_str() {
        "/v1/models" => (
            Reply::json(
                200,
                &json!({"object": "list", "data": [{"id": "whisper-tiny.en", "object": "model"}]}),
            ),
            None,
        ),
        _ => (Reply::json(404, &json!({})), Some("path".into())),
    })
    .await;
    let p = Providers::from_settings(&settings(&[
        ("tts_provider", "local,google"),
        ("stt_provider", "local"),
        ("stt_url", &local.base),
        ("google_credentials_file", "/nonexistent/google-auth.json"),
    ]))
    .unwrap();
    let reports = p.check().await;
    let summary: Vec<(&str, Kind, bool)> = reports.iter().map(|r| (r.task, r.kind, r.ok)).collect();
    assert_eq!(
        summary,
        [
            ("tts", Kind::Local, true),
            ("tts", Kind::Google, false),
            ("tts", Kind::Espeak, true),
            ("stt", Kind::Local, true),
        ]
    );
    assert_eq!(
        reports[0].detail,
        "answers; model tts-1 not listed by the server"
    );
    assert_eq!(reports[3].detail, "answers; model whisper-tiny.en listed");
    assert_eq!(reports[1].error, Some("config"));
    assert!(reports[1].detail.contains("/nonexistent/google-auth.json"));
    let v = serde_json::to_value(&reports[1]).unwrap();
    assert_eq!(v["kind"], "google");
    assert_eq!(v["task"], "tts");
}
