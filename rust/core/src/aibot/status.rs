//! The call status webhook: how the call ended, sent once per call, whatever happened.
//!
//! Two dialplan paths lead here. An answered call runs a hangup handler when its channel goes
//! away (wherever it is by then); a call that could not be placed runs the call file context's
//! `failed` extension after each failed attempt, with the reason in `REASON`. The database row
//! decides: failed attempts are counted until retries are exhausted, and the status is claimed
//! by exactly one process before it is sent.

use std::io::{BufRead, Write};
use std::time::Duration;

use super::payload::{CallStatus, Parties};
use super::{ignore_sighup, is_call_id};
use crate::agi::{Agi, AgiError};
use crate::calls::{self, StoredCall};
use crate::config::CoreConfig;
use crate::error::ApiError;
use crate::outbox;
use crate::runtime;

pub fn run(cfg: &CoreConfig, event: &str) -> Result<(), ApiError> {
    ignore_sighup();
    runtime::set_connect_patience(super::STATUS_CONNECT_PATIENCE);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut agi =
        Agi::start(stdin.lock(), stdout.lock()).map_err(|e| ApiError::internal("agi_error", e))?;
    report(cfg, &mut agi, event)
}

/// Asterisk's REASON codes of a failed originate, as outcomes.
pub fn reason_outcome(reason: &str) -> &'static str {
    match reason.trim() {
        "5" => "busy",
        "3" => "no-answer",
        _ => "failed",
    }
}

pub fn report<R: BufRead, W: Write>(
    cfg: &CoreConfig,
    agi: &mut Agi<R, W>,
    event: &str,
) -> Result<(), ApiError> {
    let agi_err = |e: AgiError| ApiError::internal("agi_error", e);
    let Some(id) = agi
        .get_variable("APICALL_ID")
        .map_err(agi_err)?
        .filter(|s| is_call_id(s))
    else {
        // Not one of ours (e.g. an index.php call): nothing to report.
        return Ok(());
    };
    let pool = runtime::pool(&cfg.db);
    // The call's row is the only place that says where its status goes (the call file carries
    // only the id; URL, headers, ContactId are in the stored request): if it cannot be read even
    // after this process's wait for the database, there is no receiver to build an event for.
    // Said in the log, with the id, rather than guessed.
    let call = match runtime::block_on(calls::load(&pool, &id)) {
        Ok(Some(call)) => call,
        Ok(None) => return Ok(()),
        Err(e) => {
            tracing::error!(id, error = %e, "status event lost: the call's row cannot be read");
            return Err(e);
        }
    };
    let mut get = |expr: &str| -> Result<String, ApiError> {
        Ok(agi
            .get_full_variable(expr)
            .map_err(agi_err)?
            .unwrap_or_default())
    };
    let status = if event == "failed" {
        let reason = get("${REASON}")?;
        let attempts = runtime::block_on(calls::add_failed_attempt(&pool, &id))?;
        if attempts <= call.request.max_retries {
            tracing::info!(id, attempts, reason, "attempt failed; Asterisk will retry");
            return Ok(());
        }
        let last = reason_outcome(&reason);
        let outcome = if call.request.max_retries > 0 {
            "retries-exhausted"
        } else {
            last
        };
        // Asterisk's ids carry its `systemname-`, if any: the failed channel's own id tells it.
        let own = get("${UNIQUEID}")?;
        let prefix = crate::cdr::split_uniqueid(&own).map_or("", |(p, _)| p);
        let floor = crate::cdr::uniqueid_floor(prefix, call.created_epoch);
        let row = last_attempt_cdr(cfg, &id, &floor);
        failed_status(&call, attempts, outcome, row)
    } else {
        let answer = get("${CDR(answer)}")?;
        let duration = get("${CDR(duration)}")?.parse().unwrap_or(0);
        let billsec = get("${CDR(billsec)}")?.parse().unwrap_or(0);
        let caller_num = get("${CALLERID(num)}")?;
        let (connected_num, connected_name) = super::session::connected(
            get("${CONNECTEDLINE(num)}")?,
            get("${CONNECTEDLINE(name)}")?,
            &caller_num,
            &call,
        );
        let parties = Parties {
            uniqueid: get("${UNIQUEID}")?,
            linkedid: get("${CHANNEL(linkedid)}")?,
            caller_num,
            caller_name: get("${CALLERID(name)}")?,
            connected_num,
            connected_name,
        };
        let outcome = call.outcome.clone().unwrap_or_else(|| "answered".into());
        CallStatus {
            event_id: crate::token::call_id(),
            call_id: id.clone(),
            contact_id: call.request.contact_id.clone(),
            campaign_id: call.request.campaign_id.clone(),
            call_detail_url: detail_url(&call, &parties.linkedid),
            parties,
            answer_timestamp: Some(answer).filter(|a| !a.is_empty()),
            duration,
            billsec,
            answer: true,
            outcome,
            attempts: call.attempts.max(1),
        }
    };
    send(cfg, &call, &status);
    Ok(())
}

/// The CDR row of the call's own channel in its last attempt (Asterisk writes it as the attempt
/// ends, which may be a moment after the `failed` extension starts). Only rows at or above
/// `floor` (the call was queued then) are searched: see `crate::cdr`.
fn last_attempt_cdr(
    cfg: &CoreConfig,
    id: &str,
    floor: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let userfield = format!("apicall:{id}");
    for _ in 0..20 {
        if let Ok(rows) = crate::cdr::newest_by_userfield(cfg, &userfield, floor) {
            if let Some(last) = rows.into_iter().last() {
                return Some(last);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::warn!(id, "no CDR row found for the failed call");
    None
}

fn failed_status(
    call: &StoredCall,
    attempts: u32,
    outcome: &str,
    row: Option<serde_json::Map<String, serde_json::Value>>,
) -> CallStatus {
    let text = |k: &str| {
        row.as_ref()
            .and_then(|r| r.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let num = |k: &str| {
        row.as_ref()
            .and_then(|r| r.get(k))
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    };
    let parties = Parties {
        uniqueid: text("uniqueid"),
        linkedid: text("linkedid"),
        caller_num: call.request.callerid.number.clone(),
        caller_name: call.request.callerid.name.clone().unwrap_or_default(),
        connected_num: call.request.phone_number.clone(),
        connected_name: String::new(),
    };
    CallStatus {
        event_id: crate::token::call_id(),
        call_id: call.id.clone(),
        contact_id: call.request.contact_id.clone(),
        campaign_id: call.request.campaign_id.clone(),
        call_detail_url: detail_url(call, &parties.linkedid),
        parties,
        answer_timestamp: None,
        duration: num("duration"),
        billsec: 0,
        answer: false,
        outcome: outcome.to_string(),
        attempts,
    }
}

fn detail_url(call: &StoredCall, linkedid: &str) -> Option<String> {
    (!call.public_url.is_empty() && !linkedid.is_empty())
        .then(|| format!("{}/cdr.php?linkedid={linkedid}", call.public_url))
}

/// Claims the status and stores it in the outbox (one transaction), then tries to deliver it at
/// once (twice, a second apart); what is not delivered now is retried by the periodic runner
/// until it expires. If the database cannot take the claim and the event, the event is sent
/// once directly instead of being dropped.
fn send(cfg: &CoreConfig, call: &StoredCall, status: &CallStatus) {
    let ev = call.request.status_url.as_ref().and_then(|url| {
        let body = serde_json::to_string(status)
            .inspect_err(|e| tracing::error!(id = call.id, error = %e, "cannot encode the status"))
            .ok()?;
        Some(outbox::Event {
            event_id: status.event_id.clone(),
            call_id: call.id.clone(),
            url: url.clone(),
            headers: call.request.status_headers.clone(),
            body,
            attempts: 0,
        })
    });
    let pool = runtime::pool(&cfg.db);
    let claimed = runtime::block_on(outbox::claim_and_enqueue(
        &pool,
        cfg,
        &call.id,
        &status.outcome,
        ev.as_ref(),
    ));
    match (claimed, ev) {
        (Ok(false), _) => tracing::info!(id = call.id, "status already sent"),
        (Ok(true), None) => tracing::info!(
            id = call.id,
            outcome = status.outcome,
            "call ended; no status webhook"
        ),
        (Ok(true), Some(ev)) => {
            let result = outbox::deliver_now(&pool, cfg, &ev.event_id, 2);
            tracing::info!(
                id = call.id,
                outcome = status.outcome,
                event_id = ev.event_id,
                ?result,
                "status event"
            );
        }
        (Err(e), Some(ev)) => {
            // Nothing was claimed or stored (the transaction rolled back). Another path of the
            // same call could still claim it later, with an event id of its own: a receiver may
            // then hear of the call twice, which beats not at all.
            tracing::error!(id = call.id, error = %e, "status event could not be stored; sending it once, directly");
            outbox::deliver_unstored(cfg, &ev);
        }
        (Err(e), None) => {
            tracing::warn!(id = call.id, error = %e, "call end not recorded; no status webhook")
        }
    }
}
