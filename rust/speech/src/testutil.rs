//! Test signals shared by the modules' tests: silence, tones, seeded noise and real speech.
//!
//! Real speech comes from espeak-ng (installed by tests/stack/install-deps.sh), spoken into a WAV
//! and brought to 8 kHz like a telephone answer, so endpointing and encoding are tested on the
//! kind of audio they will meet rather than on tones alone.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::Pcm;

pub fn silence(rate: u32, secs: f64) -> Pcm {
    Pcm {
        rate,
        samples: vec![0; (f64::from(rate) * secs).round() as usize],
    }
}

pub fn tone(rate: u32, hz: f64, secs: f64, amp: f64) -> Pcm {
    let n = (f64::from(rate) * secs).round() as usize;
    let w = hz * 2.0 * std::f64::consts::PI / f64::from(rate);
    Pcm {
        rate,
        samples: (0..n)
            .map(|i| ((i as f64 * w).sin() * amp) as i16)
            .collect(),
    }
}

/// Uniform white noise in [-amp, amp] from a fixed seed, so tests are repeatable.
pub fn noise(rate: u32, secs: f64, amp: f64, seed: u64) -> Pcm {
    let n = (f64::from(rate) * secs).round() as usize;
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let samples = (0..n)
        .map(|_| {
            // xorshift64*: good enough for noise, and no dependency.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            let u = r as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            (u * amp) as i16
        })
        .collect();
    Pcm { rate, samples }
}

/// `text` spoken by espeak-ng (US English), at 8 kHz.
pub fn espeak_8k(text: &str) -> Pcm {
    let mut child = Command::new("espeak-ng")
        .args(["-v", "en-us", "--stdin", "--stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("espeak-ng must be installed (tests/stack/install-deps.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "espeak-ng failed");
    // espeak-ng writes a streaming WAV to stdout whose sizes hound cannot trust; rebuild it
    // from the data after the 44-byte header it always writes.
    assert_eq!(&out.stdout[36..40], b"data", "espeak-ng WAV header layout");
    let data = &out.stdout[44..];
    let samples = data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let rate = u32::from_le_bytes(out.stdout[24..28].try_into().unwrap());
    Pcm { rate, samples }.resample(8000).unwrap()
}
