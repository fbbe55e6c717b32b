//! Google Cloud Speech-to-Text and Text-to-Speech over their REST APIs, with service-account
//! authentication.
//!
//! Why REST and not the client crates: both APIs are one JSON request each, the crate already
//! speaks HTTP through reqwest with rustls, and the stand-in servers in the tests can check what
//! travels on the wire. Every URL is a setting (`google_token_url`, `google_stt_url`,
//! `google_tts_url`) so tests, and sites behind a proxy, point them elsewhere.
//!
//! Speech-to-Text is the v1 `speech:recognize` method (synchronous, up to a minute of audio).
//! v1 rather than v2: v2 needs a project id and a recognizer resource (or `_` with a location)
//! in the URL, which the service-account file does not always carry and the module has no
//! setting for, and v2 adds nothing an answer of a few seconds needs: v1 takes the audio as
//! LINEAR16 at the rate sent, the language, `speechContexts` phrases (the hint phrases that bias
//! recognition toward what the caller is expected to say) and `maxAlternatives`, and answers
//! alternatives with a confidence. The audio goes as raw little-endian 16-bit samples at its own
//! rate (telephone answers at 8 kHz), and `sampleRateHertz` says that rate.
//!
//! Text-to-Speech is v1 `text:synthesize` with `LINEAR16` at 8 kHz (what Asterisk plays, so no
//! resampling follows) or 16 kHz; Google's LINEAR16 reply carries a WAV header.
//!
//! Authentication ([`GoogleAuth`]) follows Google's service-account flow (RFC 7523): a JWT
//! signed RS256 with the account's private key (`iss` = client_email, `scope`, `aud` = the token
//! endpoint, one hour of validity) is exchanged at the token endpoint for an access token, which
//! is kept in a process-wide cache until a minute before it expires, so a process serving many
//! calls asks once an hour. Signing uses aws-lc-rs, the crypto library rustls already brings
//! into the build (no second RSA implementation). The private key never appears in an error, a
//! log or a `Debug` output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::SpeechError;
use crate::http::{self, Target};
use crate::stt::{Alternative, SttFuture, SttProvider};
use crate::tts::{bcp47, decode_audio, TtsFuture, TtsProvider};
use crate::{CheckFuture, Pcm};

/// Google's OAuth 2.0 token endpoint.
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Speech-to-Text v1, synchronous recognition.
pub const STT_URL: &str = "https://speech.googleapis.com/v1/speech:recognize";
/// Text-to-Speech v1.
pub const TTS_URL: &str = "https://texttospeech.googleapis.com/v1/text:synthesize";
/// The scope both APIs accept.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The credentials file the original module used.
pub const DEFAULT_CREDENTIALS_FILE: &str = "/home/asterisk/google-auth.json";

/// A token is renewed this long before Google says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime asked for in the JWT (Google's maximum).
const JWT_LIFETIME: u64 = 3600;
/// Largest JSON reply read from the APIs (a TTS reply is base64 audio: 20 MB of it is ten
/// minutes at 16 kHz).
const MAX_REPLY_BYTES: usize = 28 * 1024 * 1024;
/// Largest credentials file read.
const MAX_CREDENTIALS_BYTES: u64 = 64 * 1024;
/// Google's limits for `speechContexts` phrases in v1.
const MAX_PHRASES: usize = 500;
const MAX_PHRASE_CHARS: usize = 100;

/// The fields of a service-account key file that matter here.
#[derive(Deserialize)]
struct ServiceAccount {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

/// Access tokens by (credentials file, token URL, scope), for every provider in the process.
static TOKENS: Mutex<BTreeMap<String, CachedToken>> = Mutex::new(BTreeMap::new());

#[derive(Clone)]
struct CachedToken {
    token: String,
    /// When to stop using it (already less the margin).
    until: Instant,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Service-account authentication; see the module comment.
pub struct GoogleAuth {
    credentials_file: PathBuf,
    /// The `google_token_url` setting; None: the file's `token_uri`, else [`TOKEN_URL`].
    token_url: Option<String>,
    scope: String,
    client: reqwest::Client,
    timeout: Duration,
    name: String,
}

impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("credentials_file", &self.credentials_file)
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .finish()
    }
}

impl GoogleAuth {
    /// Nothing is read yet: the file is read when a token is first needed, so a chain that
    /// lists Google without usable credentials still works through its other providers.
    pub fn new(
        credentials_file: impl Into<PathBuf>,
        token_url: Option<String>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, SpeechError> {
        let credentials_file = credentials_file.into();
        let name = "google-auth".to_string();
        let config_err = |detail: String| SpeechError::Config {
            provider: name.clone(),
            detail,
        };
        let token_url = token_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &token_url {
            http::check_url(u).map_err(|e| config_err(format!("token {e}")))?;
        }
        if credentials_file.as_os_str().is_empty() {
            return Err(config_err("no credentials file".into()));
        }
        let client = http::client(connect_timeout, timeout).map_err(config_err)?;
        Ok(Self {
            credentials_file,
            token_url,
            scope: SCOPE.to_string(),
            client,
            timeout,
            name,
        })
    }

    pub fn credentials_file(&self) -> &Path {
        &self.credentials_file
    }

    fn cache_key(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.credentials_file.display(),
            self.token_url.as_deref().unwrap_or(""),
            self.scope
        )
    }

    fn config_err(&self, detail: String) -> SpeechError {
        SpeechError::Config {
            provider: self.name.clone(),
            detail: format!(
                "credentials file {}: {detail}",
                self.credentials_file.display()
            ),
        }
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    pub async fn token(&self) -> Result<String, SpeechError> {
        let key = self.cache_key();
        let cached = TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(c) = cached.filter(|c| Instant::now() < c.until) {
            return Ok(c.token);
        }
        let fresh = self.fetch().await?;
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, fresh.clone());
        Ok(fresh.token)
    }

    /// Drops the cached token (after an API refused it), so the next call asks for a new one.
    pub fn forget_token(&self) {
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.cache_key());
    }

    fn load(&self) -> Result<(ServiceAccount, RsaKeyPair), SpeechError> {
        let path = &self.credentials_file;
        let meta = std::fs::metadata(path).map_err(|e| self.config_err(e.to_string()))?;
        if meta.len() > MAX_CREDENTIALS_BYTES {
            return Err(self.config_err(format!("over {MAX_CREDENTIALS_BYTES} bytes")));
        }
        let bytes = std::fs::read(path).map_err(|e| self.config_err(e.to_string()))?;
        // serde's message names the field and position, never the value.
        let sa: ServiceAccount = serde_json::from_slice(&bytes)
            .map_err(|e| self.config_err(format!("not a service-account key file: {e}")))?;
        if let Some(kind) = sa.kind.as_deref().filter(|k| *k != "service_account") {
            return Err(self.config_err(format!(
                "type is {kind:?}; a service-account key (type \"service_account\") is needed"
            )));
        }
        if sa.client_email.trim().is_empty() {
            return Err(self.config_err("client_email is empty".into()));
        }
        let key = parse_private_key(&sa.private_key).map_err(|e| self.config_err(e))?;
        Ok((sa, key))
    }

    async fn fetch(&self) -> Result<CachedToken, SpeechError> {
        let (sa, key) = self.load()?;
        let url = self
            .token_url
            .clone()
            .or_else(|| sa.token_uri.clone().filter(|u| !u.trim().is_empty()))
            .unwrap_or_else(|| TOKEN_URL.to_string());
        http::check_url(&url).map_err(|e| self.config_err(format!("token {e}")))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let assertion =
            jwt_assertion(&sa, &key, &self.scope, &url, now).map_err(|e| self.config_err(e))?;
        let provider = format!("google-auth({})", sa.client_email);
        let target = Target {
            provider: &provider,
            url: &url,
            timeout: self.timeout,
        };
        let req = self.client.post(&url).form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ]);
        let started = Instant::now();
        let reply = target.send(req, 64 * 1024).await.map_err(|e| match e {
            // OAuth answers 400 invalid_grant for a bad signature, an unknown or disabled key,
            // a wrong audience or a clock far off: all are refused credentials.
            SpeechError::Http {
                provider,
                url,
                status: 400,
                message,
            } if message.starts_with("invalid_grant")
                || message.starts_with("invalid_client")
                || message.starts_with("unauthorized_client") =>
            {
                SpeechError::Unauthorized {
                    provider,
                    url,
                    status: 400,
                    message,
                }
            }
            other => other,
        })?;
        let t: TokenReply = serde_json::from_slice(&reply.body).map_err(|e| {
            target.bad_reply(format!(
                "not a token reply ({e}): {}",
                http::snippet(&reply.body)
            ))
        })?;
        if t.access_token.is_empty() {
            return Err(target.bad_reply("empty access_token".into()));
        }
        if let Some(tt) = t.token_type.as_deref() {
            if !tt.eq_ignore_ascii_case("bearer") {
                return Err(target.bad_reply(format!("token_type {tt:?}, not Bearer")));
            }
        }
        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(JWT_LIFETIME));
        Ok(CachedToken {
            token: t.access_token,
            until: started + lifetime.saturating_sub(TOKEN_MARGIN),
        })
    }
}

/// A PEM private key (`PRIVATE KEY`, PKCS #8, as Google writes it, or `RSA PRIVATE KEY`).
fn parse_private_key(pem: &str) -> Result<RsaKeyPair, String> {
    let mut label = None;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(l) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            label = Some(l.to_string());
            body.clear();
        } else if line.starts_with("-----END ") {
            break;
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    let label = label.ok_or("private_key is not a PEM key")?;
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|e| format!("private_key: bad base64 ({e})"))?;
    match label.as_str() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        other => {
            return Err(format!(
                "private_key is a {other:?}, not an RSA private key"
            ))
        }
    }
    .map_err(|e| format!("private_key is not a usable RSA key: {e}"))
}

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The signed JWT a service account exchanges for a token.
fn jwt_assertion(
    sa: &ServiceAccount,
    key: &RsaKeyPair,
    scope: &str,
    aud: &str,
    now: u64,
) -> Result<String, String> {
    let header = JwtHeader {
        alg: "RS256",
        typ: "JWT",
        kid: sa.private_key_id.as_deref().filter(|k| !k.is_empty()),
    };
    let claims = JwtClaims {
        iss: sa.client_email.trim(),
        scope,
        aud,
        iat: now,
        exp: now + JWT_LIFETIME,
    };
    let signing_input = format!("{}.{}", b64_json(&header)?, b64_json(&claims)?);
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "cannot sign the JWT with private_key".to_string())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

fn b64_json<T: Serialize>(v: &T) -> Result<String, String> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).map_err(|e| e.to_string())?))
}

/// A Google language code for a locale: `it_IT` -> `it-IT`; a bare language gets its main
/// region (`it` -> `it-IT`, `en` -> `en-US`), since the APIs want a region. None when empty.
pub fn google_language(locale: &str) -> Option<String> {
    let tag = bcp47(locale);
    if tag.is_empty() {
        return None;
    }
    let full = match tag.as_str() {
        "it" => "it-IT",
        "en" => "en-US",
        "de" => "de-DE",
        "fr" => "fr-FR",
        "es" => "es-ES",
        "pt" => "pt-PT",
        "nl" => "nl-NL",
        other => other,
    };
    Some(full.to_string())
}

/// Whether `v` has the shape of a Google voice name (`it-IT-Wavenet-A`, `en-US-Neural2-C`).
pub fn is_google_voice(v: &str) -> bool {
    let mut parts = v.splitn(3, '-');
    let (Some(lang), Some(region), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && (2..=3).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `url` as given, or with `default_path` when it has no path (a bare `http://host:port`).
fn endpoint(url: &str, default_path: &str) -> Result<String, String> {
    let url = url.trim();
    let parsed = http::check_url(url)?;
    Ok(if parsed.path() == "/" || parsed.path().is_empty() {
        format!("{}{default_path}", url.trim_end_matches('/'))
    } else {
        url.to_string()
    })
}

/// The endpoint `path` next to `method_url` (same scheme, host and any prefix before `/v1/`).
fn sibling(method_url: &str, path: &str) -> String {
    match method_url.find("/v1/") {
        Some(i) => format!("{}/v1/{path}", &method_url[..i]),
        None => format!("{}/v1/{path}", method_url.trim_end_matches('/')),
    }
}

/// Sends an authorized request; a 401 from the API drops the cached token so the next call
/// asks for a new one (it may have been revoked).
async fn authorized_send(
    auth: &GoogleAuth,
    target: &Target<'_>,
    req: reqwest::RequestBuilder,
) -> Result<http::Reply, SpeechError> {
    let token = auth.token().await?;
    let result = target.send(req.bearer_auth(token), MAX_REPLY_BYTES).await;
    if matches!(result, Err(SpeechError::Unauthorized { status: 401, .. })) {
        auth.forget_token();
    }
    result
}

/// Settings of Google Speech-to-Text.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleSttConfig {
    /// The `speech:recognize` URL ([`STT_URL`]); a bare `http://host:port` gets its path.
    pub url: String,
    /// How many alternatives to ask for (1 to 30).
    pub max_alternatives: u8,
    /// A recognition model (`phone_call`, `latest_short`); None: Google's default for the
    /// language, which every language has.
    pub model: Option<String>,
    pub connect_timeout: Duration,
    /// The recognition request (the token request has its own, the same).
    pub timeout: Duration,
}

impl GoogleSttConfig {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Self {
        Self {
            url: STT_URL.to_string(),
            max_alternatives: 3,
            model: None,
            connect_timeout,
            timeout,
        }
    }
}

/// Google Speech-to-Text v1; see the module comment.
#[derive(Debug)]
pub struct GoogleStt {
    cfg: GoogleSttConfig,
    url: String,
    name: String,
    auth: Arc<GoogleAuth>,
    client: reqwest::Client,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecognizeRequest<'a> {
    config: RecognitionConfig<'a>,
    audio: RecognitionAudio,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecognitionConfig<'a> {
    encoding: &'static str,
    sample_rate_hertz: u32,
    audio_channel_count: u8,
    language_code: String,
    max_alternatives: u8,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    speech_contexts: Vec<SpeechContext<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
}

#[derive(Serialize)]
struct SpeechContext<'a> {
    phrases: Vec<&'a str>,
}

#[derive(Serialize)]
struct RecognitionAudio {
    content: String,
}

#[derive(Deserialize)]
struct RecognizeReply {
    #[serde(default)]
    results: Vec<RecognitionResult>,
}

#[derive(Deserialize)]
struct RecognitionResult {
    #[serde(default)]
    alternatives: Vec<GoogleAlternative>,
}

#[derive(Deserialize)]
struct GoogleAlternative {
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    confidence: Option<f32>,
}

impl GoogleStt {
    pub fn new(cfg: GoogleSttConfig, auth: Arc<GoogleAuth>) -> Result<Self, SpeechError> {
        let name = "google-stt".to_string();
        let config_err = |detail: String| SpeechError::Config {
            provider: name.clone(),
            detail,
        };
        let url = endpoint(&cfg.url, "/v1/speech:recognize").map_err(config_err)?;
        if !(1..=30).contains(&cfg.max_alternatives) {
            return Err(config_err(format!(
                "max_alternatives {} is not 1 to 30",
                cfg.max_alternatives
            )));
        }
        let client = http::client(cfg.connect_timeout, cfg.timeout).map_err(config_err)?;
        Ok(Self {
            cfg,
            url,
            name,
            auth,
            client,
        })
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> Target<'_> {
        Target {
            provider: &self.name,
            url: &self.url,
            timeout: self.cfg.timeout,
        }
    }

    fn request<'a>(
        &'a self,
        audio: &Pcm,
        language: &str,
        hints: &'a [String],
    ) -> Result<RecognizeRequest<'a>, SpeechError> {
        let bad_audio = |detail: String| SpeechError::BadAudio {
            provider: self.name.clone(),
            detail,
        };
        if audio.samples.is_empty() {
            return Err(bad_audio("no samples".into()));
        }
        let language_code = google_language(language).ok_or_else(|| SpeechError::Config {
            provider: self.name.clone(),
            detail: "Google needs a language (e.g. en-US)".into(),
        })?;
        // LINEAR16 is accepted at 8 to 48 kHz; the audio goes at its own rate when it can.
        let pcm = if (8000..=48000).contains(&audio.rate) {
            std::borrow::Cow::Borrowed(audio)
        } else {
            std::borrow::Cow::Owned(
                audio
                    .resample(16000)
                    .map_err(|e| bad_audio(e.to_string()))?,
            )
        };
        let raw: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let phrases: Vec<&str> = hints
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty() && h.chars().count() <= MAX_PHRASE_CHARS)
            .take(MAX_PHRASES)
            .collect();
        Ok(RecognizeRequest {
            config: RecognitionConfig {
                encoding: "LINEAR16",
                sample_rate_hertz: pcm.rate,
                audio_channel_count: 1,
                language_code,
                max_alternatives: self.cfg.max_alternatives,
                speech_contexts: if phrases.is_empty() {
                    vec![]
                } else {
                    vec![SpeechContext { phrases }]
                },
                model: self.cfg.model.as_deref().filter(|m| !m.trim().is_empty()),
            },
            audio: RecognitionAudio {
                content: STANDARD.encode(raw),
            },
        })
    }

    async fn run(
        &self,
        audio: &Pcm,
        language: &str,
        hints: &[String],
    ) -> Result<Vec<Alternative>, SpeechError> {
        let body = self.request(audio, language, hints)?;
        let target = self.target();
        let reply =
            authorized_send(&self.auth, &target, self.client.post(&self.url).json(&body)).await?;
        parse_recognize(&reply.body).map_err(|d| target.bad_reply(d))
    }
}

/// Reads a `speech:recognize` reply. One result (a short answer): its alternatives, best
/// first. Several results (consecutive parts of longer speech): one alternative, the parts'
/// best transcripts joined, with their mean confidence. Google gives a confidence for the best
/// alternative only; a missing one is 1.0 for the best (nothing says otherwise) and 0.0 for
/// the others (Google's own "not set").
fn parse_recognize(body: &[u8]) -> Result<Vec<Alternative>, String> {
    let reply: RecognizeReply = serde_json::from_slice(body)
        .map_err(|e| format!("not a recognition reply ({e}): {}", http::snippet(body)))?;
    let results: Vec<&RecognitionResult> = reply
        .results
        .iter()
        .filter(|r| {
            r.alternatives
                .iter()
                .any(|a| !a.transcript.trim().is_empty())
        })
        .collect();
    let conf = |a: &GoogleAlternative, best: bool| match a.confidence {
        Some(c) if c > 0.0 => c.clamp(0.0, 1.0),
        _ if best => 1.0,
        _ => 0.0,
    };
    match results.as_slice() {
        [] => Ok(Vec::new()),
        [one] => Ok(one
            .alternatives
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.transcript.trim().is_empty())
            .map(|(i, a)| Alternative {
                transcript: a.transcript.trim().to_string(),
                confidence: conf(a, i == 0),
            })
            .collect()),
        many => {
            let bests: Vec<&GoogleAlternative> =
                many.iter().filter_map(|r| r.alternatives.first()).collect();
            let transcript = bests
                .iter()
                .map(|a| a.transcript.trim())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let confidence = bests.iter().map(|a| conf(a, true)).sum::<f32>() / bests.len() as f32;
            Ok(vec![Alternative {
                transcript,
                confidence,
            }])
        }
    }
}

impl SttProvider for GoogleStt {
    fn name(&self) -> &str {
        &self.name
    }

    fn transcribe<'a>(
        &'a self,
        audio: &'a Pcm,
        language: &'a str,
        hints: &'a [String],
    ) -> SttFuture<'a> {
        Box::pin(self.run(audio, language, hints))
    }

    /// A token from the credentials, then `GET v1/operations` (lists long-running jobs: free,
    /// and proves the API answers and accepts the token).
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let url = sibling(&self.url, "operations");
            let target = Target {
                provider: &self.name,
                url: &url,
                timeout: self.cfg.timeout,
            };
            authorized_send(&self.auth, &target, self.client.get(&url)).await?;
            Ok(format!(
                "answers; token from {}",
                self.auth.credentials_file.display()
            ))
        })
    }
}

/// Settings of Google Text-to-Speech.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleTtsConfig {
    /// The `text:synthesize` URL ([`TTS_URL`]); a bare `http://host:port` gets its path.
    pub url: String,
    /// 8000 (Asterisk's `.wav`, the default) or 16000 (`.wav16`).
    pub sample_rate: u32,
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

impl GoogleTtsConfig {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Self {
        Self {
            url: TTS_URL.to_string(),
            sample_rate: crate::audio::ASTERISK_WAV_RATE,
            connect_timeout,
            timeout,
        }
    }
}

/// Google Text-to-Speech v1; see the module comment.
#[derive(Debug)]
pub struct GoogleTts {
    cfg: GoogleTtsConfig,
    url: String,
    name: String,
    auth: Arc<GoogleAuth>,
    client: reqwest::Client,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SynthesizeRequest<'a> {
    input: SynthesisInput<'a>,
    voice: VoiceSelection<'a>,
    audio_config: AudioConfig,
}

#[derive(Serialize)]
struct SynthesisInput<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VoiceSelection<'a> {
    language_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AudioConfig {
    audio_encoding: &'static str,
    sample_rate_hertz: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SynthesizeReply {
    audio_content: String,
}

impl GoogleTts {
    pub fn new(cfg: GoogleTtsConfig, auth: Arc<GoogleAuth>) -> Result<Self, SpeechError> {
        let name = "google-tts".to_string();
        let config_err = |detail: String| SpeechError::Config {
            provider: name.clone(),
            detail,
        };
        let url = endpoint(&cfg.url, "/v1/text:synthesize").map_err(config_err)?;
        if !matches!(cfg.sample_rate, 8000 | 16000) {
            return Err(config_err(format!(
                "sample rate {} is not 8000 or 16000",
                cfg.sample_rate
            )));
        }
        let client = http::client(cfg.connect_timeout, cfg.timeout).map_err(config_err)?;
        Ok(Self {
            cfg,
            url,
            name,
            auth,
            client,
        })
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The voice selection: the request's voice when it is a Google name of the same language;
    /// the language alone otherwise (Google then picks its default voice for it). With no
    /// language, a Google voice name gives it.
    fn voice<'a>(&self, language: &str, voice: &'a str) -> Result<VoiceSelection<'a>, SpeechError> {
        let voice = voice.trim();
        let named = is_google_voice(voice).then_some(voice);
        let voice_lang = named.map(|v| v.splitn(3, '-').take(2).collect::<Vec<_>>().join("-"));
        let language_code = google_language(language)
            .or_else(|| voice_lang.clone())
            .ok_or_else(|| SpeechError::Config {
                provider: self.name.clone(),
                detail: "Google needs a language (e.g. it-IT)".into(),
            })?;
        let name = named.filter(|_| {
            voice_lang
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(&language_code))
        });
        Ok(VoiceSelection {
            language_code,
            name,
        })
    }

    async fn run(&self, text: &str, language: &str, voice: &str) -> Result<Pcm, SpeechError> {
        if text.trim().is_empty() {
            return Err(SpeechError::BadText {
                provider: self.name.clone(),
                detail: "the text is empty".into(),
            });
        }
        let body = SynthesizeRequest {
            input: SynthesisInput { text },
            voice: self.voice(language, voice)?,
            audio_config: AudioConfig {
                audio_encoding: "LINEAR16",
                sample_rate_hertz: self.cfg.sample_rate,
            },
        };
        let target = Target {
            provider: &self.name,
            url: &self.url,
            timeout: self.cfg.timeout,
        };
        let reply =
            authorized_send(&self.auth, &target, self.client.post(&self.url).json(&body)).await?;
        let parsed: SynthesizeReply = serde_json::from_slice(&reply.body).map_err(|e| {
            target.bad_reply(format!(
                "not a synthesis reply ({e}): {}",
                http::snippet(&reply.body)
            ))
        })?;
        let audio = STANDARD
            .decode(parsed.audio_content.as_bytes())
            .map_err(|e| target.bad_reply(format!("audioContent is not base64: {e}")))?;
        decode_audio(&target, Some("audio/wav (LINEAR16)"), &audio)
    }
}

impl TtsProvider for GoogleTts {
    fn name(&self) -> &str {
        &self.name
    }

    fn synthesize<'a>(&'a self, text: &'a str, language: &'a str, voice: &'a str) -> TtsFuture<'a> {
        Box::pin(self.run(text, language, voice))
    }

    /// A token from the credentials, then `GET v1/voices?languageCode=en-US` (free).
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let url = sibling(&self.url, "voices?languageCode=en-US");
            let target = Target {
                provider: &self.name,
                url: &url,
                timeout: self.cfg.timeout,
            };
            authorized_send(&self.auth, &target, self.client.get(&url)).await?;
            Ok(format!(
                "answers; token from {}",
                self.auth.credentials_file.display()
            ))
        })
    }
}

#[cfg(test)]
#[path = "google_tests.rs"]
mod tests;
