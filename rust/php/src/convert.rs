//! Conversions between PHP values and the core's types.

use std::collections::HashMap;

use apicall_core::{ApiError, CoreConfig};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde::Serialize;
use serde_json::Value;

/// The `$config` array: string keys to scalar values.
pub fn config(table: &ZendHashTable) -> Result<CoreConfig, ApiError> {
    CoreConfig::from_map(&config_values(table)?)
}

/// The `$config` array's values as strings (nulls left out).
pub fn config_values(table: &ZendHashTable) -> Result<HashMap<String, String>, ApiError> {
    let mut map = HashMap::new();
    for (key, val) in table.iter() {
        let v = if let Some(s) = val.str() {
            s.to_string()
        } else if let Some(n) = val.long() {
            n.to_string()
        } else if val.is_null() {
            continue;
        } else {
            return Err(ApiError::config(format!(
                "configuration key {key} must be a string"
            )));
        };
        map.insert(key.to_string(), v);
    }
    Ok(map)
}

/// String keys to strings, as a PHP array.
pub fn strings_to_array(values: &HashMap<String, String>) -> Result<ZBox<ZendHashTable>, ApiError> {
    let mut table = ZendHashTable::new();
    for (key, value) in values {
        table
            .insert(key.as_str(), value.as_str())
            .map_err(|e| ApiError::internal("internal_error", e))?;
    }
    Ok(table)
}

/// The bytes of a PHP string (which may hold any bytes, not only UTF-8).
pub fn bytes<'a>(z: &'a Zval, what: &str) -> Result<&'a [u8], ApiError> {
    z.zend_str()
        .map(|s| s.as_bytes())
        .ok_or_else(|| ApiError::internal("internal_error", format!("{what} must be a string")))
}

/// A serializable struct as a JSON value.
pub fn to_value<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal("internal_error", e))
}

/// A serializable struct as a PHP array, through a JSON value tree (small, not a hot path).
pub fn to_array<T: Serialize>(v: &T) -> Result<ZBox<ZendHashTable>, ApiError> {
    value_to_array(to_value(v)?)
}

/// A JSON object as a PHP array.
pub fn value_to_array(value: Value) -> Result<ZBox<ZendHashTable>, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::internal("internal_error", "expected an object"));
    };
    let mut arr = ZendHashTable::new();
    for (k, v) in map {
        insert(&mut arr, &k, v)?;
    }
    Ok(arr)
}

/// A list of JSON objects (CDR rows) as a PHP list of associative arrays.
pub fn rows_to_array(
    rows: Vec<serde_json::Map<String, Value>>,
) -> Result<ZBox<ZendHashTable>, ApiError> {
    let e = |e: ext_php_rs::error::Error| ApiError::internal("internal_error", e);
    let mut list = ZendHashTable::new();
    for row in rows {
        let mut arr = ZendHashTable::new();
        for (k, v) in row {
            insert(&mut arr, &k, v)?;
        }
        list.push(arr).map_err(e)?;
    }
    Ok(list)
}

fn insert(arr: &mut ZendHashTable, key: &str, v: Value) -> Result<(), ApiError> {
    let e = |e: ext_php_rs::error::Error| ApiError::internal("internal_error", e);
    match v {
        Value::Null => arr.insert(key, ()).map_err(e),
        Value::Bool(b) => arr.insert(key, b).map_err(e),
        Value::Number(n) => match n.as_i64() {
            Some(i) => arr.insert(key, i).map_err(e),
            None => arr.insert(key, n.as_f64().unwrap_or(0.0)).map_err(e),
        },
        Value::String(s) => arr.insert(key, s).map_err(e),
        Value::Array(_) | Value::Object(_) => arr.insert(key, v.to_string()).map_err(e),
    }
}
