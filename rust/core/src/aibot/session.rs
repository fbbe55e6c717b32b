//! The conversation, run by the EAGI script once the callee has answered.
//!
//! Each step plays its message, collects the answer, and, when the step names a
//! NextMessageWebhookUrl, posts the answer there and takes the reply as the next step. Anything
//! that goes wrong (a webhook down, slow or talking nonsense, a prompt that cannot be made) ends
//! the conversation at the step's GoToDestination: the caller is never left in dead air.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use super::payload::{Parties, StepResult};
use super::request::{InputMethod, Step};
use super::{ignore_sighup, is_call_id, prompt};
use crate::agi::{Agi, AgiError};
use crate::calls::{self, StoredCall};
use crate::config::CoreConfig;
use crate::error::ApiError;
use crate::runtime;
use crate::webhook::{self, Timeouts};

/// Pause allowed between two digits once the first one came.
pub const INTER_DIGIT: Duration = Duration::from_secs(5);

/// Runs the session on this process's stdin/stdout (the AGI channel).
pub fn run(cfg: &CoreConfig) -> Result<(), ApiError> {
    ignore_sighup();
    runtime::set_connect_patience(super::AGI_CONNECT_PATIENCE);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut agi = Agi::start(stdin.lock(), stdout.lock()).map_err(agi_error)?;
    converse(cfg, &mut agi)
}

fn agi_error(e: AgiError) -> ApiError {
    ApiError::internal("agi_error", e)
}

/// How a step's answer ended.
pub struct Answer {
    pub digits: String,
    pub end: &'static str,
    pub mp3_url: Option<String>,
    pub text: Option<String>,
    pub alternatives: Vec<super::payload::Alternative>,
    /// When the caller stopped speaking (wall clock), for the Timings of the payload.
    pub speech_end: Option<Instant>,
    pub endpointed_ms: Option<u64>,
    pub transcribed_ms: Option<u64>,
    /// From the start of the step (the previous webhook's reply) to its prompt starting to play.
    pub first_audio_ms: Option<u64>,
}

impl Answer {
    /// Nothing heard yet; the step's prompt started playing `first_audio_ms` after its start.
    fn new(first_audio_ms: Option<u64>) -> Self {
        Answer {
            digits: String::new(),
            end: "none",
            mp3_url: None,
            text: None,
            alternatives: Vec::new(),
            speech_end: None,
            endpointed_ms: None,
            transcribed_ms: None,
            first_audio_ms,
        }
    }
}

pub fn converse<R: BufRead, W: Write>(
    cfg: &CoreConfig,
    agi: &mut Agi<R, W>,
) -> Result<(), ApiError> {
    let id = agi
        .get_variable("APICALL_ID")
        .map_err(agi_error)?
        .filter(|s| is_call_id(s))
        .ok_or_else(|| ApiError::internal("agi_error", "APICALL_ID is missing on the channel"))?;
    // The pool is asked for at each use, never kept: close_idle_connections() below ends the
    // process's pools while the call listens, and a kept handle would be a closed pool.
    let pool = || runtime::pool(&cfg.db);
    let call = runtime::block_on(calls::load(&pool(), &id))?.ok_or_else(|| {
        ApiError::internal("agi_error", format!("call {id} is not in the database"))
    })?;
    let parties = parties(agi, &call).map_err(agi_error)?;
    runtime::block_on(calls::mark_answered(
        &pool(),
        &id,
        &parties.uniqueid,
        &parties.linkedid,
    ))?;
    tracing::info!(id, uniqueid = parties.uniqueid, "conversation starts");

    let mut step = call.request.step.clone();
    let mut n: u32 = 0;
    let outcome = loop {
        n += 1;
        // Nothing touches the database until the step's answer is in: no connection is kept.
        runtime::close_idle_connections();
        let answer = match run_step(cfg, agi, &call, &step, n) {
            Ok(a) => a,
            Err(StepError::Hangup) => break "callee-hangup",
            Err(StepError::Failed(e)) => {
                tracing::warn!(id, step = n, error = %e, "step failed; going to the destination");
                let _ = agi.verbose(&format!("apicall {id}: {}", e.message), 1);
                break "answered";
            }
        };
        let Some(url) = step.next_url.clone() else {
            break "answered";
        };
        let result = StepResult {
            contact_id: call.request.contact_id.clone(),
            campaign_id: call.request.campaign_id.clone(),
            parties: parties.clone(),
            pressed_digits: answer.digits,
            mp3_url: answer.mp3_url,
            text: answer.text,
            alternatives: answer.alternatives,
            step: n,
            input_end: answer.end,
            timings: super::payload::Timings {
                endpointed_ms: answer.endpointed_ms,
                transcribed_ms: answer.transcribed_ms,
                webhook_sent_ms: answer.speech_end.map(|t| t.elapsed().as_millis() as u64),
                first_audio_ms: answer.first_audio_ms,
            },
        };
        match next_step(cfg, &url, &step, &result) {
            Ok(next) => {
                let _ = runtime::block_on(calls::set_last_webhook(
                    &pool(),
                    &id,
                    &format!("step {n}: ok"),
                ));
                step = next;
            }
            Err(why) => {
                tracing::warn!(
                    id,
                    step = n,
                    url,
                    why,
                    "webhook failed; going to the destination"
                );
                let _ = agi.verbose(&format!("apicall {id}: webhook failed: {why}"), 1);
                let _ = runtime::block_on(calls::set_last_webhook(
                    &pool(),
                    &id,
                    &format!("step {n}: {why}"),
                ));
                break "answered";
            }
        }
    };
    // The row's end is bookkeeping (the status event has its own path): failing to write it
    // must not keep the caller from the destination.
    if let Err(e) = runtime::block_on(calls::mark_ended(&pool(), &id, outcome)) {
        tracing::warn!(id, error = %e, "the call's end could not be recorded");
    }
    if outcome == "callee-hangup" {
        tracing::info!(id, step = n, "callee hung up");
        return Ok(());
    }
    let d = &step.goto;
    let set = |agi: &mut Agi<R, W>| -> Result<(), AgiError> {
        agi.set_variable("APICALL_GOTO_CONTEXT", &d.context)?;
        agi.set_variable("APICALL_GOTO_EXTEN", &d.exten)?;
        agi.set_variable("APICALL_GOTO_PRIORITY", &d.priority)
    };
    match set(agi) {
        Ok(()) | Err(AgiError::Hangup) => {}
        Err(e) => return Err(agi_error(e)),
    }
    tracing::info!(
        id,
        steps = n,
        dest = format!("{},{},{}", d.context, d.exten, d.priority),
        "conversation ends"
    );
    Ok(())
}

fn parties<R: BufRead, W: Write>(
    agi: &mut Agi<R, W>,
    call: &StoredCall,
) -> Result<Parties, AgiError> {
    let mut get = |expr: &str| -> Result<String, AgiError> {
        Ok(agi.get_full_variable(expr)?.unwrap_or_default())
    };
    let linkedid = get("${CHANNEL(linkedid)}")?;
    let caller_num = get("${CALLERID(num)}")?;
    let caller_name = get("${CALLERID(name)}")?;
    let connected_num = get("${CONNECTEDLINE(num)}")?;
    let connected_name = get("${CONNECTEDLINE(name)}")?;
    let (connected_num, connected_name) =
        connected(connected_num, connected_name, &caller_num, call);
    Ok(Parties {
        uniqueid: agi.env("uniqueid").unwrap_or_default().to_string(),
        linkedid,
        caller_num,
        caller_name,
        connected_num,
        connected_name,
    })
}

/// On the originating half of a Local channel, CONNECTEDLINE often just mirrors our own caller
/// id; the party we called is then the number we dialed.
pub(crate) fn connected(
    num: String,
    name: String,
    caller_num: &str,
    call: &StoredCall,
) -> (String, String) {
    if num.is_empty() || num == caller_num {
        (call.request.phone_number.clone(), String::new())
    } else {
        (num, name)
    }
}

pub enum StepError {
    Hangup,
    Failed(ApiError),
}

impl From<AgiError> for StepError {
    fn from(e: AgiError) -> Self {
        match e {
            AgiError::Hangup => StepError::Hangup,
            other => StepError::Failed(agi_error(other)),
        }
    }
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        StepError::Failed(e)
    }
}

fn run_step<R: BufRead, W: Write>(
    cfg: &CoreConfig,
    agi: &mut Agi<R, W>,
    call: &StoredCall,
    step: &Step,
    n: u32,
) -> Result<Answer, StepError> {
    // Digits that may interrupt the message: the exit digits, and in digits mode every digit
    // that can start an answer only if the client asked for it through MessageExitDigit.
    let mut interrupted = None;
    let started = Instant::now();
    let mut first_audio_ms = None;
    let mut prompts = Vec::new();
    if let Some(url) = &step.message_url {
        prompts.push(prompt::url(cfg, url)?);
    }
    if let Some(text) = &step.message_text {
        prompts.push(prompt::text(cfg, text, &step.language)?);
    }
    for p in &prompts {
        let path = p.to_str().unwrap_or_default();
        first_audio_ms.get_or_insert(started.elapsed().as_millis() as u64);
        if let Some(d) = agi.stream_file(path, &step.exit_digits)? {
            interrupted = Some(d);
            break;
        }
    }
    let mut answer = Answer::new(first_audio_ms);
    if let Some(d) = interrupted {
        answer.end = "exit-digit";
        if step.end_digit == Some(d) {
            return Ok(answer);
        }
        answer.digits.push(d);
    }
    match step.input {
        InputMethod::None => {}
        InputMethod::Digits => collect_digits(agi, step, &mut answer)?,
        InputMethod::Voice if interrupted.is_some() => {}
        InputMethod::Voice => super::voice::listen(cfg, agi, call, step, n, &mut answer)?,
    }
    Ok(answer)
}

fn collect_digits<R: BufRead, W: Write>(
    agi: &mut Agi<R, W>,
    step: &Step,
    answer: &mut Answer,
) -> Result<(), AgiError> {
    let deadline = Instant::now() + Duration::from_secs(u64::from(step.timeout));
    loop {
        if step
            .expected_digits
            .is_some_and(|n| answer.digits.len() >= n as usize)
        {
            answer.end = "digits";
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = if answer.digits.is_empty() {
            left
        } else {
            left.min(INTER_DIGIT)
        };
        if wait.is_zero() {
            answer.end = "timeout";
            return Ok(());
        }
        match agi.wait_for_digit(wait.as_millis() as u64)? {
            None => {
                answer.end = "timeout";
                return Ok(());
            }
            Some(d) if step.end_digit == Some(d) => {
                answer.end = "end-digit";
                return Ok(());
            }
            Some(d) => answer.digits.push(d),
        }
    }
}

/// Posts a step's result and reads the next step from the reply.
fn next_step(
    cfg: &CoreConfig,
    url: &str,
    step: &Step,
    result: &StepResult,
) -> Result<Step, String> {
    if !webhook::host_allowed(url, &cfg.allowed_hosts) {
        return Err("the webhook's host is not in allowed_hosts".into());
    }
    let body = serde_json::to_vec(result).map_err(|e| e.to_string())?;
    let t = Timeouts {
        connect: cfg.webhook_connect_timeout,
        total: cfg.webhook_timeout,
    };
    let delivery = webhook::Delivery {
        secret: &cfg.webhook_secret,
        event_id: None,
    };
    let (status, reply) = runtime::block_on(webhook::post_json_to(
        url,
        &step.next_headers,
        &body,
        t,
        &delivery,
        &cfg.allowed_hosts,
    ))
    .map_err(|e| e.to_string())?;
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}"));
    }
    if reply.iter().all(u8::is_ascii_whitespace) {
        return Err("empty reply".into());
    }
    Step::parse_reply(&reply, step).map_err(|e| format!("invalid reply: {}", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Plays Asterisk's side: `replies` answer the commands in order; returns how the answer
    /// ended, its digits, and the commands sent.
    fn collect(request: &str, replies: &str) -> (&'static str, String, Vec<String>) {
        let step = super::super::request::AibotRequest::parse(request.as_bytes(), "en_US", "999")
            .unwrap()
            .step;
        let input = format!("agi_request: apicall-aibot.php\nagi_uniqueid: 1700.5\n\n{replies}");
        let mut sent = Vec::new();
        let mut answer = Answer::new(None);
        {
            let mut agi = Agi::start(Cursor::new(input.into_bytes()), &mut sent).unwrap();
            collect_digits(&mut agi, &step, &mut answer).unwrap();
        }
        let sent = String::from_utf8(sent).unwrap();
        (
            answer.end,
            answer.digits,
            sent.lines().map(str::to_string).collect(),
        )
    }

    fn waits(sent: &[String]) -> Vec<u64> {
        sent.iter()
            .map(|c| c.strip_prefix("WAIT FOR DIGIT ").unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn after_the_first_digit_each_wait_is_the_inter_digit_timeout() {
        // '4' (52), '2' (50), then nothing within the wait: the answer ends with what came.
        let (end, digits, sent) = collect(
            r##"{"PhoneNumber":"1","UserInputMethod":"digits","EndDigit":"#","Timeout":20}"##,
            "200 result=52\n200 result=50\n200 result=0\n",
        );
        assert_eq!((end, digits.as_str()), ("timeout", "42"));
        let w = waits(&sent);
        assert_eq!(w.len(), 3, "{sent:?}");
        // The first digit may take the whole Timeout; later ones only INTER_DIGIT each.
        assert!((19_000..=20_000).contains(&w[0]), "{w:?}");
        assert_eq!(&w[1..], &[5_000, 5_000], "{w:?}");
    }

    #[test]
    fn the_inter_digit_wait_never_outlasts_the_timeout() {
        let (end, digits, sent) = collect(
            r##"{"PhoneNumber":"1","UserInputMethod":"digits","Timeout":3}"##,
            "200 result=55\n200 result=0\n",
        );
        assert_eq!((end, digits.as_str()), ("timeout", "7"));
        let w = waits(&sent);
        assert!(w[0] <= 3_000 && w[1] <= 3_000 && w[1] < 5_000, "{w:?}");
    }

    #[test]
    fn no_digit_at_all_waits_once_for_the_timeout() {
        let (end, digits, sent) = collect(
            r##"{"PhoneNumber":"1","UserInputMethod":"digits","Timeout":3}"##,
            "200 result=0\n",
        );
        assert_eq!((end, digits.as_str()), ("timeout", ""));
        assert!((2_900..=3_000).contains(&waits(&sent)[0]), "{sent:?}");
    }
}
