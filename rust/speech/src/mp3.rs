//! MP3 in and out: the caller's recorded answer goes out as MP3, and prompts may come in as MP3.
//!
//! Why it exists: `UserAnswerMp3Url` hands the webhook's owner an MP3 of the answer (small enough
//! to keep for the retention period and to play in any browser), and `MessageUrl` prompts are
//! often MP3 files that Asterisk cannot play as they are.
//!
//! Encoding uses LAME through `lame-sys` (the design card asks for it; Debian's
//! `libmp3lame-dev` provides the library it links). Telephone audio is 8 kHz mono, which MP3
//! carries as MPEG-2.5 Layer III; [`DEFAULT_KBPS`] = 24 kbps CBR keeps the whole 4 kHz band
//! of a phone line for 3 kB per second of answer (16 kbps makes LAME cut the band lower, for a
//! third less size). A LAME "Info" tag is written in the first frame so that players and
//! decoders know the exact length and the encoder's delay and padding.
//!
//! Decoding uses symphonia (its `mp3` bundle): pure Rust, so a hostile or broken file from a
//! `MessageUrl` is parsed by memory-safe code rather than by a C decoder, actively maintained,
//! and it honours LAME's gapless information, so a round trip keeps the length. (minimp3 is the
//! other candidate; its crate binds the C library and is no longer maintained.)
//!
//! [`decode_any`] sniffs the bytes (RIFF/WAVE or MP3, with or without an ID3 tag) because a
//! URL's extension and Content-Type are often wrong; it bounds input size and decoded duration
//! so a large or looping file cannot take the call's memory or time.

use std::io::Cursor;
use std::os::raw::c_int;
use std::sync::Mutex;
use std::time::Duration;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::audio::AudioError;
use crate::Pcm;

/// Bitrate for answers: see the module comment.
pub const DEFAULT_KBPS: u32 = 24;

/// Input rates MP3 can carry without resampling (MPEG-1, 2 and 2.5).
const MP3_RATES: [u32; 9] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/// LAME's own advice for the output buffer: 1.25 x samples + 7200 bytes.
const LAME_SLACK: usize = 7200;
/// Samples handed to LAME per call, so the output buffer stays small whatever the input length.
const ENCODE_CHUNK: usize = 8192;

/// LAME initialises global tables on first use without locking; this keeps two calls from
/// doing it at the same moment. Encoding itself works on per-instance state and runs unlocked.
static LAME_INIT: Mutex<()> = Mutex::new(());

#[derive(Debug, thiserror::Error)]
pub enum Mp3Error {
    #[error("mp3: nothing to encode (no samples)")]
    Empty,
    #[error("mp3: cannot encode at {0} Hz (MP3 carries 8000-48000 Hz; resample first)")]
    UnsupportedRate(u32),
    #[error("mp3: LAME {step} failed (code {code}) at {rate} Hz, {kbps} kbps")]
    Lame {
        step: &'static str,
        code: i32,
        rate: u32,
        kbps: u32,
    },
    #[error("audio is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("audio lasts over {limit:?}, the limit")]
    TooLong { limit: Duration },
    #[error("not WAV or MP3 audio (starts with {0})")]
    NotAudio(String),
    #[error("cannot decode mp3: {0}")]
    Decode(String),
    #[error(transparent)]
    Wav(#[from] AudioError),
}

/// Bounds for decoding untrusted audio (a `MessageUrl` download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_bytes: usize,
    pub max_duration: Duration,
}

impl Default for DecodeLimits {
    /// 20 MB and 10 minutes: far more than any prompt, far less than a denial of service.
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_duration: Duration::from_secs(600),
        }
    }
}

/// A LAME encoder, closed when dropped whatever path the encoding took.
struct Lame(*mut lame_sys::lame_global_flags);

impl Drop for Lame {
    fn drop(&mut self) {
        // SAFETY: the pointer came from lame_init, is non-null, and is closed only here.
        unsafe {
            lame_sys::lame_close(self.0);
        }
    }
}

/// Encodes mono PCM to CBR MP3: [`DEFAULT_KBPS`] at 8 kHz, proportionally more at higher rates
/// (48 kbps at 16 kHz), so every frame has room for the Info tag and the quality per hertz of
/// band stays the same.
pub fn encode_mp3(pcm: &Pcm) -> Result<Vec<u8>, Mp3Error> {
    let kbps = u64::from(DEFAULT_KBPS) * u64::from(pcm.rate) / 8000;
    encode_mp3_kbps(pcm, kbps.clamp(8, 320) as u32)
}

/// Encodes mono PCM to CBR MP3 at `kbps` (LAME rounds it to a bitrate the MPEG version allows).
/// Below about 24 kbps per 8 kHz a frame is too small for LAME's Info tag, so the file carries
/// no gapless information and decodes about 1100 samples longer (encoder delay and padding).
pub fn encode_mp3_kbps(pcm: &Pcm, kbps: u32) -> Result<Vec<u8>, Mp3Error> {
    if pcm.samples.is_empty() {
        return Err(Mp3Error::Empty);
    }
    if !MP3_RATES.contains(&pcm.rate) {
        return Err(Mp3Error::UnsupportedRate(pcm.rate));
    }
    let rate = pcm.rate;
    let fail = |step: &'static str, code: c_int| Mp3Error::Lame {
        step,
        code,
        rate,
        kbps,
    };
    let lame = {
        let _guard = LAME_INIT.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: lame_init has no preconditions; a null result is checked before use.
        let gf = unsafe { lame_sys::lame_init() };
        if gf.is_null() {
            return Err(fail("init", -1));
        }
        let lame = Lame(gf);
        let as_int = |v: u32| c_int::try_from(v).unwrap_or(c_int::MAX);
        // SAFETY: gf is a live encoder; these setters only store values checked by init_params.
        let code = unsafe {
            lame_sys::lame_set_num_channels(gf, 1);
            lame_sys::lame_set_in_samplerate(gf, as_int(rate));
            // Same rate out: LAME would otherwise pick its own and resample.
            lame_sys::lame_set_out_samplerate(gf, as_int(rate));
            lame_sys::lame_set_mode(gf, lame_sys::MPEG_mode::MONO);
            lame_sys::lame_set_VBR(gf, lame_sys::vbr_mode::vbr_off);
            lame_sys::lame_set_brate(gf, as_int(kbps));
            // 2 = "near best" in LAME's scale; at telephone rates the cost is negligible.
            lame_sys::lame_set_quality(gf, 2);
            lame_sys::lame_set_bWriteVbrTag(gf, 1);
            lame_sys::lame_init_params(gf)
        };
        if code < 0 {
            return Err(fail("init_params", code));
        }
        lame
    };

    let mut out = Vec::with_capacity(pcm.samples.len() / 2 + LAME_SLACK);
    let mut buf = vec![0u8; ENCODE_CHUNK * 5 / 4 + LAME_SLACK];
    let buf_len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
    for chunk in pcm.samples.chunks(ENCODE_CHUNK) {
        // SAFETY: the input pointer covers `chunk.len()` samples and LAME only reads it (the
        // binding says *mut, the C prototype says const); the right channel is ignored for mono
        // but must be a valid pointer, so it is the same one; buf is `buf_len` bytes.
        let n = unsafe {
            let p = chunk.as_ptr().cast_mut();
            lame_sys::lame_encode_buffer(
                lame.0,
                p,
                p,
                chunk.len() as c_int,
                buf.as_mut_ptr(),
                buf_len,
            )
        };
        if n < 0 {
            return Err(fail("encode", n));
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    // SAFETY: buf is `buf_len` bytes; flush writes at most that.
    let n = unsafe { lame_sys::lame_encode_flush(lame.0, buf.as_mut_ptr(), buf_len) };
    if n < 0 {
        return Err(fail("flush", n));
    }
    out.extend_from_slice(&buf[..n as usize]);

    // The first frame was a placeholder for the Info tag; now that the length is known, LAME
    // fills it in. It has the size of that first frame, so it overwrites it exactly.
    // SAFETY: buf is buf.len() bytes; LAME returns the size it needs and writes only if it fits.
    let tag = unsafe { lame_sys::lame_get_lametag_frame(lame.0, buf.as_mut_ptr(), buf.len()) };
    if tag > 0 && tag <= buf.len() && tag <= out.len() {
        out[..tag].copy_from_slice(&buf[..tag]);
    }
    Ok(out)
}

/// What the bytes look like, from their first few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Wav,
    Mp3,
    Unknown,
}

pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Sniffed::Wav
    } else if bytes.starts_with(b"ID3") || is_mpeg_audio_sync(bytes) {
        Sniffed::Mp3
    } else {
        Sniffed::Unknown
    }
}

/// An MPEG audio frame header starts with 11 set bits, a version other than "reserved" and
/// layer III.
fn is_mpeg_audio_sync(b: &[u8]) -> bool {
    b.len() >= 4
        && b[0] == 0xFF
        && b[1] & 0xE0 == 0xE0
        && (b[1] >> 3) & 3 != 1
        && (b[1] >> 1) & 3 == 1
}

/// Decodes WAV or MP3 bytes to mono PCM at the file's own rate, within the default limits.
pub fn decode_any(bytes: &[u8]) -> Result<Pcm, Mp3Error> {
    decode_any_with(bytes, &DecodeLimits::default())
}

/// Decodes WAV or MP3 bytes to mono PCM at the file's own rate (resample for Asterisk).
pub fn decode_any_with(bytes: &[u8], limits: &DecodeLimits) -> Result<Pcm, Mp3Error> {
    if bytes.len() > limits.max_bytes {
        return Err(Mp3Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    match sniff(bytes) {
        Sniffed::Wav => {
            let pcm = Pcm::from_wav_bytes(bytes)?;
            if pcm.duration_secs() > limits.max_duration.as_secs_f64() {
                return Err(Mp3Error::TooLong {
                    limit: limits.max_duration,
                });
            }
            Ok(pcm)
        }
        Sniffed::Mp3 => decode_mp3_with(bytes, limits),
        Sniffed::Unknown => Err(Mp3Error::NotAudio(describe_start(bytes))),
    }
}

/// Decodes MP3 bytes to mono PCM at the stream's rate, within the default limits.
pub fn decode_mp3(bytes: &[u8]) -> Result<Pcm, Mp3Error> {
    decode_mp3_with(bytes, &DecodeLimits::default())
}

pub fn decode_mp3_with(bytes: &[u8], limits: &DecodeLimits) -> Result<Pcm, Mp3Error> {
    if bytes.len() > limits.max_bytes {
        return Err(Mp3Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let dec_err = |what: &str, e: SymError| Mp3Error::Decode(format!("{what}: {e}"));
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| dec_err("not an mp3 stream", e))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| Mp3Error::Decode("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Mp3Error::Decode("no audio codec parameters".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| dec_err("no decoder", e))?;

    let mut rate = 0u32;
    let mut samples: Vec<i16> = Vec::new();
    let mut frame: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A truncated download ends in the middle of a frame: keep what decoded.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(dec_err("reading", e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            // One corrupt frame is skipped, as players do; a file of them is refused below.
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(e) => return Err(dec_err("decoding", e)),
        };
        good_packets += 1;
        let spec = buf.spec();
        let channels = spec.channels().count().max(1);
        if rate == 0 {
            rate = spec.rate();
        } else if rate != spec.rate() {
            return Err(Mp3Error::Decode(format!(
                "sample rate changes mid-stream ({rate} -> {} Hz)",
                spec.rate()
            )));
        }
        buf.copy_to_vec_interleaved(&mut frame);
        samples.extend(frame.chunks(channels).map(|c| {
            let mono = c.iter().sum::<f32>() / c.len() as f32;
            (mono * 32767.0).round().clamp(-32768.0, 32767.0) as i16
        }));
        if rate > 0 && samples.len() as f64 / f64::from(rate) > limits.max_duration.as_secs_f64() {
            return Err(Mp3Error::TooLong {
                limit: limits.max_duration,
            });
        }
    }
    if good_packets == 0 || rate == 0 {
        return Err(Mp3Error::Decode(format!(
            "no decodable frame ({bad_packets} bad)"
        )));
    }
    if bad_packets > good_packets {
        return Err(Mp3Error::Decode(format!(
            "mostly corrupt: {bad_packets} bad frames, {good_packets} good"
        )));
    }
    Ok(Pcm { rate, samples })
}

/// The first bytes of something that is not audio, for the error message: an HTML error page or
/// a JSON reply is recognisable as text.
fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    if head.is_empty() {
        return "nothing (empty)".into();
    }
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!("text {:?}", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{espeak_8k, silence, tone};

    /// MPEG-2/2.5 Layer III bitrates (kbps) by header index.
    const LSF_KBPS: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

    struct Header {
        version: u8,
        kbps: u32,
        rate: u32,
        mono: bool,
        len: usize,
    }

    /// Parses an MPEG-2 or 2.5 Layer III frame header by the spec, independently of any decoder.
    fn header(b: &[u8]) -> Header {
        let sync = (u16::from(b[0]) << 4) | u16::from(b[1] >> 4);
        assert_eq!(sync & 0xFFE, 0xFFE, "frame sync");
        let version = (b[1] >> 3) & 3; // 0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1
        assert_ne!(version, 3, "8-24 kHz must be MPEG-2 or 2.5");
        assert_eq!((b[1] >> 1) & 3, 1, "layer III");
        let kbps = LSF_KBPS[usize::from(b[2] >> 4)];
        let rate_idx = usize::from((b[2] >> 2) & 3);
        let rate = match version {
            0 => [11025, 12000, 8000][rate_idx],
            _ => [22050, 24000, 16000][rate_idx],
        };
        let padding = usize::from((b[2] >> 1) & 1);
        let mono = b[3] >> 6 == 3;
        // Layer III, MPEG-2/2.5: 576 samples per frame, so 72 x bitrate / rate bytes.
        let len = 72_000 * kbps as usize / rate as usize + padding;
        Header {
            version,
            kbps,
            rate,
            mono,
            len,
        }
    }

    /// Walks every frame; they must tile the file exactly.
    fn frames(mp3: &[u8]) -> Vec<Header> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < mp3.len() {
            let h = header(&mp3[i..]);
            i += h.len;
            out.push(h);
        }
        assert_eq!(i, mp3.len(), "frames tile the file");
        out
    }

    fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
        let n = reference.len().min(test.len());
        let (mut sig, mut err) = (0f64, 0f64);
        for (&a, &b) in reference[..n].iter().zip(&test[..n]) {
            sig += f64::from(a).powi(2);
            err += (f64::from(a) - f64::from(b)).powi(2);
        }
        10.0 * (sig / err.max(1.0)).log10()
    }

    #[test]
    fn answer_encodes_as_mpeg25_layer3_mono_cbr() {
        let speech = espeak_8k("thank you, my order number is four two seven");
        let mp3 = encode_mp3(&speech).unwrap();
        let hs = frames(&mp3);
        assert!(hs
            .iter()
            .all(|h| h.version == 0 && h.rate == 8000 && h.mono && h.kbps == DEFAULT_KBPS));
        // The first frame carries LAME's Info tag (CBR files say "Info", VBR "Xing").
        assert!(mp3[..hs[0].len].windows(4).any(|w| w == b"Info"));
        let per_sec = mp3.len() as f64 / speech.duration_secs();
        println!(
            "mp3: {} bytes for {:.2} s = {per_sec:.0} bytes/s at {DEFAULT_KBPS} kbps",
            mp3.len(),
            speech.duration_secs()
        );
        // A minute of answer: the per-second cost without the fixed overhead of the short clip.
        let minute = Pcm {
            rate: 8000,
            samples: speech
                .samples
                .repeat((60.0 / speech.duration_secs()).ceil() as usize),
        };
        let long = encode_mp3(&minute).unwrap();
        let long_per_sec = long.len() as f64 / minute.duration_secs();
        println!(
            "mp3: {long_per_sec:.0} bytes/s over {:.0} s",
            minute.duration_secs()
        );
        assert!((2990.0..3050.0).contains(&long_per_sec), "{long_per_sec}");
        // 3000 B/s of frames plus the Info frame and the delay and padding frames.
        assert!((2900.0..3600.0).contains(&per_sec), "{per_sec}");
    }

    #[test]
    fn round_trip_keeps_duration_and_level() {
        let speech = espeak_8k("please call me back tomorrow morning");
        for kbps in [16, 24, 32] {
            let mp3 = encode_mp3_kbps(&speech, kbps).unwrap();
            let tagged = kbps >= 24;
            let back = decode_mp3(&mp3).unwrap();
            assert_eq!(back.rate, 8000);
            let dd = (back.duration_secs() - speech.duration_secs()).abs();
            let dl = (back.rms_dbfs() - speech.rms_dbfs()).abs();
            let snr = snr_db(&speech.samples, &back.samples);
            println!(
                "mp3 {kbps} kbps: {} B/s, duration off by {:.1} ms, level off by {dl:.2} dB, SNR {snr:.1} dB",
                mp3.len() as f64 / speech.duration_secs(),
                dd * 1000.0
            );
            assert!(dl < 1.5, "{kbps} kbps: level off by {dl} dB");
            if tagged {
                // Gapless: the Info tag's delay and padding give back the exact length.
                assert!(dd < 0.001, "{kbps} kbps: duration off by {dd} s");
                // Aligned sample by sample, so the waveform (not only its level) survived.
                assert!(snr > 6.0, "{kbps} kbps: SNR {snr} dB");
            } else {
                // No tag: longer by the encoder's delay and padding, under a quarter second.
                assert!(dd < 0.25, "{kbps} kbps: duration off by {dd} s");
            }
        }
    }

    #[test]
    fn sixteen_khz_is_mpeg2_at_48_kbps() {
        let t = tone(16000, 440.0, 1.0, 8000.0);
        let mp3 = encode_mp3(&t).unwrap();
        let hs = frames(&mp3);
        assert!(hs
            .iter()
            .all(|h| h.version == 2 && h.rate == 16000 && h.kbps == 48));
        let back = decode_any(&mp3).unwrap();
        assert_eq!(back.rate, 16000);
        assert_eq!(back.samples.len(), t.samples.len());
    }

    #[test]
    fn encoding_is_safe_from_many_threads() {
        let speech = espeak_8k("one two three");
        let expect = encode_mp3(&speech).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let s = speech.clone();
                std::thread::spawn(move || encode_mp3(&s).unwrap())
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expect);
        }
    }

    #[test]
    fn encoder_refuses_what_it_cannot_do() {
        assert!(matches!(
            encode_mp3(&silence(8000, 0.0)),
            Err(Mp3Error::Empty)
        ));
        let err = encode_mp3(&silence(9000, 1.0)).unwrap_err();
        assert!(matches!(err, Mp3Error::UnsupportedRate(9000)));
        assert!(err.to_string().contains("9000 Hz"));
    }

    #[test]
    fn decode_any_sniffs_wav_and_mp3() {
        let speech = espeak_8k("hello");
        let wav = speech.to_wav_bytes().unwrap();
        assert_eq!(sniff(&wav), Sniffed::Wav);
        assert_eq!(decode_any(&wav).unwrap(), speech);

        let mp3 = encode_mp3(&speech).unwrap();
        assert_eq!(sniff(&mp3), Sniffed::Mp3);
        let back = decode_any(&mp3).unwrap();
        assert_eq!(back.samples.len(), speech.samples.len());

        // With an ID3v2 tag in front (a title frame), as downloaded MP3s usually have.
        let mut frame = b"TIT2".to_vec();
        let text = b"\x03Welcome";
        frame.extend_from_slice(&(text.len() as u32).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(text);
        let size = frame.len() as u32;
        let syncsafe = [
            (size >> 21) as u8 & 0x7F,
            (size >> 14) as u8 & 0x7F,
            (size >> 7) as u8 & 0x7F,
            size as u8 & 0x7F,
        ];
        let mut tagged = b"ID3\x04\x00\x00".to_vec();
        tagged.extend_from_slice(&syncsafe);
        tagged.extend_from_slice(&frame);
        tagged.extend_from_slice(&mp3);
        assert_eq!(sniff(&tagged), Sniffed::Mp3);
        assert_eq!(decode_any(&tagged).unwrap().samples, back.samples);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let html = b"<html><body>404 Not Found</body></html>";
        let err = decode_any(html).unwrap_err();
        assert!(matches!(err, Mp3Error::NotAudio(_)));
        assert!(err.to_string().contains("<html>"), "{err}");

        let err = decode_any(&[0x00, 0x01, 0x02, 0xfe]).unwrap_err();
        assert!(err.to_string().contains("00 01 02 fe"), "{err}");
        assert!(decode_any(&[]).unwrap_err().to_string().contains("empty"));

        // A frame sync followed by noise: sniffed as MP3, refused by the decoder.
        let mut fake = vec![0xFF, 0xE3, 0x38, 0xC4];
        let mut x = 12345u32;
        fake.extend((0..4000).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        let err = decode_mp3(&fake).unwrap_err();
        assert!(matches!(err, Mp3Error::Decode(_)), "{err}");

        // A RIFF header with nothing valid after it.
        let err = decode_any(b"RIFF\x10\x00\x00\x00WAVEjunkjunk").unwrap_err();
        assert!(matches!(err, Mp3Error::Wav(_)), "{err}");
    }

    #[test]
    fn truncated_download_keeps_what_decoded() {
        let speech = espeak_8k("this message was cut short");
        let mp3 = encode_mp3(&speech).unwrap();
        let half = decode_mp3(&mp3[..mp3.len() / 2 + 100]).unwrap();
        let ratio = half.duration_secs() / speech.duration_secs();
        assert!((0.35..0.65).contains(&ratio), "{ratio}");
    }

    #[test]
    fn limits_bound_size_and_duration() {
        let long = tone(8000, 300.0, 5.0, 5000.0);
        let mp3 = encode_mp3(&long).unwrap();
        let small = DecodeLimits {
            max_bytes: 1000,
            ..Default::default()
        };
        let err = decode_any_with(&mp3, &small).unwrap_err();
        assert!(
            matches!(err, Mp3Error::TooLarge { limit: 1000, .. }),
            "{err}"
        );
        let short = DecodeLimits {
            max_duration: Duration::from_secs(2),
            ..Default::default()
        };
        let err = decode_any_with(&mp3, &short).unwrap_err();
        assert!(matches!(err, Mp3Error::TooLong { .. }), "{err}");
        let wav = long.to_wav_bytes().unwrap();
        assert!(matches!(
            decode_any_with(&wav, &short).unwrap_err(),
            Mp3Error::TooLong { .. }
        ));
        assert!(decode_any_with(&mp3, &DecodeLimits::default()).is_ok());
    }
}
