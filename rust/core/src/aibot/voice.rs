//! Spoken answers: listening on the EAGI audio stream, keeping the answer, transcribing it.

use std::io::{BufRead, Write};

use super::request::Step;
use super::session::{Answer, StepError};
use crate::agi::Agi;
use crate::calls::StoredCall;
use crate::config::CoreConfig;
use crate::error::ApiError;

pub fn listen<R: BufRead, W: Write>(
    _cfg: &CoreConfig,
    _agi: &mut Agi<R, W>,
    _call: &StoredCall,
    _step: &Step,
    _n: u32,
    _answer: &mut Answer,
) -> Result<(), StepError> {
    Err(StepError::Failed(ApiError::internal(
        "voice_unavailable",
        "voice input is not built yet",
    )))
}
