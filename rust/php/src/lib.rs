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

use apicall_core::{
    access, agi_config, aibot, answer_url, cdr, config_cache, originate, outbox, token, CoreConfig,
};
use ext_php_rs::boxed::ZBox;
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

/// Throws `Apicall\ApiError` unless the request may go on: 403 when `$remote_addr` is not in
/// the allowlist, 429 after too many failed tokens from it, 401 unless `$given` equals the token
/// stored in FreePBX's kvstore (compared in constant time), 503 when the database is down.
#[php_function]
#[php(name = "Apicall\\check_token")]
pub fn check_token(
    config: &ZendHashTable,
    given: Option<String>,
    remote_addr: Option<String>,
) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    access::check(&cfg, given.as_deref(), remote_addr.as_deref()).map_err(throw)
}

/// The configuration this process kept from an earlier request, when it is still current (the
/// module's kvstore rows unchanged, at most a minute old); `null`: bootstrap FreePBX, build it
/// (`Apicall::coreConfig()`) and hand it to `remember_config`.
#[php_function]
#[php(name = "Apicall\\cached_config")]
pub fn cached_config() -> Option<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    config_cache::current().and_then(|values| convert::strings_to_array(&values).ok())
}

/// Keeps `$config` for the next requests this process serves (see `cached_config`).
#[php_function]
#[php(name = "Apicall\\remember_config")]
pub fn remember_config(config: &ZendHashTable) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let values = convert::config_values(config).map_err(throw)?;
    config_cache::remember(values).map_err(throw)
}

/// The configuration an earlier AGI process left under Asterisk's spool folder, when still
/// current: `['config' => [...], 'module_dir' => ..., 'log_file' => ...]`; `null`: bootstrap
/// FreePBX and hand what it builds to `agi_config_save`.
#[php_function]
#[php(name = "Apicall\\agi_config")]
pub fn agi_config_load(spool_dir: String) -> Option<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let kept = agi_config::load(std::path::Path::new(&spool_dir))?;
    let mut out = ZendHashTable::new();
    out.insert("config", convert::strings_to_array(&kept.values).ok()?)
        .ok()?;
    out.insert("module_dir", kept.module_dir).ok()?;
    out.insert("log_file", kept.log_file).ok()?;
    Some(out)
}

/// Leaves `$config` for the next AGI processes (see `agi_config`).
#[php_function]
#[php(name = "Apicall\\agi_config_save")]
pub fn agi_config_save(
    spool_dir: String,
    config: &ZendHashTable,
    module_dir: String,
    log_file: String,
) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let values = convert::config_values(config).map_err(throw)?;
    let kept = agi_config::AgiConfig {
        values,
        module_dir,
        log_file,
    };
    agi_config::save(std::path::Path::new(&spool_dir), kept).map_err(throw)
}

/// Validates an index.php request body, prepares its message and queues the call.
/// Returns `['id' => ..., 'status' => 'queued', 'tocall' => ..., ...]`.
#[php_function]
#[php(name = "Apicall\\originate")]
pub fn originate(
    config: &ZendHashTable,
    body: &Zval,
    idempotency_key: Option<String>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let cfg: CoreConfig = convert::config(config).map_err(throw)?;
    let bytes = convert::bytes(body, "body").map_err(throw)?;
    let answer = access::idempotent(&cfg, "originate", idempotency_key.as_deref(), || {
        // Speech synthesis and the waits for the disk first; only the hand-over to Asterisk
        // runs under the capacity lock.
        let ready = originate::stage(&cfg, originate::prepare(&cfg, bytes)?)?;
        convert::to_value(&access::with_capacity(&cfg, || ready.commit())?)
    })
    .map_err(throw)?;
    convert::value_to_array(answer).map_err(throw)
}

/// Validates an aibot.php request body, stores the call and queues it.
/// Returns `['id' => ..., 'status' => 'queued', 'PhoneNumber' => ...]`.
#[php_function]
#[php(name = "Apicall\\aibot_queue")]
pub fn aibot_queue(
    config: &ZendHashTable,
    body: &Zval,
    idempotency_key: Option<String>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    let bytes = convert::bytes(body, "body").map_err(throw)?;
    let answer = access::idempotent(&cfg, "aibot", idempotency_key.as_deref(), || {
        let ready = aibot::queue::stage(&cfg, bytes)?;
        convert::to_value(&access::with_capacity(&cfg, || ready.commit())?)
    })
    .map_err(throw)?;
    convert::value_to_array(answer).map_err(throw)
}

/// Delivers due status events from the outbox for at most `$max_seconds` (the periodic runner:
/// FreePBX cron, `fwconsole apicall:outbox`). Returns `['delivered', 'failed', 'expired', 'pending']`.
#[php_function]
#[php(name = "Apicall\\outbox_deliver")]
pub fn outbox_deliver(config: &ZendHashTable, max_seconds: i64) -> PhpResult<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    let budget = std::time::Duration::from_secs(max_seconds.clamp(1, 3600) as u64);
    let summary = outbox::deliver_due(&cfg, budget).map_err(throw)?;
    convert::to_array(&summary).map_err(throw)
}

/// Runs an answered aibot call's conversation over this process's AGI channel (EAGI script).
#[php_function]
#[php(name = "Apicall\\aibot_session")]
pub fn aibot_session(config: &ZendHashTable) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    aibot::run_session(&cfg).map_err(throw)
}

/// Reports how a call ended (`hangup` handler or `failed` extension), once per call.
#[php_function]
#[php(name = "Apicall\\call_status")]
pub fn call_status(config: &ZendHashTable, event: String) -> PhpResult<()> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    aibot::run_status(&cfg, &event).map_err(throw)
}

/// The CDR rows of a call by `uniqueid` or `linkedid`.
#[php_function]
#[php(name = "Apicall\\cdr_rows")]
pub fn cdr_rows(
    config: &ZendHashTable,
    uniqueid: Option<String>,
    linkedid: Option<String>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    let rows = cdr::rows(&cfg, uniqueid.as_deref(), linkedid.as_deref()).map_err(throw)?;
    convert::rows_to_array(rows).map_err(throw)
}

/// The path of a recorded answer for a signed request; throws 403 or 404.
#[php_function]
#[php(name = "Apicall\\answer_audio")]
pub fn answer_audio(
    config: &ZendHashTable,
    file: String,
    expires: String,
    sig: String,
) -> PhpResult<String> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    let path = answer_url::answer_path(&cfg, &file, &expires, &sig).map_err(throw)?;
    Ok(path.to_string_lossy().into_owned())
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
        .function(wrap_function!(cached_config))
        .function(wrap_function!(remember_config))
        .function(wrap_function!(agi_config_load))
        .function(wrap_function!(agi_config_save))
        .function(wrap_function!(check_token))
        .function(wrap_function!(originate))
        .function(wrap_function!(aibot_queue))
        .function(wrap_function!(aibot_session))
        .function(wrap_function!(call_status))
        .function(wrap_function!(cdr_rows))
        .function(wrap_function!(answer_audio))
        .function(wrap_function!(outbox_deliver))
        .function(wrap_function!(answers_sweep))
}

/// Deletes recorded answers older than `answer_retention_days`; returns how many went. The
/// module's every-minute job runs it: a kept answer also sweeps, but calls may stop coming.
#[php_function]
#[php(name = "Apicall\\answers_sweep")]
pub fn answers_sweep(config: &ZendHashTable) -> PhpResult<i64> {
    let _php = log::PhpThread::enter();
    let cfg = convert::config(config).map_err(throw)?;
    Ok(aibot::voice::sweep(&cfg) as i64)
}
