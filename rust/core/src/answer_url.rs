//! Signed, expiring links to recorded answers (UserAnswerMp3Url).
//!
//! The webhook receiver fetches the caller's recorded answer without the API token: the link
//! itself is the credential. It names the file and an expiry time and carries an HMAC-SHA256 of
//! both under a per-install secret, so it cannot be forged, altered or used after it expires.

use std::path::PathBuf;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::CoreConfig;
use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

fn forbidden(why: &str) -> ApiError {
    ApiError::new(403, "forbidden", why)
}

/// Answer files are named `<call id>-<step>.mp3`: nothing else can be asked for.
pub fn is_answer_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".mp3") else {
        return false;
    };
    let Some((id, step)) = stem.split_once('-') else {
        return false;
    };
    id.len() == 32
        && id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        && !step.is_empty()
        && step.len() <= 4
        && step.chars().all(|c| c.is_ascii_digit())
}

fn mac(secret: &str, file: &str, expires: u64) -> Result<HmacSha256, ApiError> {
    if secret.len() < 32 {
        return Err(ApiError::config(
            "url_secret is not configured (reinstall the module)",
        ));
    }
    let mut m = HmacSha256::new_from_slice(secret.as_bytes())
        .map_err(|e| ApiError::config(format!("url_secret: {e}")))?;
    m.update(file.as_bytes());
    m.update(b"\n");
    m.update(expires.to_string().as_bytes());
    Ok(m)
}

/// The query string `f=...&e=...&s=...` for `file`, valid until `expires` (Unix seconds).
pub fn sign(secret: &str, file: &str, expires: u64) -> Result<String, ApiError> {
    let sig = hex::encode(mac(secret, file, expires)?.finalize().into_bytes());
    Ok(format!("f={file}&e={expires}&s={sig}"))
}

/// Checks a request's parameters; `now` in Unix seconds.
pub fn verify(
    secret: &str,
    file: &str,
    expires: &str,
    sig: &str,
    now: u64,
) -> Result<(), ApiError> {
    if !is_answer_file(file) {
        return Err(forbidden("unknown file"));
    }
    let expires: u64 = expires.parse().map_err(|_| forbidden("bad expiry"))?;
    let sig = hex::decode(sig).map_err(|_| forbidden("bad signature"))?;
    // Constant-time comparison inside verify_slice.
    mac(secret, file, expires)?
        .verify_slice(&sig)
        .map_err(|_| forbidden("bad signature"))?;
    if now > expires {
        return Err(forbidden("this link has expired"));
    }
    Ok(())
}

/// The file to serve for a verified request.
pub fn answer_path(
    cfg: &CoreConfig,
    file: &str,
    expires: &str,
    sig: &str,
) -> Result<PathBuf, ApiError> {
    verify(&cfg.url_secret, file, expires, sig, now())?;
    let path = cfg.answers_dir.join(file);
    if !path.is_file() {
        return Err(ApiError::new(
            404,
            "not_found",
            "the recording is gone (retention period over?)",
        ));
    }
    Ok(path)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const FILE: &str = "0123456789abcdef0123456789abcdef-1.mp3";

    fn parts(q: &str) -> (String, String, String) {
        let mut f = String::new();
        let mut e = String::new();
        let mut s = String::new();
        for kv in q.split('&') {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "f" => f = v.into(),
                "e" => e = v.into(),
                "s" => s = v.into(),
                _ => panic!(),
            }
        }
        (f, e, s)
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let (f, e, s) = parts(&sign(SECRET, FILE, 1000).unwrap());
        assert!(verify(SECRET, &f, &e, &s, 999).is_ok());
        assert!(verify(SECRET, &f, &e, &s, 1000).is_ok());
        assert_eq!(verify(SECRET, &f, &e, &s, 1001).unwrap_err().status, 403);
    }

    #[test]
    fn forged_or_altered_links_fail() {
        let (f, e, s) = parts(&sign(SECRET, FILE, 1000).unwrap());
        let other = SECRET.replace('0', "1");
        assert!(verify(&other, &f, &e, &s, 1).is_err());
        assert!(verify(SECRET, &f, "2000", &s, 1).is_err());
        assert!(verify(SECRET, &f.replace("-1", "-2"), &e, &s, 1).is_err());
        assert!(verify(SECRET, &f, &e, "", 1).is_err());
        assert!(verify(SECRET, &f, &e, "zz", 1).is_err());
        let mut flipped = s.clone();
        flipped.replace_range(0..1, if s.starts_with('a') { "b" } else { "a" });
        assert!(verify(SECRET, &f, &e, &flipped, 1).is_err());
    }

    #[test]
    fn only_answer_files_can_be_named() {
        assert!(is_answer_file(FILE));
        for bad in [
            "../etc/passwd",
            "x.mp3",
            "0123456789abcdef0123456789abcdef-1.wav",
            "0123456789abcdef0123456789abcdef-.mp3",
            "0123456789ABCDEF0123456789abcdef-1.mp3",
            "0123456789abcdef0123456789abcdef-1/../../x.mp3",
        ] {
            assert!(!is_answer_file(bad), "{bad}");
        }
    }

    #[test]
    fn a_missing_secret_is_a_configuration_error() {
        assert_eq!(sign("", FILE, 1).unwrap_err().code, "configuration_error");
    }
}
