//! A stand-in HTTP server for tests that serves many requests (a token endpoint and an API on
//! one port, say), with a handler that plays the real service: it sees each request as it
//! travelled on the wire (request line, headers, the body read by Content-Length or chunks)
//! and answers what that service would, or hangs, or drops the connection.
//!
//! One request per connection (`connection: close`), so what each request carried is never
//! mixed with another's. Every request is kept, with the handler's verdict, for the test to
//! inspect afterwards.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Why the handler refused it, if it did (its own words, for assertions).
    pub refused: Option<String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("Invalid JSON payload received. {e}"))
    }
}

#[derive(Clone)]
pub enum Reply {
    /// Status, extra headers, content type, body.
    Raw(u16, Vec<(&'static str, String)>, &'static str, Vec<u8>),
    /// Reads the request, then says nothing for this long.
    Hang(Duration),
    /// Reads the request, then closes the connection.
    Close,
}

impl Reply {
    pub fn json(status: u16, v: &serde_json::Value) -> Reply {
        Reply::Raw(
            status,
            vec![],
            "application/json; charset=UTF-8",
            v.to_string().into_bytes(),
        )
    }

    pub fn bytes(status: u16, ctype: &'static str, body: Vec<u8>) -> Reply {
        Reply::Raw(status, vec![], ctype, body)
    }
}

/// The handler's answer: the reply, and why it refused the request (None: accepted).
pub type Verdict = (Reply, Option<String>);

pub struct Standin {
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Standin {
    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests to one path (without the query).
    pub fn to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve<F>(handler: F) -> Standin
where
    F: Fn(&Request) -> Verdict + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let log = Arc::clone(&requests);
    let task = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            tokio::spawn(async move { one(sock, &*handler, &log).await });
        }
    });
    Standin {
        base,
        requests,
        task,
    }
}

async fn one<F>(mut sock: TcpStream, handler: &F, log: &Mutex<Vec<Request>>)
where
    F: Fn(&Request) -> Verdict,
{
    let Some(mut req) = read_request(&mut sock).await else {
        return;
    };
    let (reply, refused) = handler(&req);
    req.refused = refused;
    log.lock().unwrap().push(req);
    match reply {
        Reply::Raw(status, extra, ctype, body) => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (n, v) in extra {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&body).await;
            let _ = sock.shutdown().await;
        }
        Reply::Hang(d) => tokio::time::sleep(d).await,
        Reply::Close => drop(sock),
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    assert_eq!(request_line.next(), Some("HTTP/1.1"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let get = |n: &str| headers.iter().find(|(h, _)| h == n).map(|(_, v)| v.clone());
    let mut body = buf[head_end + 4..].to_vec();
    if let Some(len) = get("content-length") {
        let len: usize = len.parse().ok()?;
        while body.len() < len {
            let n = sock.read(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&tmp[..n]);
        }
    } else if get("transfer-encoding").as_deref() == Some("chunked") {
        body = read_chunked(sock, body).await?;
    }
    Some(Request {
        method,
        path,
        headers,
        body,
        refused: None,
    })
}

async fn read_chunked(sock: &mut TcpStream, mut raw: Vec<u8>) -> Option<Vec<u8>> {
    let mut tmp = [0u8; 16384];
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while !raw[pos..].windows(2).any(|w| w == b"\r\n") {
            let n = sock.read(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            raw.extend_from_slice(&tmp[..n]);
        }
        let eol = pos + raw[pos..].windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[pos..eol]).ok()?.trim(), 16).ok()?;
        while raw.len() < eol + 2 + size + 2 {
            let n = sock.read(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            raw.extend_from_slice(&tmp[..n]);
        }
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        pos = eol + 2 + size + 2;
    }
}

/// An `application/x-www-form-urlencoded` body as pairs (percent and `+` decoded).
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let decode = |s: &str| -> Result<String, String> {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let h = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|e| e.to_string())?;
                    out.push(u8::from_str_radix(h, 16).map_err(|e| format!("%{h}: {e}"))?);
                    i += 2;
                }
                b'%' => return Err("truncated percent escape".into()),
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}
