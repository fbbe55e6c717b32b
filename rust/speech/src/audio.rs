//! PCM audio in the shapes Asterisk plays: mono, signed 16-bit, 8 kHz, in a RIFF/WAVE file.
//!
//! Speech engines write whatever rate they like (espeak-ng 22.05 kHz, pico 16 kHz); Asterisk's
//! `wav` format is 8 kHz signed linear. Reading and writing go through hound and resampling
//! through rubato, so no sample format is hand-rolled here.

use std::fs;
use std::io::Cursor;
use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// The rate of Asterisk's `.wav` format (`.wav16` would be 16 kHz).
pub const ASTERISK_WAV_RATE: u32 = 8000;

/// Mono 16-bit PCM.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub rate: u32,
    pub samples: Vec<i16>,
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot decode WAV: {0}")]
    Wav(#[from] hound::Error),
    #[error("unsupported WAV: {0}")]
    Unsupported(String),
    #[error("cannot resample: {0}")]
    Resample(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Pcm {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }

    /// Decodes an integer-PCM WAV of any rate, downmixing channels to mono.
    pub fn from_wav_bytes(bytes: &[u8]) -> Result<Self, AudioError> {
        let mut reader = hound::WavReader::new(Cursor::new(bytes))?;
        let spec = reader.spec();
        if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample > 32 {
            return Err(AudioError::Unsupported(format!(
                "{:?} {} bit",
                spec.sample_format, spec.bits_per_sample
            )));
        }
        let shift = i32::from(spec.bits_per_sample) - 16;
        let channels = usize::from(spec.channels.max(1));
        let raw: Vec<i32> = reader.samples::<i32>().collect::<Result<_, _>>()?;
        let samples = raw
            .chunks(channels)
            .map(|frame| {
                let sum: i64 = frame.iter().map(|&s| i64::from(s)).sum();
                let mono = sum / frame.len() as i64;
                let scaled = if shift >= 0 {
                    mono >> shift
                } else {
                    mono << -shift
                };
                scaled.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
            })
            .collect();
        Ok(Pcm {
            rate: spec.sample_rate,
            samples,
        })
    }

    /// Band-limited conversion to another rate.
    pub fn resample(&self, rate: u32) -> Result<Pcm, AudioError> {
        if rate == self.rate || self.samples.is_empty() {
            return Ok(Pcm {
                rate,
                samples: self.samples.clone(),
            });
        }
        let input: Vec<f32> = self
            .samples
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
        let mut resampler =
            Fft::<f32>::new(self.rate as usize, rate as usize, 1024, 1, FixedSync::Both)
                .map_err(|e| err(&e))?;
        let adapter = InterleavedSlice::new(&input, 1, input.len()).map_err(|e| err(&e))?;
        let out = resampler
            .process_all(&adapter, input.len(), None)
            .map_err(|e| err(&e))?
            .take_data();
        let samples = out
            .iter()
            .map(|&s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        Ok(Pcm { rate, samples })
    }

    pub fn to_wav_bytes(&self) -> Result<Vec<u8>, AudioError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::with_capacity(44 + self.samples.len() * 2));
        {
            let mut w = hound::WavWriter::new(&mut buf, spec)?;
            let mut w16 = w.get_i16_writer(self.samples.len() as u32);
            for &s in &self.samples {
                w16.write_sample(s);
            }
            w16.flush()?;
            w.finalize()?;
        }
        Ok(buf.into_inner())
    }

    /// Writes the WAV next to `path` and renames it into place, so a reader (Asterisk, or a
    /// concurrent request that found the cache entry) never sees half a file.
    pub fn write_wav_atomic(&self, path: &Path) -> Result<(), AudioError> {
        let io = |e: std::io::Error| AudioError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let bytes = self.to_wav_bytes()?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, bytes).map_err(io)?;
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io(e)
        })
    }

    /// Decodes a WAV that was written as a stream, whose header sizes were not known when it
    /// was written (espeak-ng's `--stdout`, many HTTP TTS servers: 0, 0xFFFFFFFF or a guess).
    /// The data chunk is taken to run to the end of the bytes; well-formed WAVs decode as usual.
    pub fn from_streamed_wav_bytes(bytes: &[u8]) -> Result<Self, AudioError> {
        Pcm::from_wav_bytes(&repair_streamed_wav(bytes))
    }

    /// Root mean square level in dBFS, for checks that audio is not silence.
    pub fn rms_dbfs(&self) -> f64 {
        if self.samples.is_empty() {
            return f64::NEG_INFINITY;
        }
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        let rms = (sum / self.samples.len() as f64).sqrt();
        20.0 * (rms / 32768.0).log10()
    }
}

/// A copy of a RIFF/WAVE stream with the RIFF size and the data chunk's size set to what the
/// bytes hold (whole sample frames). Anything that is not RIFF/WAVE, or has no data chunk,
/// comes back unchanged so the decoder reports it.
pub fn repair_streamed_wav(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Cow::Borrowed(bytes);
    }
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut pos = 12;
    let mut block_align = 2usize;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = le32(pos + 4);
        if id == b"fmt " && pos + 8 + 14 <= bytes.len() {
            block_align =
                usize::from(u16::from_le_bytes([bytes[pos + 20], bytes[pos + 21]])).max(1);
        }
        if id == b"data" {
            let avail = bytes.len() - (pos + 8);
            let avail = avail - avail % block_align;
            if size == avail && le32(4) == bytes.len() - 8 {
                return Cow::Borrowed(bytes);
            }
            let mut fixed = bytes[..pos + 8 + avail].to_vec();
            fixed[pos + 4..pos + 8].copy_from_slice(&(avail as u32).to_le_bytes());
            let riff = (fixed.len() - 8) as u32;
            fixed[4..8].copy_from_slice(&riff.to_le_bytes());
            return Cow::Owned(fixed);
        }
        // Chunks are padded to an even size.
        pos = pos
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    Cow::Borrowed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, secs: f64) -> Pcm {
        let n = (f64::from(rate) * secs) as usize;
        let samples = (0..n)
            .map(|i| {
                ((i as f64 * hz * 2.0 * std::f64::consts::PI / f64::from(rate)).sin() * 10000.0)
                    as i16
            })
            .collect();
        Pcm { rate, samples }
    }

    #[test]
    fn wav_round_trip() {
        let t = tone(8000, 440.0, 0.5);
        let back = Pcm::from_wav_bytes(&t.to_wav_bytes().unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn resample_keeps_duration_and_level() {
        let t = tone(22050, 440.0, 2.0);
        let r = t.resample(8000).unwrap();
        assert_eq!(r.rate, 8000);
        assert!(
            (r.duration_secs() - 2.0).abs() < 0.02,
            "{}",
            r.duration_secs()
        );
        assert!(
            (r.rms_dbfs() - t.rms_dbfs()).abs() < 0.5,
            "{} vs {}",
            r.rms_dbfs(),
            t.rms_dbfs()
        );
    }

    #[test]
    fn resample_removes_what_8k_cannot_carry() {
        // 6 kHz is above the 4 kHz Nyquist limit of 8 kHz audio: it must be filtered, not aliased.
        let r = tone(22050, 6000.0, 1.0).resample(8000).unwrap();
        assert!(r.rms_dbfs() < -50.0, "{}", r.rms_dbfs());
    }

    #[test]
    fn stereo_and_24_bit_are_downmixed() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16000,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
            for _ in 0..100 {
                w.write_sample(256 * 1000).unwrap();
                w.write_sample(256 * 3000).unwrap();
            }
            w.finalize().unwrap();
        }
        let p = Pcm::from_wav_bytes(&buf.into_inner()).unwrap();
        assert_eq!(p.rate, 16000);
        assert_eq!(p.samples.len(), 100);
        assert!(p.samples.iter().all(|&s| s == 2000));
    }

    #[test]
    fn streamed_wav_headers_are_repaired() {
        let t = tone(22050, 440.0, 0.25);
        let good = t.to_wav_bytes().unwrap();
        assert!(matches!(
            repair_streamed_wav(&good),
            std::borrow::Cow::Borrowed(_)
        ));
        for bogus in [0u32, 0xFFFF_FFFF, 0x7FFF_F000] {
            let mut w = good.clone();
            w[4..8].copy_from_slice(&bogus.to_le_bytes());
            w[40..44].copy_from_slice(&bogus.to_le_bytes());
            assert_eq!(Pcm::from_streamed_wav_bytes(&w).unwrap(), t, "{bogus:#x}");
        }
        // A stream cut in the middle of a sample keeps the whole samples.
        let mut cut = good.clone();
        cut.pop();
        let p = Pcm::from_streamed_wav_bytes(&cut).unwrap();
        assert_eq!(p.samples[..], t.samples[..t.samples.len() - 1]);
        assert!(Pcm::from_streamed_wav_bytes(b"RIFF....WAVEjunk").is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Pcm::from_wav_bytes(b"not a wav").is_err());
    }
}
