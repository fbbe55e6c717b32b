//! The JSON bodies apicall sends: the next-message webhook and the call status webhook.
//! Field names are the original module's (PascalCase), which receivers already parse.

use serde::Serialize;

/// Who is on the call, as Asterisk names them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Parties {
    #[serde(rename = "UniqueID")]
    pub uniqueid: String,
    #[serde(rename = "LinkedID")]
    pub linkedid: String,
    #[serde(rename = "CallerIDNum")]
    pub caller_num: String,
    #[serde(rename = "CallerIDName")]
    pub caller_name: String,
    #[serde(rename = "ConnectedLineIDNum")]
    pub connected_num: String,
    #[serde(rename = "ConnectedLineIDName")]
    pub connected_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alternative {
    pub transcript: String,
    pub confidence: f32,
}

/// POSTed to NextMessageWebhookUrl after each step.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepResult {
    #[serde(rename = "ContactId")]
    pub contact_id: Option<String>,
    #[serde(rename = "CampaignId")]
    pub campaign_id: Option<String>,
    #[serde(flatten)]
    pub parties: Parties,
    #[serde(rename = "PressedDigits")]
    pub pressed_digits: String,
    #[serde(rename = "UserAnswerMp3Url")]
    pub mp3_url: Option<String>,
    #[serde(rename = "UserAnswerText")]
    pub text: Option<String>,
    #[serde(rename = "UserAnswerAlternatives")]
    pub alternatives: Vec<Alternative>,
    /// Which step of the conversation this answers (1 for the first message).
    #[serde(rename = "Step")]
    pub step: u32,
    /// Why the answer ended: `digits`, `end-digit`, `exit-digit`, `silence`, `timeout`, `none`.
    #[serde(rename = "InputEnd")]
    pub input_end: &'static str,
    #[serde(rename = "Timings")]
    pub timings: Timings,
}

/// How long this turn took, in milliseconds, so applications see where time goes. Speech
/// timings count from the moment the caller stopped speaking; absent when they do not apply.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Timings {
    /// End of speech to end of speech detected (EndOfSpeakSilenceLength plus at most a frame).
    pub endpointed_ms: Option<u64>,
    /// End of speech to transcript ready (includes keeping the answer as MP3).
    pub transcribed_ms: Option<u64>,
    /// End of speech to this webhook POST being sent.
    pub webhook_sent_ms: Option<u64>,
    /// Start of this step (the previous webhook's reply) to its first prompt starting to play.
    pub first_audio_ms: Option<u64>,
}

/// POSTed to CallStatusWebhookUrl once per call.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallStatus {
    /// Unique per event and the same on every delivery attempt: receivers deduplicate on it.
    #[serde(rename = "EventId")]
    pub event_id: String,
    #[serde(rename = "CallId")]
    pub call_id: String,
    #[serde(rename = "ContactId")]
    pub contact_id: Option<String>,
    #[serde(rename = "CampaignId")]
    pub campaign_id: Option<String>,
    #[serde(flatten)]
    pub parties: Parties,
    #[serde(rename = "AnswerTimestamp")]
    pub answer_timestamp: Option<String>,
    #[serde(rename = "Duration")]
    pub duration: u64,
    #[serde(rename = "Billsec")]
    pub billsec: u64,
    #[serde(rename = "Answer")]
    pub answer: bool,
    #[serde(rename = "CallDetailUrl")]
    pub call_detail_url: Option<String>,
    /// answered, no-answer, busy, failed, callee-hangup, retries-exhausted.
    #[serde(rename = "Outcome")]
    pub outcome: String,
    #[serde(rename = "Attempts")]
    pub attempts: u32,
}
