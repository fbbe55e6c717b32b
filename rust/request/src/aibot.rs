//! The aibot request: every field of the original contract, validated and normalized.
//!
//! The same shape arrives twice: as the body of aibot.php (which places the call) and as each
//! reply of the NextMessageWebhookUrl (which decides the next step of a call in progress). A
//! reply has no PhoneNumber and inherits what it does not say from the step before it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::fields::{self, CallerId, Destination};
use crate::json::Object;

/// Longest URL accepted (MessageUrl, webhooks).
pub const MAX_URL_LEN: usize = 2048;
const MAX_ID_LEN: usize = 255;
const MAX_HINTS: usize = 100;
const MAX_HINT_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMethod {
    /// Play the message, collect nothing.
    None,
    Digits,
    Voice,
}

/// One `Name: value` header to add to a webhook request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// What to do in one step of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub language: String,
    pub message_url: Option<String>,
    pub message_text: Option<String>,
    pub input: InputMethod,
    /// Seconds of silence after speech that end a spoken answer.
    pub end_silence: f64,
    /// Digits that interrupt the message (and count as the first digit of the answer).
    pub exit_digits: String,
    pub expected_digits: Option<u32>,
    pub end_digit: Option<char>,
    pub stt: bool,
    pub speech_context: Vec<String>,
    pub goto: Destination,
    pub next_url: Option<String>,
    pub next_headers: Vec<Header>,
    /// Seconds to wait for the answer.
    pub timeout: u32,
}

/// The whole aibot.php request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AibotRequest {
    pub contact_id: Option<String>,
    pub campaign_id: Option<String>,
    pub phone_number: String,
    pub callerid: CallerId,
    pub max_retries: u32,
    pub retry_time: u32,
    pub wait_time: u32,
    pub status_url: Option<String>,
    pub status_headers: Vec<Header>,
    pub step: Step,
}

impl AibotRequest {
    pub fn parse(
        body: &[u8],
        default_language: &str,
        default_callerid: &str,
    ) -> Result<Self, ApiError> {
        if body.len() > crate::originate::MAX_BODY {
            return Err(ApiError::body_too_large(crate::originate::MAX_BODY));
        }
        let o = Object::parse(body)?;
        let phone_number = match o.text(&["PhoneNumber"])? {
            Some((f, v)) => fields::phone_number(&f, &v)?,
            None => return Err(ApiError::missing("PhoneNumber")),
        };
        let callerid = match o.text(&["callerid", "CallerId"])? {
            Some((f, v)) => fields::callerid(&f, &v)?,
            None => fields::callerid("callerid", default_callerid)
                .map_err(|e| ApiError::config(format!("default caller id: {}", e.message)))?,
        };
        let int = |names: &[&str], range, default: i64| -> Result<u32, ApiError> {
            Ok(o.integer(names, range)?.unwrap_or(default) as u32)
        };
        Ok(AibotRequest {
            contact_id: opaque_id(&o, "ContactId")?,
            campaign_id: opaque_id(&o, "CampaignId")?,
            phone_number,
            callerid,
            max_retries: int(&["maxretries", "maxretires", "MaxRetries"], 0..=20, 0)?,
            retry_time: int(&["retrytime", "RetryTime"], 1..=86_400, 60)?,
            wait_time: int(&["waittime", "WaitTime"], 1..=600, 30)?,
            status_url: url(&o, "CallStatusWebhookUrl")?,
            status_headers: headers(&o, "CallStatusWebhookHeader")?,
            step: Step::parse_object(&o, None, default_language)?,
        })
    }
}

impl Step {
    /// A webhook reply: the next step. What it leaves out is taken from `previous`.
    pub fn parse_reply(body: &[u8], previous: &Step) -> Result<Self, ApiError> {
        let o = Object::parse(body)?;
        Step::parse_object(&o, Some(previous), &previous.language)
    }

    fn parse_object(
        o: &Object,
        prev: Option<&Step>,
        default_language: &str,
    ) -> Result<Self, ApiError> {
        let language = match o.text(&["Language"])? {
            Some((f, v)) => fields::language(&f, &v)?,
            None => default_language.to_string(),
        };
        let message_url = url(o, "MessageUrl")?;
        let message_text = match o.text(&["MessageText"])? {
            Some((f, v)) => Some(fields::message_text(&f, &v)?).filter(|t| !t.is_empty()),
            None => None,
        };
        let input = match o.text(&["UserInputMethod"])? {
            None => InputMethod::None,
            Some((f, v)) => match v.trim_matches(' ').to_ascii_lowercase().as_str() {
                "" | "none" => InputMethod::None,
                "digits" | "dtmf" => InputMethod::Digits,
                "voice" | "speech" => InputMethod::Voice,
                _ => return Err(ApiError::invalid(&f, "must be voice or digits")),
            },
        };
        let end_silence = seconds(o, "EndOfSpeakSilenceLength", 0.1, 10.0)?.unwrap_or(0.5);
        let exit_digits = match o.text(&["MessageExitDigit"])? {
            None => String::new(),
            Some((f, v)) => {
                let v = v.trim_matches(' ').to_string();
                if v.len() > 12 || !v.chars().all(is_dtmf) {
                    return Err(ApiError::invalid(
                        &f,
                        "may hold only the digits 0-9, * and #",
                    ));
                }
                v
            }
        };
        let expected_digits = o
            .integer(&["NuberOfExpectedDigits", "NumberOfExpectedDigits"], 1..=64)?
            .map(|n| n as u32);
        let end_digit = match o.text(&["EndDigit"])? {
            None => None,
            Some((_, v)) if v.trim_matches(' ').is_empty() => None,
            Some((f, v)) => {
                let mut chars = v.trim_matches(' ').chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if is_dtmf(c) => Some(c),
                    _ => return Err(ApiError::invalid(&f, "must be one of 0-9, * or #")),
                }
            }
        };
        let goto = match o.text(&["GoToDestination"])? {
            Some((f, v)) => fields::destination(&f, &v)?,
            None => prev
                .map(|p| p.goto.clone())
                .unwrap_or_else(Destination::hangup),
        };
        // A reply that names no NextMessageWebhookUrl ends the loop; it does not inherit one.
        let next_url = url(o, "NextMessageWebhookUrl")?;
        let next_headers = match prev {
            Some(p) if o.raw("NextMessageWebhookHeader").is_none() => p.next_headers.clone(),
            _ => headers(o, "NextMessageWebhookHeader")?,
        };
        let timeout = match o.integer(&["Timeout"], 1..=600)? {
            Some(n) => n as u32,
            None => prev.map(|p| p.timeout).unwrap_or(30),
        };
        Ok(Step {
            language,
            message_url,
            message_text,
            input,
            end_silence,
            exit_digits,
            expected_digits,
            end_digit,
            stt: boolish(o, "UserAnswerSTT")?.unwrap_or(false),
            speech_context: hints(o, "SpeechContext")?,
            goto,
            next_url,
            next_headers,
            timeout,
        })
    }
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

/// ContactId / CampaignId: the client's own identifiers, echoed in webhooks (JSON only).
fn opaque_id(o: &Object, name: &str) -> Result<Option<String>, ApiError> {
    match o.text(&[name])? {
        None => Ok(None),
        Some((f, v)) => {
            if v.chars().count() > MAX_ID_LEN {
                return Err(ApiError::invalid(
                    &f,
                    format!("longer than {MAX_ID_LEN} characters"),
                ));
            }
            if v.chars().any(char::is_control) {
                return Err(ApiError::invalid(&f, "may not contain control characters"));
            }
            Ok(Some(v))
        }
    }
}

/// An http(s) URL.
fn url(o: &Object, name: &str) -> Result<Option<String>, ApiError> {
    let Some((f, v)) = o.text(&[name])? else {
        return Ok(None);
    };
    let v = v.trim_matches(' ');
    if v.is_empty() {
        return Ok(None);
    }
    // The URL parser would quietly drop a CR, LF or tab; a value holding one is refused.
    if v.chars().any(char::is_control) {
        return Err(ApiError::invalid(&f, "may not contain control characters"));
    }
    if v.len() > MAX_URL_LEN {
        return Err(ApiError::invalid(
            &f,
            format!("longer than {MAX_URL_LEN} characters"),
        ));
    }
    let parsed =
        url::Url::parse(v).map_err(|e| ApiError::invalid(&f, format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::invalid(&f, "must be an http or https URL"));
    }
    Ok(Some(parsed.to_string()))
}

/// HTTP header names are RFC 9110 tokens.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// `"Name: value"`, a list of those, or an object `{"Name": "value"}`.
fn headers(o: &Object, name: &str) -> Result<Vec<Header>, ApiError> {
    let Some(raw) = o.raw(name) else {
        return Ok(Vec::new());
    };
    let bad = |why: &str| ApiError::invalid(name, why.to_string());
    let mut out = Vec::new();
    let mut add = |n: &str, v: &str| -> Result<(), ApiError> {
        let (n, v) = (n.trim_matches(' '), v.trim_matches(' '));
        if !is_token(n) {
            return Err(bad("the header name is not a valid HTTP header name"));
        }
        if v.len() > 4096 || v.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad("the header value may not contain control characters"));
        }
        out.push(Header {
            name: n.to_string(),
            value: v.to_string(),
        });
        Ok(())
    };
    fn line(s: &str) -> Option<(&str, &str)> {
        s.split_once(':')
    }
    let no_colon = || bad("write it as \"Name: value\"");
    match raw {
        Value::Null => {}
        Value::String(s) if s.trim().is_empty() => {}
        Value::String(s) => {
            let (n, v) = line(s).ok_or_else(no_colon)?;
            add(n, v)?;
        }
        Value::Array(items) => {
            for item in items {
                let Value::String(s) = item else {
                    return Err(bad("must be a list of \"Name: value\" strings"));
                };
                let (n, v) = line(s).ok_or_else(no_colon)?;
                add(n, v)?;
            }
        }
        Value::Object(map) => {
            for (n, v) in map {
                let Value::String(v) = v else {
                    return Err(bad("header values must be strings"));
                };
                add(n, v)?;
            }
        }
        _ => return Err(bad("must be a \"Name: value\" string")),
    }
    if out.len() > 20 {
        return Err(bad("at most 20 headers"));
    }
    Ok(out)
}

fn seconds(o: &Object, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
    let Some(raw) = o.raw(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = match raw {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim_matches(' ').parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
    .ok_or_else(|| ApiError::invalid(name, "must be a number of seconds"))?;
    if !(min..=max).contains(&n) {
        return Err(ApiError::invalid(
            name,
            format!("must be between {min} and {max} seconds"),
        ));
    }
    Ok(Some(n))
}

/// true/false, 1/0, "1"/"0", "true"/"false", "yes"/"no".
fn boolish(o: &Object, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(raw) = o.raw(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let b = match raw {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().filter(|n| *n == 0 || *n == 1).map(|n| n == 1),
        Value::String(s) => match s.trim_matches(' ').to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" | "" => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.map(Some)
        .ok_or_else(|| ApiError::invalid(name, "must be true or false"))
}

/// A list of phrases, or a single phrase.
fn hints(o: &Object, name: &str) -> Result<Vec<String>, ApiError> {
    let items: Vec<&Value> = match o.raw(name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::String(_)) => vec![v],
        Some(_) => return Err(ApiError::invalid(name, "must be a list of phrases")),
    };
    if items.len() > MAX_HINTS {
        return Err(ApiError::invalid(
            name,
            format!("at most {MAX_HINTS} phrases"),
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let Value::String(s) = item else {
            return Err(ApiError::invalid(name, "every phrase must be a string"));
        };
        let s = fields::message_text(name, s)?;
        if s.chars().count() > MAX_HINT_CHARS {
            return Err(ApiError::invalid(
                name,
                format!("phrases are at most {MAX_HINT_CHARS} characters"),
            ));
        }
        if !s.is_empty() {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<AibotRequest, ApiError> {
        AibotRequest::parse(body.as_bytes(), "it", "999")
    }

    #[test]
    fn the_seed_example_parses() {
        let r = parse(
            r#"{"PhoneNumber": "201","Language":"it_IT","UserInputMethod":"voice","GoToDestination":"Hangup,s,1",
                "MessageText":"Questo è un test echo.","UserAnswerSTT":"1",
                "NextMessageWebhookUrl":"https://pbx.example/freepbx/apicall/demo-bot.php/aibot",
                "NextMessageWebhookHeader":"token: abc"}"#,
        )
        .unwrap();
        assert_eq!(r.phone_number, "201");
        assert_eq!(r.step.language, "it_IT");
        assert_eq!(r.step.input, InputMethod::Voice);
        assert!(r.step.stt);
        assert_eq!(r.step.goto.context, "Hangup");
        assert_eq!(
            r.step.next_headers,
            vec![Header {
                name: "token".into(),
                value: "abc".into()
            }]
        );
        assert_eq!(r.step.end_silence, 0.5);
        assert_eq!(r.step.timeout, 30);
    }

    #[test]
    fn defaults() {
        let r = parse(r#"{"PhoneNumber":"2001"}"#).unwrap();
        assert_eq!(r.step.input, InputMethod::None);
        assert_eq!(r.step.goto, Destination::hangup());
        assert_eq!(r.step.language, "it");
        assert_eq!((r.max_retries, r.retry_time, r.wait_time), (0, 60, 30));
        assert!(!r.step.stt);
        assert!(r.status_url.is_none());
    }

    #[test]
    fn digits_fields_and_both_spellings() {
        let r = parse(r##"{"PhoneNumber":"2001","UserInputMethod":"digits","NuberOfExpectedDigits":3,"EndDigit":"#","MessageExitDigit":"12*"}"##).unwrap();
        assert_eq!(r.step.expected_digits, Some(3));
        assert_eq!(r.step.end_digit, Some('#'));
        assert_eq!(r.step.exit_digits, "12*");
        let r = parse(r#"{"PhoneNumber":"2001","NumberOfExpectedDigits":"4"}"#).unwrap();
        assert_eq!(r.step.expected_digits, Some(4));
        let e =
            parse(r#"{"PhoneNumber":"2001","NumberOfExpectedDigits":4,"NuberOfExpectedDigits":4}"#)
                .unwrap_err();
        assert_eq!(e.code, "invalid_field");
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            (r#"{}"#, "PhoneNumber"),
            (r#"{"PhoneNumber":"20 1"}"#, "PhoneNumber"),
            (
                r#"{"PhoneNumber":"1","UserInputMethod":"fax"}"#,
                "UserInputMethod",
            ),
            (
                r#"{"PhoneNumber":"1","EndOfSpeakSilenceLength":"long"}"#,
                "EndOfSpeakSilenceLength",
            ),
            (
                r#"{"PhoneNumber":"1","EndOfSpeakSilenceLength":60}"#,
                "EndOfSpeakSilenceLength",
            ),
            (
                r#"{"PhoneNumber":"1","MessageExitDigit":"a"}"#,
                "MessageExitDigit",
            ),
            (r###"{"PhoneNumber":"1","EndDigit":"##"}"###, "EndDigit"),
            (
                r#"{"PhoneNumber":"1","NuberOfExpectedDigits":0}"#,
                "NuberOfExpectedDigits",
            ),
            (
                r#"{"PhoneNumber":"1","UserAnswerSTT":"maybe"}"#,
                "UserAnswerSTT",
            ),
            (
                r#"{"PhoneNumber":"1","SpeechContext":[1,2]}"#,
                "SpeechContext",
            ),
            (
                r#"{"PhoneNumber":"1","SpeechContext":{"a":1}}"#,
                "SpeechContext",
            ),
            (
                r#"{"PhoneNumber":"1","CallStatusWebhookUrl":"ftp://x/y"}"#,
                "CallStatusWebhookUrl",
            ),
            (
                r#"{"PhoneNumber":"1","CallStatusWebhookUrl":"not a url"}"#,
                "CallStatusWebhookUrl",
            ),
            (
                r#"{"PhoneNumber":"1","NextMessageWebhookUrl":"file:///etc/passwd"}"#,
                "NextMessageWebhookUrl",
            ),
            (
                r#"{"PhoneNumber":"1","MessageUrl":"javascript:alert(1)"}"#,
                "MessageUrl",
            ),
            (
                r#"{"PhoneNumber":"1","CallStatusWebhookHeader":"X-Token abc"}"#,
                "CallStatusWebhookHeader",
            ),
            (
                r#"{"PhoneNumber":"1","CallStatusWebhookHeader":"X-Token: a\r\nHost: evil"}"#,
                "CallStatusWebhookHeader",
            ),
            (
                r#"{"PhoneNumber":"1","NextMessageWebhookHeader":"Bad Name: x"}"#,
                "NextMessageWebhookHeader",
            ),
            (
                r#"{"PhoneNumber":"1","GoToDestination":"a,b"}"#,
                "GoToDestination",
            ),
            (r#"{"PhoneNumber":"1","Timeout":0}"#, "Timeout"),
            (r#"{"PhoneNumber":"1","Language":"it IT"}"#, "Language"),
            (
                r#"{"PhoneNumber":"1","MessageText":"a\u0007"}"#,
                "MessageText",
            ),
            (r#"{"PhoneNumber":"1","ContactId":"a\nb"}"#, "ContactId"),
            (r#"{"PhoneNumber":"1","CampaignId":["x"]}"#, "CampaignId"),
        ];
        for (body, field) in cases {
            let e = parse(body).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{body}: {e}");
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn headers_in_every_accepted_shape() {
        let r = parse(r#"{"PhoneNumber":"1","CallStatusWebhookHeader":{"Authorization":"Bearer x","X-A":"1"}}"#).unwrap();
        assert_eq!(r.status_headers.len(), 2);
        let r =
            parse(r#"{"PhoneNumber":"1","CallStatusWebhookHeader":["A: 1","B: 2:3"]}"#).unwrap();
        assert_eq!(
            r.status_headers[1],
            Header {
                name: "B".into(),
                value: "2:3".into()
            }
        );
        let r = parse(r#"{"PhoneNumber":"1","CallStatusWebhookHeader":""}"#).unwrap();
        assert!(r.status_headers.is_empty());
    }

    #[test]
    fn a_reply_inherits_what_it_does_not_say() {
        let first = parse(r#"{"PhoneNumber":"1","Language":"en_US","GoToDestination":"ctx,s,1","Timeout":12,
            "NextMessageWebhookUrl":"http://127.0.0.1:9/hook","NextMessageWebhookHeader":"X-K: v"}"#)
        .unwrap()
        .step;
        let next = Step::parse_reply(br#"{"MessageText":"Again","UserInputMethod":"digits","NextMessageWebhookUrl":"http://127.0.0.1:9/hook"}"#, &first).unwrap();
        assert_eq!(next.language, "en_US");
        assert_eq!(next.goto.context, "ctx");
        assert_eq!(next.timeout, 12);
        assert_eq!(next.next_headers, first.next_headers);
        assert_eq!(next.message_text.as_deref(), Some("Again"));
        // No NextMessageWebhookUrl in the reply: the conversation ends after this step.
        let last = Step::parse_reply(br#"{"MessageText":"Bye"}"#, &first).unwrap();
        assert!(last.next_url.is_none());
        assert!(Step::parse_reply(b"<html>", &first).is_err());
        assert!(Step::parse_reply(br#"{"GoToDestination":"x"}"#, &first).is_err());
    }

    #[test]
    fn stored_form_round_trips() {
        let r = parse(r##"{"PhoneNumber":"1","SpeechContext":["yes","no"],"UserInputMethod":"voice","EndDigit":"#"}"##).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        let back: AibotRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
