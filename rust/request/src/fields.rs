//! The grammar of every value that can travel from a request towards Asterisk.
//!
//! Each validator accepts a narrow, documented alphabet. What passes here is safe to place in a
//! call file line or a dialplan application argument: no line breaks, no commas where Asterisk
//! would split arguments, no `${...}` expressions, no channel-technology separators.

use crate::error::ApiError;

/// Longest phone number accepted (E.164 is 15 digits; room for prefixes and feature codes).
pub const MAX_NUMBER_LEN: usize = 40;
const MAX_NAME_LEN: usize = 64;
const MAX_DIALPLAN_NAME_LEN: usize = 79;

/// A number to dial or to present: digits, `*`, `#`, and `+` only as the first character.
pub fn phone_number(field: &str, s: &str) -> Result<String, ApiError> {
    let s = s.trim_matches(' ');
    if s.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if s.len() > MAX_NUMBER_LEN {
        return Err(ApiError::invalid(
            field,
            format!("longer than {MAX_NUMBER_LEN} characters"),
        ));
    }
    for (i, c) in s.chars().enumerate() {
        let ok = c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0);
        if !ok {
            return Err(ApiError::invalid(
                field,
                format!(
                    "{:?} is not dialable: use digits, * and #, with an optional leading +",
                    c
                ),
            ));
        }
    }
    Ok(s.to_string())
}

/// Asterisk context names as FreePBX writes them (`from-internal`, `app-blackhole`, `ext-queues`).
pub fn is_context_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DIALPLAN_NAME_LEN
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_exten(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DIALPLAN_NAME_LEN
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | '#' | '+' | '.'))
}

fn is_priority(s: &str) -> bool {
    let numeric =
        !s.is_empty() && s.len() <= 5 && s.chars().all(|c| c.is_ascii_digit()) && s != "0";
    let label = s.len() <= MAX_DIALPLAN_NAME_LEN
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    numeric || label
}

/// A FreePBX destination, `context,exten,priority`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Destination {
    pub context: String,
    pub exten: String,
    pub priority: String,
}

impl Destination {
    pub fn hangup() -> Self {
        Destination {
            context: "app-blackhole".into(),
            exten: "hangup".into(),
            priority: "1".into(),
        }
    }
}

pub fn destination(field: &str, s: &str) -> Result<Destination, ApiError> {
    let parts: Vec<&str> = s
        .trim_matches(' ')
        .split(',')
        .map(|p| p.trim_matches(' '))
        .collect();
    let [context, exten, priority] = parts.as_slice() else {
        return Err(ApiError::invalid(
            field,
            "must be a FreePBX destination context,exten,priority (e.g. app-blackhole,hangup,1)",
        ));
    };
    if !is_context_name(context) {
        return Err(ApiError::invalid(
            field,
            "the context may hold letters, digits, - and _ only",
        ));
    }
    if !is_exten(exten) {
        return Err(ApiError::invalid(
            field,
            "the extension may hold letters, digits and -_*#+. only",
        ));
    }
    if !is_priority(priority) {
        return Err(ApiError::invalid(
            field,
            "the priority must be a number or a label",
        ));
    }
    Ok(Destination {
        context: context.to_string(),
        exten: exten.to_string(),
        priority: priority.to_string(),
    })
}

/// Caller id as `Name <number>`, `"Name" <number>` or a bare number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallerId {
    pub name: Option<String>,
    pub number: String,
}

pub fn callerid(field: &str, s: &str) -> Result<CallerId, ApiError> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(ApiError::invalid(field, format!("may not contain {c:?}")));
    }
    let s = s.trim_matches(' ');
    let Some(open) = s.find('<') else {
        return Ok(CallerId {
            name: None,
            number: phone_number(field, s)?,
        });
    };
    let Some(number) = s[open + 1..].strip_suffix('>') else {
        return Err(ApiError::invalid(field, "write it as Name <number>"));
    };
    let raw_name = s[..open].trim_matches(' ');
    let name = raw_name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(raw_name)
        .trim_matches(' ');
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid(
            field,
            format!("the name is longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
    {
        return Err(ApiError::invalid(
            field,
            format!("the name may not contain {c:?}"),
        ));
    }
    Ok(CallerId {
        name: (!name.is_empty()).then(|| name.to_string()),
        number: phone_number(field, number)?,
    })
}

/// A language tag such as `it`, `en_US`, `en-US`, `pt_BR`.
pub fn language(field: &str, s: &str) -> Result<String, ApiError> {
    let s = s.trim_matches(' ');
    let mut parts = s.splitn(2, ['_', '-']);
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    let lang_ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphabetic());
    let region_ok = region
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    if !lang_ok || !region_ok {
        return Err(ApiError::invalid(
            field,
            "must be a language tag such as it, it_IT or en-US",
        ));
    }
    Ok(s.to_string())
}

/// A voice name: engine-specific (`it-IT-Wavenet-A`, `en+f3`), from a safe alphabet.
pub fn voice(field: &str, s: &str) -> Result<String, ApiError> {
    let s = s.trim_matches(' ');
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if !ok {
        return Err(ApiError::invalid(
            field,
            "may hold letters, digits and -_.+ only (64 at most)",
        ));
    }
    Ok(s.to_string())
}

/// Longest text accepted for speech synthesis (characters).
pub const MAX_MESSAGE_CHARS: usize = 3000;

/// Text to speak. Line breaks and tabs become spaces; other control characters are refused.
pub fn message_text(field: &str, s: &str) -> Result<String, ApiError> {
    if s.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("longer than {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            field,
            format!("contains the control character {c:?}"),
        ));
    }
    let normal: String = s
        .split(['\n', '\r', '\t', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(phone_number("tocall", " 200 ").unwrap(), "200");
        assert_eq!(phone_number("tocall", "+390612345").unwrap(), "+390612345");
        assert!(phone_number("tocall", "*97#").is_ok());
        for bad in [
            "",
            "20+0",
            "200@ctx",
            "200/x",
            "200&SIP/1",
            "2 00",
            "200\n",
            "٣٣",
            "a1",
        ] {
            let e = phone_number("tocall", bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("tocall"), "{bad:?}");
        }
        assert!(phone_number("tocall", &"1".repeat(41)).is_err());
    }

    #[test]
    fn destinations() {
        let d = destination("destination", "from-did-direct,201,1").unwrap();
        assert_eq!(
            (d.context.as_str(), d.exten.as_str(), d.priority.as_str()),
            ("from-did-direct", "201", "1")
        );
        assert!(destination("d", "app-blackhole,hangup,1").is_ok());
        assert!(destination("d", "ext-local,vmb201,1").is_ok());
        assert!(destination("d", "Hangup,s,1").is_ok());
        assert!(destination("d", "ctx,s,label_1").is_ok());
        for bad in [
            "",
            "a,b",
            "a,b,c,d",
            "a b,s,1",
            "ctx,s,0",
            "ctx,s,${X}",
            "ctx,$[1],1",
            "ctx,s,1)\nexten",
            "ctx;x,s,1",
            "ctx,s,1|2",
            "ctx(,s,1",
            ",s,1",
            "ctx,,1",
        ] {
            assert!(destination("d", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn callerids() {
        assert_eq!(
            callerid("callerid", "999").unwrap(),
            CallerId {
                name: None,
                number: "999".into()
            }
        );
        let c = callerid("callerid", "\"Acme Support\" <0612345>").unwrap();
        assert_eq!(c.name.as_deref(), Some("Acme Support"));
        assert_eq!(c.number, "0612345");
        assert_eq!(
            callerid("c", "Zoë <1>").unwrap().name.as_deref(),
            Some("Zoë")
        );
        for bad in [
            "",
            "Name <>",
            "Name <12",
            "Na\"me <1>",
            "Na\nme <1>",
            "a <b>",
            "x",
        ] {
            assert!(callerid("c", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn languages_and_voices() {
        for ok in ["it", "it_IT", "en-US", "pt_BR", "yue", "zh-Hans"] {
            assert!(language("language", ok).is_ok(), "{ok}");
        }
        for bad in ["", "i", "italian", "it__IT", "it-IT-x", "it;rm", "e1"] {
            assert!(language("language", bad).is_err(), "{bad}");
        }
        assert!(voice("voice", "it-IT-Wavenet-A").is_ok());
        assert!(voice("voice", "en+f3").is_ok());
        assert!(voice("voice", "a b").is_err());
        assert!(voice("voice", "").is_err());
    }

    #[test]
    fn message_texts() {
        assert_eq!(
            message_text("message", "Hello\r\n  world\t!").unwrap(),
            "Hello world !"
        );
        assert!(message_text("message", "a\u{0}b").is_err());
        assert!(message_text("message", "a\u{1b}[31m").is_err());
        assert!(message_text("message", &"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert!(message_text("message", &"é".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
    }
}
