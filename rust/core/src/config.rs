//! Where things are and which defaults apply, as handed over by the FreePBX side.
//!
//! FreePBX knows the database credentials and Asterisk's directories (`$amp_conf`) and keeps the
//! module's settings; the PHP entry point collects them into a flat string map and passes it in.
//! Keeping that map flat and stringly at the boundary lets the PHP side stay trivial; this module
//! turns it into typed values once and says exactly which key is wrong when one is.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::ApiError;
use crate::fields;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DbConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub pass: String,
    pub name: String,
    /// Unix socket path; when set it wins over host/port.
    pub socket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    pub db: DbConfig,
    /// Asterisk's spool directory (ASTSPOOLDIR); call files go to `outgoing/` via `tmp/`.
    pub spool_dir: PathBuf,
    /// Where synthesized prompts are cached (a folder Asterisk can read).
    pub tts_cache_dir: PathBuf,
    /// The dialplan context calls are placed through (`Local/<number>@<context>`).
    pub dial_context: String,
    pub default_language: String,
    pub default_callerid: String,
    /// Path or name of the espeak-ng program.
    pub espeak_path: String,
    /// The CDR database (FreePBX's CDRDBNAME).
    pub cdr_db_name: String,
    /// Base URL of the public folder as clients reach it; empty when unknown (AGI side).
    pub public_url: String,
    /// Key of the answer-audio URL signatures (hex); empty when not configured.
    pub url_secret: String,
    /// Recorded answers (wav and mp3).
    pub answers_dir: PathBuf,
    pub answer_url_lifetime: Duration,
    pub answer_retention: Duration,
    pub webhook_timeout: Duration,
    pub webhook_connect_timeout: Duration,
    /// Key of the webhook signatures (X-Apicall-Signature); empty: webhooks are not signed.
    pub webhook_secret: String,
    /// Attempts to deliver a status event before it is given up (with `status_event_ttl`).
    pub webhook_retries: u32,
    /// Where a status event goes when its own URL fails.
    pub webhook_fallback_url: Option<String>,
    pub status_event_ttl: Duration,
    /// API-started calls queued, ringing or talking at once; more get 429.
    pub max_concurrent_calls: u32,
    /// Failed token attempts per source address per minute before 429.
    pub token_failures_per_minute: u32,
    /// Addresses allowed to call the API; empty: any.
    pub ip_allowlist: Vec<ipnet::IpNet>,
    /// Hosts MessageUrl and webhooks may point at; empty: any.
    pub allowed_hosts: Vec<String>,
    /// Every setting as given, for the speech providers (which read their own keys).
    pub settings: HashMap<String, String>,
}

impl CoreConfig {
    /// A configuration for unit tests: the required settings with values that reach nothing
    /// (no spool, no cache; the database at localhost), then `settings` over them.
    #[cfg(test)]
    pub(crate) fn for_test(settings: &[(&str, &str)]) -> Self {
        let map: HashMap<String, String> = [
            ("db_user", "u"),
            ("spool_dir", "/nonexistent"),
            ("tts_cache_dir", "/nonexistent"),
        ]
        .into_iter()
        .chain(settings.iter().copied())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self::from_map(&map).expect("a valid test configuration")
    }

    /// Builds the configuration from the PHP side's flat map. Missing optional keys get the
    /// documented defaults; missing required ones are a configuration error naming the key.
    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, ApiError> {
        let get = |k: &str| map.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let required = |k: &str| {
            get(k)
                .map(str::to_string)
                .ok_or_else(|| ApiError::config(format!("configuration key {k} is missing")))
        };
        let port = match get("db_port") {
            None => 3306,
            Some(p) => p.parse().map_err(|_| {
                ApiError::config(format!("configuration key db_port is not a port: {p}"))
            })?,
        };
        let dial_context = get("dial_context").unwrap_or("from-internal").to_string();
        if !fields::is_context_name(&dial_context) {
            return Err(ApiError::config(format!(
                "dial_context {dial_context:?} is not a valid dialplan context name"
            )));
        }
        let secs = |k: &str, default: u64, max: u64| -> Result<Duration, ApiError> {
            match get(k) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        ApiError::config(format!(
                            "configuration key {k} must be 1 to {max} seconds: {v}"
                        ))
                    }),
            }
        };
        let count = |k: &str, default: u32, max: u32| -> Result<u32, ApiError> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::config(format!("configuration key {k} must be 1 to {max}: {v}"))
                    }),
            }
        };
        let spool_dir = PathBuf::from(required("spool_dir")?);
        Ok(CoreConfig {
            db: DbConfig {
                host: get("db_host").unwrap_or("localhost").to_string(),
                port,
                user: required("db_user")?,
                pass: map.get("db_pass").cloned().unwrap_or_default(),
                name: get("db_name").unwrap_or("asterisk").to_string(),
                socket: get("db_socket").map(str::to_string),
            },
            answers_dir: get("answers_dir")
                .map(PathBuf::from)
                .unwrap_or_else(|| spool_dir.join("apicall/answers")),
            spool_dir,
            tts_cache_dir: PathBuf::from(required("tts_cache_dir")?),
            dial_context,
            default_language: get("default_language").unwrap_or("it").to_string(),
            default_callerid: get("default_callerid").unwrap_or("999").to_string(),
            espeak_path: get("espeak_path").unwrap_or("espeak-ng").to_string(),
            cdr_db_name: get("cdr_db_name").unwrap_or("asteriskcdrdb").to_string(),
            public_url: get("public_url")
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string(),
            url_secret: get("url_secret").unwrap_or("").to_string(),
            answer_url_lifetime: secs("answer_url_lifetime", 86_400, 365 * 86_400)?,
            answer_retention: Duration::from_secs(
                get("answer_retention_days")
                    .and_then(|d| d.parse::<u64>().ok())
                    .unwrap_or(7)
                    .clamp(1, 3650)
                    * 86_400,
            ),
            webhook_timeout: secs("webhook_timeout", 5, 120)?,
            webhook_connect_timeout: secs("webhook_connect_timeout", 2, 60)?,
            webhook_secret: get("webhook_secret").unwrap_or("").to_string(),
            webhook_retries: count("webhook_retries", 8, 1000)?,
            webhook_fallback_url: get("webhook_fallback_url").map(str::to_string),
            status_event_ttl: Duration::from_secs(
                u64::from(count("status_event_ttl_hours", 48, 24 * 365)?) * 3600,
            ),
            max_concurrent_calls: count("max_concurrent_calls", 50, 100_000)?,
            token_failures_per_minute: count("token_failures_per_minute", 10, 100_000)?,
            ip_allowlist: allowlist(get("ip_allowlist").unwrap_or(""))?,
            allowed_hosts: get("allowed_hosts")
                .unwrap_or("")
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            settings: map.clone(),
        })
    }
}

/// `10.0.0.0/8, 192.168.1.7` -> networks (a bare address is a /32 or /128).
fn allowlist(s: &str) -> Result<Vec<ipnet::IpNet>, ApiError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ApiError::config(format!("ip_allowlist: {p:?} is not an address or network"))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("db_user", "freepbxuser"),
            ("db_pass", "secret"),
            ("spool_dir", "/var/spool/asterisk"),
            ("tts_cache_dir", "/var/lib/asterisk/sounds/apicall/tts"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn defaults_apply() {
        let c = CoreConfig::from_map(&base()).unwrap();
        assert_eq!(c.dial_context, "from-internal");
        assert_eq!(c.db.port, 3306);
        assert_eq!(c.db.host, "localhost");
        assert_eq!(c.db.socket, None);
        assert_eq!(c.default_language, "it");
        assert_eq!(c.default_callerid, "999");
    }

    #[test]
    fn missing_key_is_named() {
        let mut m = base();
        m.remove("spool_dir");
        let e = CoreConfig::from_map(&m).unwrap_err();
        assert!(e.message.contains("spool_dir"), "{e}");
        assert_eq!(e.status, 500);
    }

    #[test]
    fn reliability_settings() {
        let mut m = base();
        m.insert("ip_allowlist".into(), "10.0.0.0/8, 127.0.0.1 ,::1".into());
        m.insert(
            "allowed_hosts".into(),
            "Hooks.Example.com, 127.0.0.1".into(),
        );
        m.insert("max_concurrent_calls".into(), "3".into());
        let c = CoreConfig::from_map(&m).unwrap();
        assert_eq!(c.ip_allowlist.len(), 3);
        assert_eq!(c.allowed_hosts, vec!["hooks.example.com", "127.0.0.1"]);
        assert_eq!(c.max_concurrent_calls, 3);
        assert_eq!(c.webhook_retries, 8);
        m.insert("ip_allowlist".into(), "10.0.0.0/33".into());
        assert!(CoreConfig::from_map(&m).is_err());
        m.insert("ip_allowlist".into(), "".into());
        m.insert("max_concurrent_calls".into(), "0".into());
        assert!(CoreConfig::from_map(&m).is_err());
    }

    #[test]
    fn bad_dial_context_is_refused() {
        let mut m = base();
        m.insert("dial_context".into(), "from-internal\nexten".into());
        assert!(CoreConfig::from_map(&m).is_err());
        m.insert("db_port".into(), "x".into());
        assert!(CoreConfig::from_map(&m).is_err());
    }
}
