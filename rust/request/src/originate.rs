//! index.php: place a call that plays a message and continues at a FreePBX destination.
//!
//! The request is the original apicall module's contract (fields `tocall`, `message`,
//! `destination`, `language`, `voice`, `maxretries`/`maxretires`, `retrytime`, `waittime`,
//! `callerid`). The whole request is validated before anything is made, so a bad request leaves no
//! trace: no prompt, no call file. Placing the call is the engine's (apicall-core) part.

use crate::error::ApiError;
use crate::fields::{self, CallerId, Destination};
use crate::json::Object;

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginateRequest {
    pub tocall: String,
    pub message: Option<String>,
    pub destination: Destination,
    pub language: String,
    pub voice: Option<String>,
    pub max_retries: u32,
    pub retry_time: u32,
    pub wait_time: u32,
    pub callerid: CallerId,
}

impl OriginateRequest {
    /// `default_language` and `default_callerid` are the module's settings.
    pub fn parse(
        body: &[u8],
        default_language: &str,
        default_callerid: &str,
    ) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY {
            return Err(ApiError::body_too_large(MAX_BODY));
        }
        let o = Object::parse(body)?;
        let tocall = match o.text(&["tocall"])? {
            Some((f, v)) => fields::phone_number(&f, &v)?,
            None => return Err(ApiError::missing("tocall")),
        };
        let message = match o.text(&["message"])? {
            Some((f, v)) => Some(fields::message_text(&f, &v)?).filter(|m| !m.is_empty()),
            None => None,
        };
        let destination = match o.text(&["destination"])? {
            Some((f, v)) => fields::destination(&f, &v)?,
            None => Destination::hangup(),
        };
        let language = match o.text(&["language"])? {
            Some((f, v)) => fields::language(&f, &v)?,
            None => default_language.to_string(),
        };
        let voice = match o.text(&["voice"])? {
            Some((_, v)) if v.trim().is_empty() => None,
            Some((f, v)) => Some(fields::voice(&f, &v)?),
            None => None,
        };
        let int = |names: &[&str], range, default: i64| -> Result<u32, ApiError> {
            Ok(o.integer(names, range)?.unwrap_or(default) as u32)
        };
        let max_retries = int(&["maxretries", "maxretires"], 0..=20, 0)?;
        let retry_time = int(&["retrytime"], 1..=86_400, 60)?;
        let wait_time = int(&["waittime"], 1..=600, 30)?;
        let callerid = match o.text(&["callerid"])? {
            Some((f, v)) => fields::callerid(&f, &v)?,
            None => fields::callerid("callerid", default_callerid)
                .map_err(|e| ApiError::config(format!("default caller id: {}", e.message)))?,
        };
        Ok(OriginateRequest {
            tocall,
            message,
            destination,
            language,
            voice,
            max_retries,
            retry_time,
            wait_time,
            callerid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callfile::CallFile;

    fn parse(body: &str) -> Result<OriginateRequest, ApiError> {
        OriginateRequest::parse(body.as_bytes(), "it", "999")
    }

    #[test]
    fn minimal_request_gets_the_original_defaults() {
        let r = parse(r#"{"tocall":"200"}"#).unwrap();
        assert_eq!(r.tocall, "200");
        assert_eq!(r.message, None);
        assert_eq!(r.destination, Destination::hangup());
        assert_eq!(r.language, "it");
        assert_eq!((r.max_retries, r.retry_time, r.wait_time), (0, 60, 30));
        assert_eq!(
            r.callerid,
            CallerId {
                name: None,
                number: "999".into()
            }
        );
    }

    #[test]
    fn every_field_is_read() {
        let r = parse(
            r#"{"tocall":200,"message":"Ciao","destination":"from-did-direct,201,1","language":"en_US",
                "voice":"en+f3","maxretires":"2","retrytime":10,"waittime":"20","callerid":"Shop <0612>"}"#,
        )
        .unwrap();
        assert_eq!(r.tocall, "200");
        assert_eq!(r.message.as_deref(), Some("Ciao"));
        assert_eq!(r.destination.exten, "201");
        assert_eq!(r.language, "en_US");
        assert_eq!(r.voice.as_deref(), Some("en+f3"));
        assert_eq!((r.max_retries, r.retry_time, r.wait_time), (2, 10, 20));
        assert_eq!(r.callerid.name.as_deref(), Some("Shop"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{}"#, "missing_field", Some("tocall")),
            (r#"{"tocall":null}"#, "missing_field", Some("tocall")),
            (
                r#"{"tocall":"200\nApplication: System"}"#,
                "invalid_field",
                Some("tocall"),
            ),
            (r#"{"tocall":["200"]}"#, "invalid_field", Some("tocall")),
            (
                r#"{"tocall":"200","destination":"a,b"}"#,
                "invalid_field",
                Some("destination"),
            ),
            (
                r#"{"tocall":"200","maxretries":-1}"#,
                "invalid_field",
                Some("maxretries"),
            ),
            (
                r#"{"tocall":"200","waittime":"soon"}"#,
                "invalid_field",
                Some("waittime"),
            ),
            (
                r#"{"tocall":"200","retrytime":0}"#,
                "invalid_field",
                Some("retrytime"),
            ),
            (
                r#"{"tocall":"200","callerid":"x\r\n<1>"}"#,
                "invalid_field",
                Some("callerid"),
            ),
            (
                r#"{"tocall":"200","language":"it\n"}"#,
                "invalid_field",
                Some("language"),
            ),
            (
                r#"{"tocall":"200","voice":"a,b"}"#,
                "invalid_field",
                Some("voice"),
            ),
            (
                r#"{"tocall":"200","message":"a\u0000b"}"#,
                "invalid_field",
                Some("message"),
            ),
            (
                r#"{"tocall":"200","message":{"x":1}}"#,
                "invalid_field",
                Some("message"),
            ),
            (r#"{"tocall":"1","tocall":"2"}"#, "invalid_json", None),
            (r#"not json"#, "invalid_json", None),
        ];
        for (body, code, field) in cases {
            let e = parse(body).unwrap_err();
            assert_eq!((e.code, e.field.as_deref()), (code, field), "{body}");
            assert_eq!(e.status, 400, "{body}");
        }
    }

    #[test]
    fn oversized_body_is_413() {
        let body = format!(r#"{{"tocall":"200","message":"{}"}}"#, "a".repeat(MAX_BODY));
        assert_eq!(parse(&body).unwrap_err().status, 413);
    }

    #[test]
    fn hostile_input_never_reaches_a_call_file() {
        // Every string field, every nasty character: either a clean 4xx or a call file whose
        // lines are exactly the fixed set of keys.
        let nasties = [
            "\n", "\r", "\0", "\u{1}", "\u{7f}", "\u{85}", "\u{2028}", ",", "$", "{", "}", "(",
            ")", ";", "&", "|", "/", "@", "\"", "<", ">", "é", "😀",
        ];
        let fields = [
            "tocall",
            "message",
            "destination",
            "language",
            "voice",
            "callerid",
            "maxretries",
            "retrytime",
            "waittime",
        ];
        let base = [
            ("tocall", "200"),
            ("message", "hi"),
            ("destination", "app-blackhole,hangup,1"),
            ("language", "it"),
            ("voice", "f3"),
            ("callerid", "A <1>"),
            ("maxretries", "1"),
            ("retrytime", "5"),
            ("waittime", "5"),
        ];
        for field in fields {
            for nasty in nasties {
                for pos in 0..3 {
                    let mut obj = serde_json::Map::new();
                    for (k, v) in base {
                        let v = if k == field {
                            match pos {
                                0 => format!("{nasty}{v}"),
                                1 => format!("{v}{nasty}"),
                                _ => format!("{v}{nasty}x: y"),
                            }
                        } else {
                            v.to_string()
                        };
                        obj.insert(k.into(), v.into());
                    }
                    let body = serde_json::to_vec(&obj).unwrap();
                    match OriginateRequest::parse(&body, "it", "999") {
                        Err(e) => assert!((400..500).contains(&e.status)),
                        Ok(r) => {
                            let f = CallFile::for_message(
                                "ab",
                                &r.tocall,
                                "from-internal",
                                r.callerid,
                                (0, 1, 1),
                                Some(std::path::Path::new("/x/y")),
                                &r.destination,
                            )
                            .unwrap();
                            let text = f.render().unwrap();
                            let keys: Vec<&str> =
                                text.lines().map(|l| l.split(':').next().unwrap()).collect();
                            assert_eq!(
                                keys,
                                [
                                    "Channel",
                                    "CallerID",
                                    "MaxRetries",
                                    "RetryTime",
                                    "WaitTime",
                                    "Context",
                                    "Extension",
                                    "Priority",
                                    "Setvar",
                                    "Setvar",
                                    "Setvar",
                                    "Setvar",
                                    "Setvar",
                                    "Archive"
                                ],
                                "{field} {nasty:?}"
                            );
                            assert!(!text.contains("${") && !text.contains("$["), "{text}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn long_values_are_refused_not_truncated() {
        for field in ["tocall", "destination", "language", "voice", "callerid"] {
            let body = serde_json::json!({"tocall": "200", field: "9".repeat(10_000)});
            let e = OriginateRequest::parse(body.to_string().as_bytes(), "it", "999").unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
        }
    }
}
