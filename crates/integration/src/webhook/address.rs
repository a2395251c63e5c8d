use std::net::{IpAddr, Ipv4Addr};

/// A webhook target, checked: `http` or `https`, a host, no credentials, and — unless private
/// targets are allowed for local testing — not an address inside a private network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: url::Url,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    #[error("not a valid URL: {0}")]
    Malformed(String),
    #[error("the URL must start with https:// (or http://)")]
    Scheme,
    #[error("the URL must not contain a user name or password")]
    Credentials,
    #[error("the URL is too long (at most 2048 characters)")]
    TooLong,
    #[error(
        "{0} is a private, loopback or otherwise internal address; webhooks go to public \
         endpoints (set TOTE_WEBHOOK_ALLOW_PRIVATE=true only for local testing)"
    )]
    Private(String),
}

impl WebhookUrl {
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, WebhookUrlError> {
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err(WebhookUrlError::TooLong);
        }
        let url = url::Url::parse(raw).map_err(|e| WebhookUrlError::Malformed(e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(WebhookUrlError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials);
        }
        let host = match url.host() {
            None => return Err(WebhookUrlError::Malformed("the URL has no host".into())),
            Some(h) => h,
        };
        if !allow_private {
            let internal = match host {
                url::Host::Ipv4(ip) => !is_public_ip(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => !is_public_ip(IpAddr::V6(ip)),
                url::Host::Domain(name) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    name == "localhost"
                        || name.ends_with(".localhost")
                        || name.ends_with(".local")
                        || name.ends_with(".internal")
                        || !name.contains('.')
                }
            };
            if internal {
                return Err(WebhookUrlError::Private(host.to_string()));
            }
        }
        Ok(Self { url })
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }
}

/// Whether an address is on the public internet. Names are resolved and every address checked
/// again at delivery time, since a public name can point inside (DNS rebinding).
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let internal = v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: reaches IPv4 targets
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
                || (s[0] == 0x2002); // 6to4: embeds an IPv4 address
            !internal
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let internal = ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, cloud metadata
        || (a == 100 && (64..=127).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || ip.is_multicast()
        || a >= 240 // reserved and broadcast
        || ip == Ipv4Addr::BROADCAST;
    !internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_and_public_ones_accepted() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(
                !is_public_ip(internal.parse().unwrap()),
                "{internal} is internal"
            );
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public_ip(public.parse().unwrap()), "{public} is public");
        }
    }

    #[test]
    fn urls_to_internal_hosts_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "https://localhost/hook",
            "https://metadata.google.internal/",
            "http://169.254.169.254/latest/meta-data",
            "http://intranet/hook",
        ] {
            assert!(
                matches!(
                    WebhookUrl::parse(url, false),
                    Err(WebhookUrlError::Private(_))
                ),
                "{url}"
            );
            assert!(
                WebhookUrl::parse(url, true).is_ok(),
                "{url} allowed when private is allowed"
            );
        }
    }

    #[test]
    fn only_http_urls_without_credentials_are_accepted() {
        assert!(WebhookUrl::parse("https://hooks.example.com/tote", false).is_ok());
        assert_eq!(
            WebhookUrl::parse("ftp://example.com/", false),
            Err(WebhookUrlError::Scheme)
        );
        assert_eq!(
            WebhookUrl::parse("https://user:pw@example.com/", false),
            Err(WebhookUrlError::Credentials)
        );
        assert!(matches!(
            WebhookUrl::parse("not a url", false),
            Err(WebhookUrlError::Malformed(_))
        ));
        let u = WebhookUrl::parse("https://hooks.example.com/x", false).unwrap();
        assert_eq!((u.host(), u.port()), ("hooks.example.com", 443));
    }
}
