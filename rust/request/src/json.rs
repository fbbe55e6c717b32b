//! Strict reading of JSON request bodies.
//!
//! serde_json silently keeps the last of two equal keys; a request such as
//! `{"tocall":"200","tocall":"300"}` is ambiguous, so it is refused here. The getters accept the
//! loose types the original PHP module tolerated (numbers as strings and strings as numbers) and
//! refuse everything else with an error naming the field.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::error::ApiError;

/// A JSON object whose keys were all distinct.
#[derive(Debug, Default)]
pub struct Object(BTreeMap<String, Value>);

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: Value = map.next_value()?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                }
                Ok(Object(out))
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

impl Object {
    /// Parses a request body that must be one JSON object.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid_json("the body is empty"));
        }
        serde_json::from_slice(body).map_err(ApiError::invalid_json)
    }

    /// The raw value of a field, when present (null included).
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The value of the first of `names` that is present and not null, with the name it had.
    /// Several names exist for the same field because the original API misspelled some.
    fn first<'a>(&'a self, names: &[&'a str]) -> Result<Option<(&'a str, &'a Value)>, ApiError> {
        let present: Vec<_> = names
            .iter()
            .filter_map(|n| self.0.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
            .collect();
        match present.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [a, b, ..] => Err(ApiError::invalid(
                b.0,
                format!("give either {} or {}, not both", a.0, b.0),
            )),
        }
    }

    /// A text field. Numbers are accepted and written in decimal, as PHP would have.
    pub fn text(&self, names: &[&str]) -> Result<Option<(String, String)>, ApiError> {
        let Some((name, v)) = self.first(names)? else {
            return Ok(None);
        };
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => {
                return Err(ApiError::invalid(
                    name,
                    format!("must be a string, not {}", kind(v)),
                ))
            }
        };
        Ok(Some((name.to_string(), s)))
    }

    /// An integer field within `range`. Strings of digits are accepted.
    pub fn integer(
        &self,
        names: &[&str],
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some((name, v)) = self.first(names)? else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => n.as_i64(),
            // Spaces around digits are forgiven; a CR, LF or other control character is not.
            Value::String(s) => s.trim_matches(' ').parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| ApiError::invalid(name, format!("must be an integer, not {}", kind(v))))?;
        if !range.contains(&n) {
            return Err(ApiError::invalid(
                name,
                format!("must be between {} and {}", range.start(), range.end()),
            ));
        }
        Ok(Some(n))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused() {
        let e = Object::parse(br#"{"tocall":"1","tocall":"2"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        assert!(e.message.contains("duplicate"), "{e}");
    }

    #[test]
    fn non_objects_are_refused() {
        for body in [&b"[]"[..], b"\"x\"", b"12", b"", b"  ", b"{", b"null"] {
            assert_eq!(
                Object::parse(body).unwrap_err().code,
                "invalid_json",
                "{body:?}"
            );
        }
    }

    #[test]
    fn loose_scalars_are_accepted_strict_shapes_not() {
        let o = Object::parse(br#"{"a":200,"b":"7","c":[1],"d":true,"e":1.5,"f":null}"#).unwrap();
        assert_eq!(o.text(&["a"]).unwrap().unwrap().1, "200");
        assert_eq!(o.integer(&["b"], 0..=10).unwrap(), Some(7));
        assert_eq!(o.text(&["c"]).unwrap_err().field.as_deref(), Some("c"));
        assert_eq!(o.text(&["d"]).unwrap_err().code, "invalid_field");
        assert!(o.integer(&["e"], 0..=10).is_err());
        assert_eq!(o.text(&["f"]).unwrap(), None);
        assert!(o.integer(&["b"], 0..=5).is_err());
    }

    #[test]
    fn aliases_conflict_when_both_given() {
        let o = Object::parse(br#"{"maxretries":1,"maxretires":2}"#).unwrap();
        let e = o.integer(&["maxretries", "maxretires"], 0..=5).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("maxretires"));
        let o = Object::parse(br#"{"maxretires":2}"#).unwrap();
        assert_eq!(
            o.integer(&["maxretries", "maxretires"], 0..=5).unwrap(),
            Some(2)
        );
    }
}
