//! The `apicall` PHP extension: thin bindings from PHP to `apicall-core`.
//!
//! Everything PHP sees is named here explicitly under the `Apicall\` namespace. Functions take
//! PHP values, convert them to core types, call the core and convert back; errors become
//! `Apicall\ApiError` exceptions carrying the HTTP status (as the exception code), a
//! machine-readable `$error` and the offending `$field`. Nothing (runtime, pools, clients) is
//! created when PHP loads the extension: the core makes them on first use in each process.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod api_error;
mod convert;
mod log;

use apicall_core::{kvstore, originate, token, CoreConfig};
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

use crate::api_error::{throw, PhpResult};

/// The extension's version, which is the module's version.
#[php_function]
#[php(name = "Apicall\\version")]
pub fn version() -> &'static str {
    apicall_core::VERSION
}

/// A new random API token (64 hex characters, 256 bits).
#[php_function]
#[php(name = "Apicall\\generate_token")]
pub fn generate_token() -> String {
    token::generate()
}

/// Throws `Apicall\ApiError` (401, 503) unless `$given` equals the token stored in FreePBX's
/// kvstore. The comparison takes constant time.
#[php_function]
#[php(name = "Apicall\\check_token")]
pub fn check_token(config: &ZendHashTable, given: Option<String>) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    kvstore::check_token(&cfg.db, given.as_deref()).map_err(throw)
}

/// Validates an index.php request body, prepares its message and queues the call.
/// Returns `['id' => ..., 'status' => 'queued', 'tocall' => ..., ...]`.
#[php_function]
#[php(name = "Apicall\\originate")]
pub fn originate(
    config: &ZendHashTable,
    body: &Zval,
) -> PhpResult<ext_php_rs::boxed::ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let cfg: CoreConfig = convert::config(config).map_err(throw)?;
    let bytes = convert::bytes(body, "body").map_err(throw)?;
    let queued = originate::originate(&cfg, bytes).map_err(throw)?;
    convert::to_array(&queued).map_err(throw)
}

/// Module startup (MINIT): registers `Apicall\ApiError` and the log route. Starts no thread,
/// opens no socket: PHP forks after this.
unsafe extern "C" fn startup(ty: i32, module_number: i32) -> i32 {
    log::init();
    // SAFETY: called by PHP during MINIT, as the class registration requires.
    unsafe { api_error::register(ty, module_number) }
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("apicall")
        .version(apicall_core::VERSION)
        .startup_function(startup)
        .function(wrap_function!(version))
        .function(wrap_function!(generate_token))
        .function(wrap_function!(check_token))
        .function(wrap_function!(originate))
}
