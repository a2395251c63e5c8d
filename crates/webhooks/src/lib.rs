//! Sends webhook deliveries over HTTP(S), signed with `Tote-Signature`.
//!
//! Every name is resolved by [`PublicOnlyResolver`], which drops private, loopback and other
//! internal addresses at connection time: a public-looking name that resolves inside
//! (DNS rebinding) cannot reach an internal service. IP-literal URLs are checked the same way.
//! No redirects are followed, and every request has a timeout.

use integration::webhook::{SIGNATURE_HEADER, is_public_ip, sign};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How an attempt ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    pub error: String,
}

/// Resolves names, keeping only public addresses unless private ones are allowed.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnlyResolver {
    allow_private: bool,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || is_public_ip(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(
                    format!("{host} resolves only to private or internal addresses").into(),
                );
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl WebhookSender {
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnlyResolver { allow_private }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent("Tote-Webhooks/1")
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// POSTs `body` to `url`, signed with `secret` at `timestamp`. A 2xx answer is success.
    pub async fn send(
        &self,
        url: &str,
        secret: &str,
        timestamp: i64,
        event_id: &str,
        event_type: &str,
        body: Vec<u8>,
    ) -> Result<u16, SendFailure> {
        let failure = |error: String| SendFailure {
            status: None,
            error,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| failure(format!("bad URL: {e}")))?;
        if let Some(host) = parsed.host_str() {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>()
                && !self.allow_private
                && !is_public_ip(ip)
            {
                return Err(failure(format!("{ip} is a private or internal address")));
            }
        }
        let signature = sign(secret.as_bytes(), timestamp, &body);
        let response = self
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header("Tote-Event-Id", event_id)
            .header("Tote-Event-Type", event_type)
            .body(body)
            .send()
            .await
            .map_err(|e| failure(describe(&e)))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(status)
        } else {
            Err(SendFailure {
                status: Some(status),
                error: format!("the endpoint answered {status}"),
            })
        }
    }
}

/// The whole cause chain: reqwest's top message alone ("error sending request") says little.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(allow_private: bool) -> WebhookSender {
        WebhookSender::new(allow_private, Duration::from_secs(2)).unwrap()
    }

    #[tokio::test]
    async fn a_private_ip_literal_is_never_called() {
        let err = sender(false)
            .send(
                "http://127.0.0.1:9/hook",
                "s",
                0,
                "e",
                "order.created",
                b"{}".to_vec(),
            )
            .await
            .unwrap_err();
        assert!(err.error.contains("private"), "{}", err.error);
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_never_called() {
        // `localhost` resolves to loopback: as a rebinding name would.
        let err = sender(false)
            .send(
                "http://localhost:9/hook",
                "s",
                0,
                "e",
                "order.created",
                b"{}".to_vec(),
            )
            .await
            .unwrap_err();
        assert!(err.error.contains("private or internal"), "{}", err.error);
    }

    #[tokio::test]
    async fn with_private_allowed_the_request_is_made() {
        // Nothing listens on port 9 (discard): the failure is a refused connection, not SSRF.
        let err = sender(true)
            .send(
                "http://localhost:9/hook",
                "s",
                0,
                "e",
                "order.created",
                b"{}".to_vec(),
            )
            .await
            .unwrap_err();
        assert!(!err.error.contains("private"), "{}", err.error);
    }
}
