//! The caller's audio under EAGI: file descriptor 3.
//!
//! Asterisk writes the channel's incoming audio (8 kHz signed linear, little-endian) to fd 3
//! while the script is not running a command, and also while STREAM FILE plays a prompt. The
//! pipe holds only about 4 s and Asterisk's end of it does not block (a full pipe loses the
//! frames Asterisk could not write), so the stream is always read, by one of two readers:
//!
//! - while the session listens for an answer ([`EagiAudio::listen`]), the session itself reads
//!   the descriptor, waiting in `poll` with its own timeout: one thread woken per 20 ms frame;
//! - the rest of the time a background thread reads it and throws the audio away (it is no
//!   answer to any question), counting what it dropped.
//!
//! Before, a reader thread handed every frame to the session over a channel: two threads woken
//! per frame of a listening call.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct EagiAudio {
    shared: Arc<Shared>,
}

struct Shared {
    audio: File,
    /// Written to make the background reader leave `poll` at once and give up the descriptor.
    wake: File,
    state: Mutex<State>,
    turn: Condvar,
}

#[derive(Default)]
struct State {
    /// The session reads the descriptor; the background reader waits.
    listening: bool,
    /// The background reader is inside `poll`/`read`: the session must wait for it to leave.
    reading: bool,
    /// Samples the background reader threw away since the last listening ended.
    dropped: usize,
    /// A byte read without its pair (a read may end in the middle of a sample).
    carry: Option<u8>,
    /// The stream ended (the channel is gone).
    ended: bool,
}

impl EagiAudio {
    /// Starts reading fd 3; `None` when the script was started as AGI (no audio descriptor).
    pub fn open() -> Option<Self> {
        // SAFETY: F_GETFD only asks whether the descriptor is open.
        if unsafe { libc::fcntl(3, libc::F_GETFD) } < 0 {
            return None;
        }
        // SAFETY: fd 3 is open (checked above) and owned by nothing else in this process.
        Some(Self::from_fd(unsafe { OwnedFd::from_raw_fd(3) }))
    }

    /// Reads signed 16-bit little-endian samples from any readable descriptor (tests use a
    /// socket pair).
    pub fn from_fd(fd: OwnedFd) -> Self {
        // SAFETY: eventfd has no memory-safety preconditions; the result is checked.
        let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(wake >= 0, "eventfd: {}", std::io::Error::last_os_error());
        let shared = Arc::new(Shared {
            audio: File::from(fd),
            // SAFETY: `wake` is a fresh descriptor owned by nothing else.
            wake: unsafe { File::from_raw_fd(wake) },
            state: Mutex::new(State::default()),
            turn: Condvar::new(),
        });
        let background = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("eagi-audio".into())
            .spawn(move || background.discard_while_not_listening())
            .expect("cannot start the EAGI audio thread");
        EagiAudio { shared }
    }

    /// Takes the stream over for one answer. What arrived before (the prompt playing, the
    /// webhook being asked) is thrown away: it is not an answer to this question.
    pub fn listen(&self) -> Listening<'_> {
        let sh = &self.shared;
        let mut st = sh.lock();
        st.listening = true;
        if st.reading {
            let _ = (&sh.wake).write(&1u64.to_ne_bytes());
            while st.reading {
                st = sh.turn.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
        let mut listening = Listening {
            shared: sh,
            carry: st.carry.take(),
            dropped: 0,
            ended: st.ended,
        };
        let mut dropped = std::mem::take(&mut st.dropped);
        drop(st);
        // What is still in the pipe arrived before listening began as well.
        while let Ok(chunk) = listening.next(Duration::ZERO) {
            dropped += chunk.len();
        }
        listening.dropped = dropped;
        listening
    }
}

/// The session's turn at the stream; the background reader takes over again when dropped.
pub struct Listening<'a> {
    shared: &'a Shared,
    carry: Option<u8>,
    dropped: usize,
    ended: bool,
}

impl Listening<'_> {
    /// How many samples that arrived before listening began were thrown away.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The next samples, waiting up to `wait`; `Disconnected` once the stream has ended (the
    /// channel is gone).
    pub fn next(&mut self, wait: Duration) -> Result<Vec<i16>, RecvTimeoutError> {
        if self.ended {
            return Err(RecvTimeoutError::Disconnected);
        }
        let mut buf = [0u8; 4096];
        match read_within(&self.shared.audio, None, &mut buf, wait) {
            ReadOutcome::Timeout => Err(RecvTimeoutError::Timeout),
            ReadOutcome::Ended => {
                self.ended = true;
                Err(RecvTimeoutError::Disconnected)
            }
            ReadOutcome::Bytes(n) => Ok(samples(&mut self.carry, &buf[..n])),
            ReadOutcome::Woken => unreachable!("no wake descriptor was given"),
        }
    }
}

impl Drop for Listening<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.listening = false;
        st.carry = self.carry.take();
        st.ended |= self.ended;
        drop(st);
        self.shared.turn.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The background reader: reads and counts the audio while nobody listens, until the
    /// stream ends.
    fn discard_while_not_listening(&self) {
        let mut buf = [0u8; 4096];
        loop {
            let mut st = self.lock();
            while st.listening && !st.ended {
                st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.ended {
                return;
            }
            st.reading = true;
            drop(st);
            let read = read_within(&self.audio, Some(&self.wake), &mut buf, BACKGROUND_WAIT);
            let mut st = self.lock();
            st.reading = false;
            match read {
                ReadOutcome::Bytes(n) => {
                    let bytes = n + usize::from(st.carry.is_some());
                    st.dropped += bytes / 2;
                    st.carry = (bytes % 2 == 1).then(|| buf[n - 1]);
                }
                ReadOutcome::Ended => st.ended = true,
                ReadOutcome::Woken => {
                    let mut counter = [0u8; 8];
                    let _ = (&self.wake).read(&mut counter);
                }
                ReadOutcome::Timeout => {}
            }
            drop(st);
            self.turn.notify_all();
        }
    }
}

/// How long the background reader waits in `poll` before it looks at the state again. The
/// wake-up descriptor is what hands the stream over at once (its count stays until read, so a
/// wake-up cannot be missed); this only bounds a silent line's wait, far above any hand-over.
const BACKGROUND_WAIT: Duration = Duration::from_secs(5);

enum ReadOutcome {
    Bytes(usize),
    Timeout,
    Ended,
    Woken,
}

/// Waits up to `wait` for the audio (or for `wake`), then reads what is there.
fn read_within(audio: &File, wake: Option<&File>, buf: &mut [u8], wait: Duration) -> ReadOutcome {
    let deadline = Instant::now().checked_add(wait);
    loop {
        let mut fds = [
            libc::pollfd {
                fd: audio.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wake.map_or(-1, |w| w.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .as_millis()
                .min(i32::MAX as u128) as i32,
        };
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call; a
        // negative fd is ignored by poll.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return ReadOutcome::Ended;
        }
        if fds[1].revents != 0 {
            return ReadOutcome::Woken;
        }
        if fds[0].revents == 0 {
            return ReadOutcome::Timeout;
        }
        return match (&*audio).read(buf) {
            Ok(0) => ReadOutcome::Ended,
            Ok(n) => ReadOutcome::Bytes(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ReadOutcome::Timeout,
            Err(_) => ReadOutcome::Ended,
        };
    }
}

/// Little-endian 16-bit samples from `bytes`, with a byte left over from the previous read in
/// front and this read's odd byte kept for the next.
fn samples(carry: &mut Option<u8>, bytes: &[u8]) -> Vec<i16> {
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
    let mut rest = bytes;
    if let Some(first) = carry.take() {
        match rest.split_first() {
            Some((&second, tail)) => {
                out.push(i16::from_le_bytes([first, second]));
                rest = tail;
            }
            None => {
                *carry = Some(first);
                return out;
            }
        }
    }
    let pairs = rest.chunks_exact(2);
    *carry = pairs.remainder().first().copied();
    out.extend(pairs.map(|b| i16::from_le_bytes([b[0], b[1]])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn stream() -> (UnixStream, EagiAudio) {
        let (phone, script_end) = UnixStream::pair().unwrap();
        (phone, EagiAudio::from_fd(script_end.into()))
    }

    fn le(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn samples_survive_odd_chunking_and_the_end_is_reported() {
        let (mut w, audio) = stream();
        let mut listening = audio.listen();
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 - 5000) as i16).collect();
        let bytes = le(&samples);
        w.write_all(&bytes[..333]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        w.write_all(&bytes[333..]).unwrap();
        drop(w);
        let mut got = Vec::new();
        while let Ok(chunk) = listening.next(Duration::from_secs(2)) {
            got.extend(chunk);
        }
        assert_eq!(got, samples);
        assert!(matches!(
            listening.next(Duration::from_millis(10)),
            Err(RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn audio_before_listening_is_dropped_and_counted_across_turns() {
        let (mut w, audio) = stream();
        w.write_all(&[0u8; 800]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut listening = audio.listen();
        assert_eq!(listening.dropped(), 400);
        assert!(matches!(
            listening.next(Duration::from_millis(50)),
            Err(RecvTimeoutError::Timeout)
        ));
        drop(listening);
        // Between two answers the background reader has the stream again; an odd byte stays
        // in front of the next sample.
        w.write_all(&[0u8; 641]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut listening = audio.listen();
        assert_eq!(listening.dropped(), 320);
        w.write_all(&[0x12]).unwrap();
        assert_eq!(listening.next(Duration::from_secs(2)).unwrap(), [0x1200]);
    }

    #[test]
    fn listening_begins_at_once_on_a_silent_line() {
        // No frame comes (a far end with silence suppression): the background reader sits in
        // poll, and is woken to hand the stream over rather than waited for (forever).
        let (_w, audio) = stream();
        let audio = Arc::new(audio);
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(50));
            let (tx, rx) = std::sync::mpsc::channel();
            let audio = Arc::clone(&audio);
            std::thread::spawn(move || {
                let listening = audio.listen();
                let _ = tx.send(listening.dropped());
            });
            let started = Instant::now();
            let dropped = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("listening did not begin");
            let took = started.elapsed();
            // Well below BACKGROUND_WAIT, well above a machine's hiccup.
            assert!(took < Duration::from_millis(2500), "{took:?}");
            assert_eq!(dropped, 0);
        }
    }

    #[test]
    fn a_hangup_while_nobody_listens_is_reported_to_the_next_listener() {
        let (w, audio) = stream();
        drop(w);
        std::thread::sleep(Duration::from_millis(100));
        let mut listening = audio.listen();
        assert!(matches!(
            listening.next(Duration::from_secs(1)),
            Err(RecvTimeoutError::Disconnected)
        ));
    }
}
