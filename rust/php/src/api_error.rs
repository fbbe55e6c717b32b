//! `Apicall\ApiError`, the exception every extension function throws.
//!
//! Registered with `ClassBuilder` as a subclass of `\Exception` (so PHP fills in file, line and
//! trace like for any exception). It carries the HTTP status as its code plus two public
//! properties: `$error`, the stable machine-readable code, and `$field`, the request field.

use std::sync::atomic::{AtomicPtr, Ordering};

use apicall_core::ApiError;
use ext_php_rs::builders::{ClassBuilder, ClassProperty};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, PropertyFlags};
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ce, ClassEntry};

pub type PhpResult<T> = Result<T, PhpException>;

pub const CLASS: &str = "Apicall\\ApiError";

static CLASS_ENTRY: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

fn class_entry() -> &'static ClassEntry {
    let p = CLASS_ENTRY.load(Ordering::Acquire);
    // SAFETY: set once at module startup to a class entry the engine keeps for the process.
    unsafe { p.as_ref() }.unwrap_or_else(ce::exception)
}

fn property(
    name: &str,
    ty: DataType,
    nullable: bool,
    docs: &'static [&'static str],
) -> ClassProperty {
    let default: Box<dyn FnOnce() -> ext_php_rs::error::Result<Zval>> = if nullable {
        Box::new(|| Ok(Zval::null()))
    } else {
        Box::new(|| {
            let mut z = Zval::new();
            z.set_string("", false)?;
            Ok(z)
        })
    };
    ClassProperty {
        name: name.into(),
        flags: PropertyFlags::Public,
        default: Some(default),
        docs,
        ty: Some(ty),
        nullable,
        readonly: false,
        default_stub: Some(if nullable { "null".into() } else { "''".into() }),
    }
}

/// Module startup hook: registers the class. Returns 0 (SUCCESS) or -1.
pub unsafe extern "C" fn register(_ty: i32, _module_number: i32) -> i32 {
    let result = ClassBuilder::new(CLASS)
        .extends((ce::exception, "\\Exception"))
        .property(property(
            "error",
            DataType::String,
            false,
            &["Machine-readable error code."],
        ))
        .property(property(
            "field",
            DataType::String,
            true,
            &["The request field at fault, or null."],
        ))
        .property(property(
            "retry_after",
            DataType::Long,
            true,
            &["Seconds before trying again (429, 503), or null."],
        ))
        .registration(|ce, _| CLASS_ENTRY.store(ce, Ordering::Release))
        .register();
    match result {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// Turns a core error into the PHP exception to throw.
pub fn throw(err: ApiError) -> PhpException {
    let code = i32::from(err.status);
    let ce = class_entry();
    let plain = PhpException::new(err.message.clone(), code, ce);
    match build(&err, ce) {
        Some(obj) => plain.with_object(obj),
        None => plain,
    }
}

fn build(err: &ApiError, ce: &'static ClassEntry) -> Option<Zval> {
    let mut obj = ZendObject::new(ce);
    let message = err.message.clone();
    let code = i64::from(err.status);
    obj.try_call_method("__construct", vec![&message, &code])
        .ok()?;
    obj.set_property("error", err.code).ok()?;
    match &err.field {
        Some(f) => obj.set_property("field", f.as_str()).ok()?,
        None => obj.set_property("field", ()).ok()?,
    }
    match err.retry_after {
        Some(s) => obj.set_property("retry_after", i64::from(s)).ok()?,
        None => obj.set_property("retry_after", ()).ok()?,
    }
    obj.into_zval(false).ok()
}
