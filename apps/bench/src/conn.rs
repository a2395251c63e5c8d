//! One load client's own HTTP/1.1 keep-alive connection, as each pgbench client holds its own
//! database connection and wrk and oha hold one connection per client.
//!
//! Through a shared pool (reqwest's), each request looked for an idle connection, and at a
//! paced rate a few connections carried most of the load; here the 64 clients are 64
//! connections, spread over the app's workers as pgbench's are over PostgreSQL's backends.
//! It is also lighter: 0.07 ms of CPU per order against 0.10 ms through the pool. After any
//! failure the connection is dropped and the next request opens a new one.

use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use std::time::Duration;

type Body = http_body_util::Full<Bytes>;

/// A request that has no answer after this long fails as `timeout`.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An answer: its status code and body.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

pub struct Connection {
    /// `host:port`, for the socket and the `Host` header.
    authority: String,
    path: String,
    auth: HeaderValue,
    sender: Option<SendRequest<Body>>,
}

impl Connection {
    /// Connects lazily, on the first request. `url` is `http://host:port/path`.
    pub fn new(url: &str, auth: HeaderValue) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: the load client speaks plain http:// only"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(Self {
            authority: authority.to_owned(),
            path: path.to_owned(),
            auth,
            sender: None,
        })
    }

    /// POSTs a JSON body. `Err` is the kind of transport failure; the connection is then
    /// dropped, and the next request opens a new one.
    pub async fn post_json(&mut self, payload: Vec<u8>) -> Result<Answer, String> {
        match tokio::time::timeout(TIMEOUT, self.exchange(payload)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(kind)) => {
                self.sender = None;
                Err(kind)
            }
            Err(_) => {
                self.sender = None;
                Err("timeout".into())
            }
        }
    }

    async fn exchange(&mut self, payload: Vec<u8>) -> Result<Answer, String> {
        use http_body_util::BodyExt;
        let sender = match &mut self.sender {
            Some(sender) => sender,
            None => self.sender.insert(connect(&self.authority).await?),
        };
        sender
            .ready()
            .await
            .map_err(|_| "transport error".to_owned())?;
        let request = hyper::Request::post(self.path.as_str())
            .header(HOST, self.authority.as_str())
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Body::new(Bytes::from(payload)))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| "transport error".to_owned())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| "transport error".to_owned())?
            .to_bytes();
        Ok(Answer { status, body })
    }
}

async fn connect(authority: &str) -> Result<SendRequest<Body>, String> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|_| "connect error".to_owned())?;
    stream
        .set_nodelay(true)
        .map_err(|_| "connect error".to_owned())?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| "connect error".to_owned())?;
    // Drives the socket; it ends when the sender is dropped or the app closes the connection.
    tokio::spawn(connection);
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_url_into_authority_and_path() {
        let c = Connection::new(
            "http://127.0.0.1:8080/api/v1/orders",
            HeaderValue::from_static("Bearer k"),
        )
        .unwrap();
        assert_eq!(c.authority, "127.0.0.1:8080");
        assert_eq!(c.path, "/api/v1/orders");
        assert!(Connection::new("https://x/y", HeaderValue::from_static("k")).is_err());
    }

    /// A minimal HTTP/1.1 server: answers every request with `201 {}` and counts connections.
    fn serve_201() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/orders", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut length = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = v.trim().parse().unwrap();
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        reader
                            .by_ref()
                            .take(length)
                            .read_to_end(&mut Vec::new())
                            .unwrap();
                        let reply = "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
                        stream.write_all(reply.as_bytes()).unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn keeps_one_connection_for_all_its_requests() {
        let (url, accepted) = serve_201();
        let mut c = Connection::new(&url, HeaderValue::from_static("Bearer k")).unwrap();
        for _ in 0..3 {
            let answer = c.post_json(br#"{"lines":[]}"#.to_vec()).await.unwrap();
            assert_eq!((answer.status, &answer.body[..]), (201, &b"{}"[..]));
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error_and_is_dropped() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/x");
        let mut c = Connection::new(&url, HeaderValue::from_static("k")).unwrap();
        assert_eq!(
            c.post_json(b"{}".to_vec()).await.err().unwrap(),
            "connect error"
        );
        assert!(c.sender.is_none());
    }
}
