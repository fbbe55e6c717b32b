//! Outgoing webhooks: JSON POSTs with the client's headers and hard time limits.
//!
//! A webhook is someone else's server: it may be down, slow, or answer nonsense. Every request
//! here has a connect timeout and a total timeout, a cap on the reply size, and an error that
//! says which of those went wrong, so the caller can fall back and the log can tell the admin why.

use std::time::Duration;

use crate::aibot::request::Header;

/// Largest webhook reply read.
pub const MAX_REPLY: usize = 256 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("reply larger than {MAX_REPLY} bytes")]
    TooLarge,
    #[error("{0}")]
    Redirect(String),
    #[error("{0}")]
    Other(String),
}

/// Most redirects followed for one request (README: "at most 3 redirects").
pub const MAX_REDIRECTS: usize = 3;

/// Where a redirect may lead: the same rules as the first URL (http/https, `allowed_hosts`),
/// checked again at every hop, since a server may send us anywhere, and at most
/// `MAX_REDIRECTS` hops.
fn redirect_policy(allowed: Vec<String>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` holds every URL already requested, the first one included.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let url = attempt.url();
        if !matches!(url.scheme(), "http" | "https") {
            let why = format!("redirect to a {} URL refused", url.scheme());
            return attempt.error(why);
        }
        if !host_allowed(url.as_str(), &allowed) {
            let why = format!(
                "redirect to {} refused: not in allowed_hosts",
                url.host_str().unwrap_or("")
            );
            return attempt.error(why);
        }
        attempt.follow()
    })
}

/// How long a connection to a receiver is kept for the next webhook. Webhooks that follow each
/// other (the outbox's deliveries) share one; a conversation's next step comes after the caller
/// has listened and answered, seconds later, and gets a fresh connection: a receiver may have
/// closed an idle one by then (Node.js closes them after 5 s), and a request written into a
/// connection the other side is closing is lost (hyper issue 2136).
pub const POOL_IDLE: Duration = Duration::from_secs(4);

/// The HTTP client for these time limits and allowed hosts, made once per process (building one
/// loads the system certificates: milliseconds per request otherwise) and made again after a
/// fork.
pub fn client(t: Timeouts, allowed: &[String]) -> Result<reqwest::Client, WebhookError> {
    type Key = (Duration, Duration, Vec<String>);
    type Clients = Option<(u32, Vec<(Key, reqwest::Client)>)>;
    static CLIENTS: std::sync::Mutex<Clients> = std::sync::Mutex::new(None);
    let mut guard = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|(p, _)| *p != pid) {
        std::mem::forget(guard.take());
    }
    let (_, clients) = guard.get_or_insert_with(|| (pid, Vec::new()));
    let key = (t.connect, t.total, allowed.to_vec());
    if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.total)
        .pool_idle_timeout(POOL_IDLE)
        .redirect(redirect_policy(allowed.to_vec()))
        .user_agent(concat!("apicall/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WebhookError::Other(crate::error::chain(&e)))?;
    clients.push((key, c.clone()));
    Ok(c)
}

/// Names what went wrong with a request: a connection not made within `t.connect` is a
/// connect error (reqwest marks it both connect and timeout), an answer not complete within
/// `t.total` a timeout, a refused redirect says why.
pub fn classify(e: &reqwest::Error, t: Timeouts) -> WebhookError {
    if e.is_connect() {
        WebhookError::Connect(crate::error::chain(e))
    } else if e.is_timeout() {
        WebhookError::Timeout(t.total)
    } else if e.is_redirect() {
        WebhookError::Redirect(crate::error::chain(e))
    } else {
        WebhookError::Other(crate::error::chain(e))
    }
}

/// How a receiver can tell a delivery is genuine and fresh: `X-Apicall-Timestamp` (Unix
/// seconds) and `X-Apicall-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What identifies and authenticates one delivery.
#[derive(Debug, Clone, Default)]
pub struct Delivery<'a> {
    /// Signing key; empty: unsigned.
    pub secret: &'a str,
    /// `X-Apicall-Event-Id`, the same on every retry of one event.
    pub event_id: Option<&'a str>,
}

/// POSTs `body` (already JSON) as is; returns the status code and the reply body. Every
/// redirect hop is checked again for scheme, count and `allowed` hosts (empty: any).
pub async fn post_json_to(
    url: &str,
    headers: &[Header],
    body: &[u8],
    t: Timeouts,
    delivery: &Delivery<'_>,
    allowed: &[String],
) -> Result<(u16, Vec<u8>), WebhookError> {
    let mut req = client(t, allowed)?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for h in headers {
        req = req.header(h.name.as_str(), h.value.as_str());
    }
    if !delivery.secret.is_empty() {
        let ts = crate::answer_url::now();
        req = req
            .header("X-Apicall-Timestamp", ts.to_string())
            .header("X-Apicall-Signature", signature(delivery.secret, ts, body));
    }
    if let Some(id) = delivery.event_id {
        req = req.header("X-Apicall-Event-Id", id);
    }
    let work = async {
        let mut resp = req.send().await.map_err(|e| classify(&e, t))?;
        let status = resp.status().as_u16();
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, t))? {
            buf.extend_from_slice(&chunk);
            if buf.len() > MAX_REPLY {
                return Err(WebhookError::TooLarge);
            }
        }
        Ok((status, buf))
    };
    // The client's own timeout covers the request; this also bounds a slow-dripping body.
    match tokio::time::timeout(t.total + Duration::from_millis(100), work).await {
        Err(_) => Err(WebhookError::Timeout(t.total)),
        Ok(r) => r,
    }
}

/// Whether `url` may be fetched or posted to under the `allowed_hosts` setting (empty: any).
pub fn host_allowed(url: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| allowed.contains(&h))
}

/// Local stand-ins for misbehaving servers, for the tests of this module and of MessageUrl.
#[cfg(test)]
pub(crate) mod test_server {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// An HTTP server on 127.0.0.1 that reads each request (head and Content-Length body) and
    /// hands its path and the connection to `reply`, each connection on a thread of its own (so
    /// a dripping reply holds up nobody). Returns the base URL.
    pub fn serve<F>(reply: F) -> String
    where
        F: Fn(&str, &mut TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let reply = std::sync::Arc::new(reply);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let reply = reply.clone();
                std::thread::spawn(move || {
                    if let Some(path) = read_request(&mut s) {
                        reply(&path, &mut s);
                    }
                });
            }
        });
        base
    }

    pub fn read_request(s: &mut TcpStream) -> Option<String> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if s.read(&mut byte).ok()? == 0 {
                return None;
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        s.read_exact(&mut body).ok()?;
        head.split_whitespace().nth(1).map(str::to_string)
    }

    /// Writes a complete answer.
    pub fn answer(s: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
        let head = format!(
            "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
    }

    /// A server that promises `promised` bytes and sends one every 100 ms, for 30 s at most.
    pub fn drip(s: &mut TcpStream, promised: usize) {
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {promised}\r\nconnection: close\r\n\r\n");
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        for _ in 0..300 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if s.write_all(b"x").is_err() {
                return;
            }
        }
    }

    /// An address on 127.0.0.1 where a connection is never made and never refused: a listener
    /// with a backlog of 0 that never accepts, its one queue place taken, drops every further
    /// SYN, so the client waits for its connect timeout (deterministic, unlike an unrouted
    /// address). The listener and the filler live as long as the returned value.
    pub fn blackhole() -> (String, (TcpListener, Vec<TcpStream>)) {
        use std::os::fd::AsRawFd;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // SAFETY: listen(2) on a socket this function owns; only changes its backlog.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        // Until a connect no longer completes: the queue is full.
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        (format!("http://{addr}"), (listener, fillers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;
    use test_server::{answer, drip, serve};

    const T: Timeouts = Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    };

    /// `/hop/N` redirects to `/hop/N-1`; `/hop/0` answers 200 "done".
    fn chain_server() -> String {
        serve(|path, s| match path.strip_prefix("/hop/") {
            Some("0") => answer(s, "200 OK", "", b"done"),
            Some(n) => {
                let next = n.parse::<u32>().unwrap() - 1;
                answer(s, "302 Found", &format!("location: /hop/{next}\r\n"), b"");
            }
            None => answer(s, "404 Not Found", "", b""),
        })
    }

    async fn post(
        url: &str,
        t: Timeouts,
        allowed: &[String],
    ) -> Result<(u16, Vec<u8>), WebhookError> {
        post_json_to(url, &[], b"{}", t, &Delivery::default(), allowed).await
    }

    #[tokio::test]
    async fn three_redirects_are_followed_a_fourth_is_refused() {
        let base = chain_server();
        let (code, body) = post(&format!("{base}/hop/3"), T, &[]).await.unwrap();
        assert_eq!((code, body.as_slice()), (200, &b"done"[..]));
        let e = post(&format!("{base}/hop/4"), T, &[]).await.unwrap_err();
        assert!(matches!(e, WebhookError::Redirect(_)), "{e:?}");
        assert!(e.to_string().contains("more than 3 redirects"), "{e}");
    }

    #[tokio::test]
    async fn a_redirect_to_a_host_outside_allowed_hosts_is_refused() {
        let reached = Arc::new(AtomicUsize::new(0));
        let seen = reached.clone();
        let base = serve(move |path, s| {
            if path == "/target" {
                seen.fetch_add(1, Ordering::SeqCst);
                answer(s, "200 OK", "", b"");
            } else {
                // Same server, another name: only the host check can tell them apart.
                let port = s.local_addr().unwrap().port();
                let to = format!("location: http://localhost:{port}/target\r\n");
                answer(s, "302 Found", &to, b"");
            }
        });
        let only_ip = vec!["127.0.0.1".to_string()];
        let e = post(&format!("{base}/go"), T, &only_ip).await.unwrap_err();
        assert!(e.to_string().contains("not in allowed_hosts"), "{e}");
        assert_eq!(reached.load(Ordering::SeqCst), 0);
        // The same redirect with its host allowed is followed: the refusal was the host check.
        let both = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        assert_eq!(post(&format!("{base}/go"), T, &both).await.unwrap().0, 200);
        assert_eq!(reached.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_redirect_to_another_scheme_is_not_followed() {
        let base = serve(|_, s| answer(s, "302 Found", "location: file:///etc/passwd\r\n", b""));
        // reqwest hands back a redirect to a scheme it cannot fetch as the answer (the policy's
        // own check is the second line of defence): an HTTP 302 the caller treats as a failure.
        let (code, _) = post(&format!("{base}/x"), T, &[]).await.unwrap();
        assert_eq!(code, 302);
    }

    #[tokio::test]
    async fn an_oversized_reply_stops_at_max_reply() {
        let base = serve(|_, s| answer(s, "200 OK", "", &vec![b'a'; MAX_REPLY + 1]));
        let started = Instant::now();
        let e = post(&format!("{base}/big"), T, &[]).await.unwrap_err();
        assert!(matches!(e, WebhookError::TooLarge), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // One byte less is a reply.
        let base = serve(|_, s| answer(s, "200 OK", "", &vec![b'a'; MAX_REPLY]));
        assert_eq!(
            post(&format!("{base}/ok"), T, &[]).await.unwrap().1.len(),
            MAX_REPLY
        );
    }

    #[tokio::test]
    async fn a_dripping_reply_is_cut_off_at_the_total_timeout() {
        let base = serve(|_, s| drip(s, 10_000));
        let t = Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_secs(1),
        };
        let started = Instant::now();
        let e = post(&format!("{base}/slow"), t, &[]).await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(e, WebhookError::Timeout(_)), "{e:?}");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(1600),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn a_connection_never_made_fails_at_the_connect_timeout() {
        let (base, _hold) = test_server::blackhole();
        let t = Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_secs(10),
        };
        let started = Instant::now();
        let e = post(&format!("{base}/x"), t, &[]).await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(e, WebhookError::Connect(_)), "{e:?}");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(1600),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn a_connection_idle_longer_than_pool_idle_is_not_reused() {
        use std::io::Write;
        // A keep-alive receiver that counts the connections made to it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let made = Arc::new(AtomicUsize::new(0));
        let count = made.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    while test_server::read_request(&mut s).is_some() {
                        if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        post(&url, T, &[]).await.unwrap();
        post(&url, T, &[]).await.unwrap();
        assert_eq!(
            made.load(Ordering::SeqCst),
            1,
            "back to back: one connection"
        );
        tokio::time::sleep(POOL_IDLE + Duration::from_millis(700)).await;
        assert_eq!(post(&url, T, &[]).await.unwrap(), (200, b"ok".to_vec()));
        assert_eq!(
            made.load(Ordering::SeqCst),
            2,
            "after POOL_IDLE: a new connection"
        );
    }

    #[test]
    fn signatures_cover_timestamp_and_exact_body() {
        let s = signature("k", 1700000000, br#"{"a":1}"#);
        assert!(s.starts_with("v1=") && s.len() == 3 + 64);
        assert_ne!(s, signature("k", 1700000001, br#"{"a":1}"#));
        assert_ne!(s, signature("k", 1700000000, br#"{"a": 1}"#));
        assert_ne!(s, signature("j", 1700000000, br#"{"a":1}"#));
        // The same value Python's hmac module computes, as a receiver would.
        assert_eq!(
            s,
            "v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3"
        );
    }

    #[test]
    fn allowed_hosts() {
        let allowed = vec!["hooks.example.com".to_string()];
        assert!(host_allowed("https://HOOKS.example.com/x", &allowed));
        assert!(!host_allowed("https://evil.example.com/x", &allowed));
        assert!(!host_allowed("not a url", &allowed));
        assert!(host_allowed("http://anything/", &[]));
    }
}
