//! Endpointing: deciding when a caller has started and finished answering.
//!
//! Why it exists: with EAGI, Asterisk writes the caller's audio (8 kHz signed linear by default)
//! to the script's fd 3 in whatever pieces the pipe delivers, and the conversation must move on as
//! soon as the caller stops talking (`EndOfSpeakSilenceLength`), or give up after `Timeout` when
//! nobody speaks. Nothing else in the stack tells us that, so it is decided here.
//!
//! How: the stream is cut into 20 ms frames; each frame's energy (dBFS) is compared with an
//! adaptive noise floor. The floor follows quiet frames, falling quickly and rising slowly, so it
//! settles on the line's background noise rather than on speech. Two thresholds give hysteresis:
//! speech *starts* only after `min_speech` of consecutive frames above the higher one (a click or a
//! cough-length burst does not count), and once started it only *ends* after `end_silence` of
//! frames below the lower one. A lone loud frame inside that silence (a click) does not restart
//! the count; two in a row (real speech resuming) do. An absolute minimum level keeps a dead quiet
//! line (digital zero) from turning faint hiss into speech.
//!
//! The answer's samples are kept from `pre_roll` before the detected start (the onset of a word
//! is quieter than its body; speech-to-text needs it), to `post_roll` after the last speech frame.
//! Before speech starts only a small ring buffer holds recent audio, so waiting costs no memory.
//!
//! It is deterministic (the same samples give the same events whatever the chunking, since
//! decisions happen only at frame boundaries) and allocation-free per frame: buffers are sized at
//! construction, and `reset` reuses them for the next question of the same call. Audio that
//! queued in the pipe while the script was busy must be drained by the caller before feeding.

use std::time::Duration;

/// Frame length: 20 ms, the packetisation of telephone audio.
const FRAMES_PER_SEC: u32 = 50;
/// Level given to a frame of digital silence (log of zero).
const SILENCE_DBFS: f32 = -100.0;
/// The first frame's level seeds the noise floor, clamped into this range: a line that starts
/// with the caller already talking must not take speech as its floor, and a line that starts in
/// digital silence must not make the first hiss look like speech.
const FLOOR_SEED_MIN_DBFS: f32 = -70.0;
const FLOOR_SEED_MAX_DBFS: f32 = -45.0;
/// Per-frame smoothing of the noise floor toward a quiet frame: fast down, slow up (~1 s).
const FLOOR_FALL: f32 = 0.3;
const FLOOR_RISE: f32 = 0.02;
/// Consecutive loud frames that count as speech resuming inside the end-of-answer silence.
const RESUME_FRAMES: u32 = 2;

/// Tuning of an [`Endpointer`]. `Default` suits an 8 kHz EAGI stream and the aibot defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Sample rate of the stream (8000 for Asterisk's default slin, 16000 for slin16).
    pub rate: u32,
    /// Silence after speech that ends the answer (`EndOfSpeakSilenceLength`).
    pub end_silence: Duration,
    /// How long to wait for speech to start, from the first sample fed (`Timeout`).
    pub timeout: Duration,
    /// Longest answer kept, from the start of speech.
    pub max_length: Duration,
    /// Continuous speech needed before it counts as started.
    pub min_speech: Duration,
    /// Audio kept before the detected start of speech.
    pub pre_roll: Duration,
    /// Audio kept after the last speech frame (at most `end_silence` exists).
    pub post_roll: Duration,
    /// How far above the noise floor a frame must be to start speech (dB).
    pub start_margin_db: f32,
    /// How far above the noise floor a frame must be to keep speech going (dB); lower than
    /// `start_margin_db`, which is the hysteresis.
    pub keep_margin_db: f32,
    /// Frames quieter than this never start speech, whatever the floor (dBFS).
    pub min_level_dbfs: f32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            rate: 8000,
            end_silence: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
            max_length: Duration::from_secs(30),
            min_speech: Duration::from_millis(120),
            pre_roll: Duration::from_millis(300),
            post_roll: Duration::from_millis(200),
            start_margin_db: 10.0,
            keep_margin_db: 6.0,
            min_level_dbfs: -50.0,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EndpointError {
    #[error("endpointer: sample rate {0} Hz is not a positive multiple of 50 (20 ms frames)")]
    Rate(u32),
    #[error("endpointer: {name} must be at least one 20 ms frame, got {value:?}")]
    TooShort { name: &'static str, value: Duration },
    #[error("endpointer: keep margin {keep} dB must not exceed start margin {start} dB")]
    Margins { start: f32, keep: f32 },
}

/// What the endpointer decided. Positions are sample counts from the first sample fed; `at` is
/// the position at which the decision was made (the end of the deciding frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Speech began at `start`; reported once `min_speech` of it was heard.
    SpeechStarted { start: u64, at: u64 },
    /// The answer is over: its last speech frame ended at `end`; reported `end_silence` later.
    SpeechEnded { end: u64, at: u64 },
    /// Nobody spoke before the timeout.
    NoSpeech { at: u64 },
    /// The answer reached `max_length`; what was heard is kept.
    MaxLength { at: u64 },
}

/// Where an endpointer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Waiting,
    Speaking,
    /// Finished with this event (never `SpeechStarted`); further samples are ignored.
    Done(Event),
}

/// The events of one `feed` call, in order: at most a start and an end, so no allocation.
#[derive(Debug, Clone, Default)]
pub struct Events {
    items: [Option<Event>; 2],
    next: usize,
}

impl Events {
    fn push(&mut self, e: Event) {
        // A feed call can start speech and finish at most once; the state machine guarantees it.
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items[self.next..].iter().all(Option::is_none)
    }
}

impl Iterator for Events {
    type Item = Event;
    fn next(&mut self) -> Option<Event> {
        let e = self.items.get(self.next).copied().flatten()?;
        self.next += 1;
        Some(e)
    }
}

/// Endpointer for one stream; see the module comment for the method.
#[derive(Debug, Clone)]
pub struct Endpointer {
    cfg: EndpointConfig,
    frame_len: usize,
    end_silence_frames: u32,
    min_speech_frames: u32,
    timeout_samples: u64,
    max_length_samples: u64,
    pre_roll_samples: usize,
    post_roll_samples: u64,

    pos: u64,
    frame_energy: u64,
    frame_fill: usize,
    floor_db: Option<f32>,
    state: State,
    /// Consecutive frames above the start threshold while waiting.
    onset: u32,
    /// Frames since the last speech frame while speaking.
    silence: u32,
    /// Consecutive loud frames seen while counting silence.
    resume: u32,
    speech_start: u64,
    last_speech_end: u64,

    /// Recent audio while waiting: pre-roll plus the onset frames.
    ring: Vec<i16>,
    ring_head: usize,
    ring_len: usize,
    /// The answer, from `answer_origin` in the stream.
    answer: Vec<i16>,
    answer_origin: u64,
}

fn frames_of(d: Duration) -> u32 {
    let ms = d.as_millis();
    (ms.div_ceil(u128::from(1000 / FRAMES_PER_SEC))).min(u128::from(u32::MAX)) as u32
}

fn samples_of(d: Duration, rate: u32) -> u64 {
    (d.as_nanos() * u128::from(rate) / 1_000_000_000).min(u128::from(u64::MAX)) as u64
}

impl Endpointer {
    pub fn new(cfg: EndpointConfig) -> Result<Self, EndpointError> {
        if cfg.rate == 0 || !cfg.rate.is_multiple_of(FRAMES_PER_SEC) {
            return Err(EndpointError::Rate(cfg.rate));
        }
        let frame = Duration::from_millis(u64::from(1000 / FRAMES_PER_SEC));
        for (name, value) in [
            ("end_silence", cfg.end_silence),
            ("timeout", cfg.timeout),
            ("max_length", cfg.max_length),
            ("min_speech", cfg.min_speech),
        ] {
            if value < frame {
                return Err(EndpointError::TooShort { name, value });
            }
        }
        if cfg.keep_margin_db > cfg.start_margin_db {
            return Err(EndpointError::Margins {
                start: cfg.start_margin_db,
                keep: cfg.keep_margin_db,
            });
        }
        let frame_len = (cfg.rate / FRAMES_PER_SEC) as usize;
        let min_speech_frames = frames_of(cfg.min_speech);
        // Capped so a silly pre-roll cannot make every waiting call hold seconds of audio.
        let pre_roll_samples = samples_of(cfg.pre_roll.min(Duration::from_secs(2)), cfg.rate);
        let ring_cap = pre_roll_samples as usize + min_speech_frames as usize * frame_len;
        Ok(Self {
            frame_len,
            end_silence_frames: frames_of(cfg.end_silence),
            min_speech_frames,
            timeout_samples: samples_of(cfg.timeout, cfg.rate),
            max_length_samples: samples_of(cfg.max_length, cfg.rate),
            pre_roll_samples: pre_roll_samples as usize,
            post_roll_samples: samples_of(cfg.post_roll, cfg.rate),
            pos: 0,
            frame_energy: 0,
            frame_fill: 0,
            floor_db: None,
            state: State::Waiting,
            onset: 0,
            silence: 0,
            resume: 0,
            speech_start: 0,
            last_speech_end: 0,
            ring: vec![0; ring_cap],
            ring_head: 0,
            ring_len: 0,
            // A few seconds up front: most answers fit, longer ones grow the buffer once or twice.
            answer: Vec::with_capacity(cfg.rate as usize * 4),
            answer_origin: 0,
            cfg,
        })
    }

    /// Starts over for a new question, keeping the buffers (and the learnt noise floor, since it
    /// is the same line).
    pub fn reset(&mut self) {
        self.pos = 0;
        self.frame_energy = 0;
        self.frame_fill = 0;
        self.state = State::Waiting;
        self.onset = 0;
        self.silence = 0;
        self.resume = 0;
        self.speech_start = 0;
        self.last_speech_end = 0;
        self.ring_head = 0;
        self.ring_len = 0;
        self.answer.clear();
        self.answer_origin = 0;
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Samples consumed so far (samples fed after the end are not counted).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// A sample position as time.
    pub fn to_duration(&self, samples: u64) -> Duration {
        Duration::from_nanos(samples * 1_000_000_000 / u64::from(self.cfg.rate))
    }

    /// The current noise floor estimate in dBFS (None before the first full frame).
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.floor_db
    }

    /// The answer heard so far (empty while waiting). After `SpeechEnded` it is trimmed to
    /// `post_roll` past the last speech frame.
    pub fn answer(&self) -> &[i16] {
        &self.answer
    }

    /// Stream position of the answer's first sample (the pre-roll's start).
    pub fn answer_origin(&self) -> u64 {
        self.answer_origin
    }

    /// Takes the answer out as PCM, leaving the endpointer empty (call `reset` before reuse).
    pub fn take_answer(&mut self) -> crate::Pcm {
        crate::Pcm {
            rate: self.cfg.rate,
            samples: std::mem::take(&mut self.answer),
        }
    }

    /// Feeds the next piece of the stream, of any length. Returns what was decided, in order.
    /// Once done, samples are ignored.
    pub fn feed(&mut self, mut samples: &[i16]) -> Events {
        let mut events = Events::default();
        while !samples.is_empty() && !matches!(self.state, State::Done(_)) {
            let take = (self.frame_len - self.frame_fill).min(samples.len());
            let (piece, rest) = samples.split_at(take);
            samples = rest;
            // i16 squared fits in u32 and a frame of them in u64, so this is exact.
            self.frame_energy += piece
                .iter()
                .map(|&s| u64::from((i32::from(s) * i32::from(s)) as u32))
                .sum::<u64>();
            self.frame_fill += take;
            self.pos += take as u64;
            match self.state {
                State::Waiting => self.ring_write(piece),
                _ => self.answer.extend_from_slice(piece),
            }
            if self.frame_fill == self.frame_len {
                let mean = self.frame_energy as f64 / self.frame_len as f64;
                self.frame_energy = 0;
                self.frame_fill = 0;
                let db = if mean > 0.0 {
                    (10.0 * (mean / (32768.0 * 32768.0)).log10()) as f32
                } else {
                    SILENCE_DBFS
                };
                self.on_frame(db, &mut events);
            }
        }
        events
    }

    fn ring_write(&mut self, piece: &[i16]) {
        let cap = self.ring.len();
        if cap == 0 {
            return;
        }
        // Only the newest `cap` samples can matter.
        let piece = &piece[piece.len().saturating_sub(cap)..];
        let first = (cap - self.ring_head).min(piece.len());
        self.ring[self.ring_head..self.ring_head + first].copy_from_slice(&piece[..first]);
        self.ring[..piece.len() - first].copy_from_slice(&piece[first..]);
        self.ring_head = (self.ring_head + piece.len()) % cap;
        self.ring_len = (self.ring_len + piece.len()).min(cap);
    }

    fn on_frame(&mut self, db: f32, events: &mut Events) {
        let floor = *self
            .floor_db
            .get_or_insert(db.clamp(FLOOR_SEED_MIN_DBFS, FLOOR_SEED_MAX_DBFS));
        let start_th = (floor + self.cfg.start_margin_db).max(self.cfg.min_level_dbfs);
        let keep_th = (floor + self.cfg.keep_margin_db)
            .max(self.cfg.min_level_dbfs - (self.cfg.start_margin_db - self.cfg.keep_margin_db));
        let at = self.pos;
        match self.state {
            State::Waiting => {
                if db >= start_th {
                    self.onset += 1;
                    if self.onset >= self.min_speech_frames {
                        self.start_speech(events);
                    }
                } else {
                    self.onset = 0;
                    let k = if db < floor { FLOOR_FALL } else { FLOOR_RISE };
                    self.floor_db = Some(floor + (db - floor) * k);
                    // Checked only between onsets, so a word begun just before the timeout
                    // still gets `min_speech` to prove itself.
                    if at >= self.timeout_samples {
                        self.state = State::Done(Event::NoSpeech { at });
                        events.push(Event::NoSpeech { at });
                    }
                }
            }
            State::Speaking => {
                if db >= keep_th {
                    if self.silence == 0 {
                        self.last_speech_end = at;
                    } else {
                        self.resume += 1;
                        if self.resume >= RESUME_FRAMES {
                            self.silence = 0;
                            self.resume = 0;
                            self.last_speech_end = at;
                        } else {
                            self.silence += 1;
                        }
                    }
                } else {
                    self.resume = 0;
                    self.silence += 1;
                }
                if self.silence >= self.end_silence_frames {
                    let end = self.last_speech_end;
                    let keep = (end + self.post_roll_samples).saturating_sub(self.answer_origin);
                    self.answer.truncate(keep as usize);
                    let e = Event::SpeechEnded { end, at };
                    self.state = State::Done(e);
                    events.push(e);
                } else if at - self.speech_start >= self.max_length_samples {
                    let e = Event::MaxLength { at };
                    self.state = State::Done(e);
                    events.push(e);
                }
            }
            State::Done(_) => {}
        }
    }

    fn start_speech(&mut self, events: &mut Events) {
        let onset_samples = self.onset as usize * self.frame_len;
        let start = self.pos - onset_samples as u64;
        let keep = (self.pre_roll_samples + onset_samples).min(self.ring_len);
        let cap = self.ring.len();
        let from = (self.ring_head + cap - keep) % cap;
        self.answer.clear();
        if from + keep <= cap {
            self.answer.extend_from_slice(&self.ring[from..from + keep]);
        } else {
            self.answer.extend_from_slice(&self.ring[from..]);
            self.answer
                .extend_from_slice(&self.ring[..keep - (cap - from)]);
        }
        self.answer_origin = self.pos - keep as u64;
        self.speech_start = start;
        self.last_speech_end = self.pos;
        self.silence = 0;
        self.resume = 0;
        self.state = State::Speaking;
        events.push(Event::SpeechStarted {
            start,
            at: self.pos,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{espeak_8k, noise, silence, tone};
    use crate::Pcm;

    const FRAME: u64 = 160;

    fn cat(parts: &[&[i16]]) -> Vec<i16> {
        parts.concat()
    }

    /// Feeds in chunks of varying odd sizes, as a pipe delivers them; returns all events.
    fn run(ep: &mut Endpointer, samples: &[i16], chunk: usize) -> Vec<Event> {
        let mut out = Vec::new();
        let mut i = 0;
        let mut k = 0;
        while i < samples.len() {
            // Vary the size around `chunk` so frame boundaries fall everywhere.
            let n = (chunk + (k * 37) % chunk.max(1)).min(samples.len() - i);
            out.extend(ep.feed(&samples[i..i + n]));
            i += n;
            k += 1;
        }
        out
    }

    fn ep(cfg: EndpointConfig) -> Endpointer {
        Endpointer::new(cfg).unwrap()
    }

    /// Last sample position of a clip whose 20 ms frames are above `dbfs`, i.e. where a listener
    /// would say the speech ends.
    fn speech_end_of(p: &Pcm, dbfs: f64) -> u64 {
        let mut end = 0;
        for (i, f) in p.samples.chunks(FRAME as usize).enumerate() {
            let frame = Pcm {
                rate: p.rate,
                samples: f.to_vec(),
            };
            if frame.rms_dbfs() > dbfs {
                end = (i * FRAME as usize + f.len()) as u64;
            }
        }
        end
    }

    #[test]
    fn tone_burst_start_and_end() {
        let lead = silence(8000, 1.0);
        let burst = tone(8000, 400.0, 1.0, 8000.0);
        let stream = cat(&[&lead.samples, &burst.samples, &silence(8000, 2.0).samples]);
        for chunk in [1, 7, 160, 333, 4096] {
            let mut e = ep(EndpointConfig::default());
            let evs = run(&mut e, &stream, chunk);
            assert_eq!(evs.len(), 2, "chunk {chunk}: {evs:?}");
            match evs[0] {
                Event::SpeechStarted { start, at } => {
                    assert_eq!(start, 8000, "chunk {chunk}");
                    assert_eq!(at, 8000 + 6 * FRAME);
                }
                other => panic!("{other:?}"),
            }
            match evs[1] {
                Event::SpeechEnded { end, at } => {
                    assert_eq!(end, 16000);
                    assert_eq!(at, 16000 + 4000);
                }
                other => panic!("{other:?}"),
            }
            // 300 ms pre-roll + 1 s of tone + 200 ms post-roll.
            assert_eq!(e.answer_origin(), 8000 - 2400);
            assert_eq!(e.answer().len(), 2400 + 8000 + 1600);
            assert_eq!(&e.answer()[2400..2400 + 8000], &burst.samples[..]);
            // Nothing past the decision was consumed.
            assert_eq!(e.position(), 20000);
        }
    }

    #[test]
    fn same_events_whatever_the_chunking() {
        let speech = espeak_8k("one two three");
        let stream = cat(&[
            &noise(8000, 0.7, 60.0, 1).samples,
            &speech.samples,
            &noise(8000, 1.5, 60.0, 2).samples,
        ]);
        let reference = run(&mut ep(EndpointConfig::default()), &stream, 160);
        for chunk in [1, 13, 320, 1000, 8192] {
            assert_eq!(
                run(&mut ep(EndpointConfig::default()), &stream, chunk),
                reference
            );
        }
    }

    #[test]
    fn clicks_and_short_bursts_are_not_speech() {
        // 60 ms bursts every 400 ms (clicks, line pops), under `min_speech`.
        let mut stream = Vec::new();
        for _ in 0..10 {
            stream.extend(tone(8000, 1000.0, 0.06, 12000.0).samples);
            stream.extend(silence(8000, 0.34).samples);
        }
        let mut e = ep(EndpointConfig {
            timeout: Duration::from_secs(3),
            ..Default::default()
        });
        let evs = run(&mut e, &cat(&[&stream, &silence(8000, 1.0).samples]), 200);
        assert_eq!(evs, vec![Event::NoSpeech { at: 24000 }]);
        assert!(e.answer().is_empty());
    }

    #[test]
    fn rising_noise_is_learnt_not_taken_for_speech() {
        // Background noise that swells from -60 to -30 dBFS over 6 s (a line getting noisy, a
        // room filling up): the floor follows it, nothing starts, and then real speech on top of
        // that noise is still heard.
        let rate = 8000;
        let ramp = noise(rate, 10.0, 1795.0, 3); // -30 dBFS at full scale
        let ramped: Vec<i16> = ramp
            .samples
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let t = (i as f64 / 8000.0 / 6.0).min(1.0);
                (f64::from(s) * 10f64.powf((t - 1.0) * 1.5)) as i16
            })
            .collect();
        let mut e = ep(EndpointConfig {
            timeout: Duration::from_secs(10),
            ..Default::default()
        });
        let evs = run(&mut e, &ramped, 160);
        assert_eq!(evs, vec![Event::NoSpeech { at: 80000 }]);
        let floor = e.noise_floor_dbfs().unwrap();
        assert!((-32.0..=-28.0).contains(&floor), "{floor}");

        // Same line, next question: speech about 15 dB over the noise.
        e.reset();
        let speech = espeak_8k("yes");
        let mut stream = noise(rate, 3.0, 1795.0, 4).samples;
        for (s, v) in stream.iter_mut().skip(4000).zip(&speech.samples) {
            *s = s.saturating_add(*v);
        }
        let evs = run(&mut e, &stream, 160);
        assert!(
            matches!(
                evs[..],
                [Event::SpeechStarted { .. }, Event::SpeechEnded { .. }]
            ),
            "{evs:?}"
        );
    }

    #[test]
    fn hysteresis_keeps_a_fading_word() {
        // A tone fading 24 dB stays speech while above the keep threshold, and a 300 ms gap
        // (shorter than end_silence) does not end the answer.
        let rate = 8000;
        let loud = tone(rate, 300.0, 0.5, 6000.0);
        let fading: Vec<i16> = tone(rate, 300.0, 0.5, 6000.0)
            .samples
            .iter()
            .enumerate()
            .map(|(i, &s)| (f64::from(s) * (1.0 - i as f64 / 4000.0 * 0.94)) as i16)
            .collect();
        let stream = cat(&[
            &silence(rate, 0.5).samples,
            &loud.samples,
            &fading,
            &silence(rate, 0.3).samples,
            &loud.samples,
            &silence(rate, 1.0).samples,
        ]);
        let evs = run(&mut ep(EndpointConfig::default()), &stream, 240);
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(
            matches!(evs[1], Event::SpeechEnded { end, .. } if end == 4000 + 8000 + 2400 + 4000)
        );
    }

    #[test]
    fn a_click_inside_the_silence_does_not_restart_it() {
        let stream = cat(&[
            &silence(8000, 0.5).samples,
            &tone(8000, 300.0, 0.5, 6000.0).samples,
            &silence(8000, 0.2).samples,
            &tone(8000, 300.0, 0.02, 12000.0).samples, // one frame
            &silence(8000, 1.0).samples,
        ]);
        let evs = run(&mut ep(EndpointConfig::default()), &stream, 160);
        assert_eq!(
            evs[1],
            Event::SpeechEnded {
                end: 8000,
                at: 8000 + 4000
            }
        );
    }

    #[test]
    fn max_length_keeps_what_was_said() {
        let stream = cat(&[
            &silence(8000, 0.5).samples,
            &tone(8000, 300.0, 5.0, 6000.0).samples,
        ]);
        let mut e = ep(EndpointConfig {
            max_length: Duration::from_secs(2),
            ..Default::default()
        });
        let evs = run(&mut e, &stream, 500);
        assert_eq!(evs[1], Event::MaxLength { at: 4000 + 16000 });
        assert_eq!(e.answer().len(), 2400 + 16000);
        let pcm = e.take_answer();
        assert_eq!(pcm.rate, 8000);
        assert!((pcm.duration_secs() - 2.3).abs() < 1e-9);
    }

    #[test]
    fn speech_at_the_first_sample_is_heard() {
        // The caller talks before listening begins: the floor seed is clamped, so speech is
        // still speech; pre-roll is whatever exists.
        let speech = espeak_8k("hello");
        let stream = cat(&[&speech.samples, &silence(8000, 1.0).samples]);
        let mut e = ep(EndpointConfig::default());
        let evs = run(&mut e, &stream, 160);
        assert!(matches!(evs[0], Event::SpeechStarted { .. }), "{evs:?}");
        assert!(matches!(evs[1], Event::SpeechEnded { .. }), "{evs:?}");
    }

    #[test]
    fn reset_reuses_for_the_next_question() {
        let stream = cat(&[
            &silence(8000, 0.5).samples,
            &tone(8000, 300.0, 0.5, 6000.0).samples,
            &silence(8000, 1.0).samples,
        ]);
        let mut e = ep(EndpointConfig::default());
        let first = run(&mut e, &stream, 160);
        let cap = e.answer.capacity();
        e.reset();
        assert_eq!(e.state(), State::Waiting);
        assert_eq!(run(&mut e, &stream, 160), first);
        assert_eq!(e.answer.capacity(), cap);
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad_rate = EndpointConfig {
            rate: 8001,
            ..Default::default()
        };
        assert_eq!(
            Endpointer::new(bad_rate).unwrap_err(),
            EndpointError::Rate(8001)
        );
        let short = EndpointConfig {
            end_silence: Duration::from_millis(5),
            ..Default::default()
        };
        assert!(matches!(
            Endpointer::new(short).unwrap_err(),
            EndpointError::TooShort {
                name: "end_silence",
                ..
            }
        ));
        let margins = EndpointConfig {
            keep_margin_db: 12.0,
            ..Default::default()
        };
        assert!(Endpointer::new(margins)
            .unwrap_err()
            .to_string()
            .contains("keep margin"));
    }

    /// Real speech, padded with silence and low noise, at several levels and silence lengths:
    /// the end is reported no later than end_silence + one frame after the speech really ended,
    /// and not before the speech ended.
    #[test]
    fn espeak_answer_end_is_found_in_time() {
        let speech = espeak_8k("yes, I would like to talk to sales please");
        let truth = speech_end_of(&speech, -45.0);
        for (gain, noise_amp, end_ms) in [
            (1.0, 30.0, 500),
            (0.3, 30.0, 500),
            (1.0, 100.0, 800),
            (0.1, 10.0, 300),
            (1.0, 0.0, 500),
        ] {
            let lead = 8000 * 6 / 10;
            let scaled: Vec<i16> = speech
                .samples
                .iter()
                .map(|&s| (f64::from(s) * gain) as i16)
                .collect();
            let mut stream = cat(&[&vec![0; lead], &scaled, &vec![0; 8000 * 2]]);
            let n = noise(8000, stream.len() as f64 / 8000.0, noise_amp, 7);
            for (s, z) in stream.iter_mut().zip(&n.samples) {
                *s = s.saturating_add(*z);
            }
            let cfg = EndpointConfig {
                end_silence: Duration::from_millis(end_ms),
                ..Default::default()
            };
            let mut e = ep(cfg);
            let evs = run(&mut e, &stream, 250);
            let label = format!("gain {gain} noise {noise_amp} end {end_ms} ms: {evs:?}");
            assert_eq!(evs.len(), 2, "{label}");
            let Event::SpeechStarted { start, .. } = evs[0] else {
                panic!("{label}")
            };
            let Event::SpeechEnded { end, at } = evs[1] else {
                panic!("{label}")
            };
            let truth_end = lead as u64 + truth;
            let end_silence = end_ms * 8;
            assert!(
                start >= lead as u64 && start < lead as u64 + 8 * 300,
                "{label}"
            );
            assert!(
                at <= truth_end + end_silence + FRAME,
                "late: at {at}, truth {truth_end}; {label}"
            );
            // Never cut while the caller is still audible: the decision comes no earlier than
            // end_silence (less 100 ms of fading tail) after the real end, and the speech the
            // endpointer saw ends no more than 150 ms before it.
            assert!(at + 8 * 100 >= truth_end + end_silence, "early: {label}");
            assert!(
                end + 8 * 150 >= truth_end,
                "end {end} truth {truth_end}; {label}"
            );
            // The kept answer covers the whole utterance with pre-roll.
            assert!(e.answer_origin() + 8 * 200 <= lead as u64, "{label}");
            assert!(
                e.answer_origin() + e.answer().len() as u64 >= truth_end,
                "{label}"
            );
        }
    }

    #[test]
    fn espeak_pause_shorter_than_end_silence_does_not_end_the_answer() {
        let first = espeak_8k("my account number is");
        let second = espeak_8k("four two seven");
        let pause = 8 * 350; // 350 ms, under the 500 ms end_silence
        let f_end = speech_end_of(&first, -45.0) as usize;
        let stream = cat(&[
            &noise(8000, 0.5, 40.0, 11).samples,
            &first.samples[..f_end],
            &noise(8000, pause as f64 / 8000.0, 40.0, 12).samples,
            &second.samples,
            &noise(8000, 2.0, 40.0, 13).samples,
        ]);
        let second_end = (4000 + f_end + pause) as u64 + speech_end_of(&second, -45.0);
        let mut e = ep(EndpointConfig::default());
        let evs = run(&mut e, &stream, 320);
        assert_eq!(evs.len(), 2, "{evs:?}");
        let Event::SpeechEnded { at, .. } = evs[1] else {
            panic!("{evs:?}")
        };
        assert!(
            at > second_end && at <= second_end + 4000 + FRAME,
            "{evs:?} vs {second_end}"
        );
        // And with end_silence shorter than the pause, the answer ends at the pause.
        let mut short = ep(EndpointConfig {
            end_silence: Duration::from_millis(200),
            ..Default::default()
        });
        let evs = run(&mut short, &stream, 320);
        let Event::SpeechEnded { at, .. } = evs[1] else {
            panic!("{evs:?}")
        };
        assert!(at < (4000 + f_end + pause) as u64, "{evs:?}");
    }

    /// Cost per 20 ms frame: 100 concurrent calls feed 5000 frames a second between them.
    #[test]
    fn cost_per_frame() {
        let speech = espeak_8k("one two three four five");
        let mut stream = noise(8000, 10.0, 40.0, 5).samples;
        for (s, z) in stream.iter_mut().skip(8000).zip(&speech.samples) {
            *s = s.saturating_add(*z);
        }
        let mut e = ep(EndpointConfig {
            end_silence: Duration::from_secs(20),
            ..Default::default()
        });
        let frames = stream.len() / 160;
        let rounds = 20;
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            e.reset();
            for chunk in stream.chunks(160) {
                std::hint::black_box(e.feed(std::hint::black_box(chunk)));
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / (frames * rounds) as f64;
        println!("endpointer: {ns:.0} ns per 20 ms frame ({frames} frames x {rounds})");
        // Generous even for a debug build: a frame must cost far less than its 20 ms.
        assert!(ns < 200_000.0, "{ns} ns per frame");
    }
}
