//! The caller's audio under EAGI: file descriptor 3, read on a thread of its own.
//!
//! Asterisk writes the channel's incoming audio (8 kHz signed linear, little-endian) to fd 3
//! while the script is not running a command. A pipe holds only about 4 s, and a blocking read
//! cannot be combined with timeouts, so a thread reads continuously and hands chunks over a
//! channel; before listening for a fresh answer the queue is drained, which throws away what the
//! caller said (or the line noise heard) while the script was busy with something else.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

pub struct EagiAudio {
    // One reader (the session), but kept in a process-wide cell: hence the lock.
    rx: Mutex<Receiver<Vec<i16>>>,
}

impl EagiAudio {
    /// Starts reading fd 3; `None` when the script was started as AGI (no audio descriptor).
    pub fn open() -> Option<Self> {
        // SAFETY: F_GETFD only asks whether the descriptor is open.
        if unsafe { libc::fcntl(3, libc::F_GETFD) } < 0 {
            return None;
        }
        // SAFETY: fd 3 is open (checked above) and owned by nothing else in this process.
        let file = unsafe { File::from_raw_fd(3) };
        Some(Self::from_reader(file))
    }

    /// Reads signed 16-bit little-endian samples from any reader (tests use a pipe).
    pub fn from_reader<R: Read + Send + 'static>(mut reader: R) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("eagi-audio".into())
            .spawn(move || {
                let mut buf = vec![0u8; 4096];
                let mut carry: Option<u8> = None;
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let mut bytes: Vec<u8> = carry.take().into_iter().collect();
                    bytes.extend_from_slice(&buf[..n]);
                    if bytes.len() % 2 == 1 {
                        carry = bytes.pop();
                    }
                    let samples = bytes
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]]))
                        .collect();
                    if tx.send(samples).is_err() {
                        return;
                    }
                }
            })
            .expect("cannot start the EAGI audio thread");
        EagiAudio { rx: Mutex::new(rx) }
    }

    /// Discards every chunk read so far; returns how many samples were dropped.
    pub fn drain(&self) -> usize {
        self.rx().try_iter().map(|c| c.len()).sum()
    }

    /// The next chunk; `Disconnected` once the stream has ended (the channel is gone).
    pub fn recv_timeout(&self, d: Duration) -> Result<Vec<i16>, RecvTimeoutError> {
        self.rx().recv_timeout(d)
    }

    fn rx(&self) -> std::sync::MutexGuard<'_, Receiver<Vec<i16>>> {
        self.rx.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn samples_survive_odd_chunking_and_drain_discards() {
        let (mut w, r) = UnixStream::pair().unwrap();
        let audio = EagiAudio::from_reader(r);
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 - 5000) as i16).collect();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        w.write_all(&bytes[..333]).unwrap();
        w.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        w.write_all(&bytes[333..]).unwrap();
        drop(w);
        let mut got = Vec::new();
        while let Ok(chunk) = audio.recv_timeout(Duration::from_secs(2)) {
            got.extend(chunk);
        }
        assert_eq!(got, samples);
        assert!(matches!(
            audio.recv_timeout(Duration::from_millis(10)),
            Err(RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn drain_empties_the_queue() {
        let (mut w, r) = UnixStream::pair().unwrap();
        let audio = EagiAudio::from_reader(r);
        w.write_all(&[0u8; 800]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(audio.drain(), 400);
        assert!(matches!(
            audio.recv_timeout(Duration::from_millis(50)),
            Err(RecvTimeoutError::Timeout)
        ));
    }
}
