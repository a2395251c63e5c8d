//! Every setting Tote reads, in one place: environment variables with safe defaults.
//! The README lists the same table; keep them in step.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;

/// A value that must never appear in logs (it may carry a password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `TOTE_HTTP_ADDR`: where the API listens. Port 0 picks a free port.
    pub http_addr: SocketAddr,
    /// `DATABASE_URL`: PostgreSQL or SQLite. Default: a SQLite file under `./data/`.
    pub database_url: Secret,
    /// `TOTE_DATABASE_MAX_CONNECTIONS`: PostgreSQL connections for transactions (plus up to
    /// four for reads outside a transaction; `sql::SqlConfig`). Default: four per CPU core.
    pub database_max_connections: u32,
    /// `TOTE_DATABASE_BACKGROUND_CONNECTIONS`: PostgreSQL connections of the background work's
    /// own pool (outbox relay, in-process consumers, pollers, audit writer), apart from the
    /// requests' (ADR 026). 0 shares the requests' pool. Default: 2.
    pub database_background_connections: u32,
    /// `TOTE_HTTP_WORKERS`: HTTP worker threads. Default: two per CPU core (ADR 020).
    pub http_workers: NonZeroUsize,
    /// `AMQP_URL`: RabbitMQ. Unset: events are delivered in-process.
    pub amqp_url: Option<Secret>,
    /// `TOTE_LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_format: LogFormat,
    /// `TOTE_MAX_BODY_BYTES`: largest request body accepted.
    pub max_body_bytes: usize,
    /// `TOTE_OUTBOX_POLL_MS`: how often the relay looks for new events when idle (it looks
    /// again sooner while they flow: `relay::spawn`).
    pub outbox_poll_ms: u64,
    /// `TOTE_ADMIN_TOKEN`: bearer token of the operator API (`/api/v1/admin/...`); unset, that
    /// API does not exist.
    pub admin_token: Option<Secret>,
    /// `TOTE_WEBHOOK_ALLOW_PRIVATE`: let webhooks reach private addresses. Local testing only.
    pub webhook_allow_private: bool,
    /// `TOTE_JWT_KEYS`: `kid=/path/ed25519.pem[,kid=/path/older.pem…]`; the first signs. Unset:
    /// an ephemeral key (tokens die with the process), with a warning.
    pub jwt_keys: Option<String>,
    /// `TOTE_TENANT_RATE_PER_MINUTE`: requests a tenant may make per minute (per API process);
    /// 0 = unlimited.
    pub tenant_rate_per_minute: u32,
    /// `TOTE_LOGIN_ATTEMPTS_PER_MINUTE`: login attempts per IP and per account per minute.
    pub login_attempts_per_minute: u32,
    /// `TOTE_API_KEY_CACHE_SECS`: how long an API key found active is trusted without asking
    /// the database (default 5; 0 asks every request). A key revoked through another process
    /// keeps working here for up to this long.
    pub api_key_cache_secs: u32,
    /// `TOTE_REQUEST_TIMEOUT_SECS`: longest a handler may take before the caller gets a 503.
    pub request_timeout_secs: u64,
    /// `TOTE_WORKER_METRICS_ADDR`: where `tote worker` serves `/metrics` and `/health`
    /// (default `0.0.0.0:9091`; port 0 picks a free port).
    pub worker_metrics_addr: SocketAddr,
    /// `TOTE_SMTP_URL`: SMTP server for customer notifications, in lettre's URL form
    /// (`smtp://user:pass@host:587?tls=required`). Unset: messages are written as `.eml` files.
    pub smtp_url: Option<Secret>,
    /// `TOTE_MAIL_FROM`: the From of customer notifications.
    pub mail_from: String,
    /// `TOTE_MAIL_DIR`: where the file notifier writes messages when `TOTE_SMTP_URL` is unset.
    pub mail_dir: std::path::PathBuf,
    /// `TOTE_EASYPOST_API_KEY`: buy labels through EasyPost (rate-shopped against the tenant's
    /// own rate table). Unset: only the tenant's rate table ships.
    pub easypost_api_key: Option<Secret>,
    /// `TOTE_EASYPOST_URL`: the EasyPost API (default `https://api.easypost.com`).
    pub easypost_url: String,
    /// `TOTE_PUBLIC_URL`: where customers reach this API, for tracking links
    /// (default `http://localhost:8080`).
    pub public_url: String,
    /// `TOTE_TRACKING_POLL_SECS`: how often parcels bought through EasyPost are tracked
    /// (default 900).
    pub tracking_poll_secs: u64,
    /// `TOTE_QUOTES_PER_MINUTE`: public shipping quotes per IP per minute (default 20).
    pub quotes_per_minute: u32,
}

pub const DEFAULT_MAIL_FROM: &str = "Tote <noreply@localhost>";
pub const DEFAULT_MAIL_DIR: &str = "data/mail";
pub const DEFAULT_EASYPOST_URL: &str = "https://api.easypost.com";

/// `TOTE_DATABASE_MAX_CONNECTIONS` when unset: four per CPU core, as deadpool sizes its own
/// pools. More connections than the cores can serve only queue inside PostgreSQL, where each
/// waiting backend costs a process switch; in the pool they wait for nothing. On a 2-core
/// machine 8 connections had the same throughput as 16 and a far shorter tail (ADR 025).
pub fn default_database_max_connections() -> u32 {
    u32::try_from(cores().saturating_mul(4)).unwrap_or(u32::MAX)
}

/// The CPU cores this process may use (1 if the OS cannot tell).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The background work's own pool: the relay's claim and one consumer's transaction at a
/// time, so a burst of events takes at most two backends from the requests (ADR 026).
pub const DEFAULT_BACKGROUND_CONNECTIONS: u32 = 2;

/// Two HTTP workers per core. Each worker is one thread serving many connections, while the
/// database serves each connection with a process of its own; where both share the cores, the
/// scheduler's fairness per thread would give a two-thread app too small a share (ADR 020).
pub fn default_http_workers() -> NonZeroUsize {
    NonZeroUsize::new(cores().saturating_mul(2)).unwrap_or(NonZeroUsize::MIN)
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tote.db?mode=rwc";

#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name} = {value:?} is not valid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        fn parse<T: std::str::FromStr>(
            name: &'static str,
            raw: Option<String>,
            default: T,
        ) -> Result<T, ConfigError>
        where
            T::Err: fmt::Display,
        {
            match raw.filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(value) => value.trim().parse().map_err(|e: T::Err| ConfigError {
                    name,
                    reason: e.to_string(),
                    value,
                }),
            }
        }
        let log_format = match lookup("TOTE_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("") | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    name: "TOTE_LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "use `pretty` or `json`".into(),
                });
            }
        };
        Ok(Self {
            http_addr: parse(
                "TOTE_HTTP_ADDR",
                lookup("TOTE_HTTP_ADDR"),
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            database_url: Secret::new(
                lookup("DATABASE_URL")
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            database_max_connections: parse(
                "TOTE_DATABASE_MAX_CONNECTIONS",
                lookup("TOTE_DATABASE_MAX_CONNECTIONS"),
                default_database_max_connections(),
            )?,
            database_background_connections: parse(
                "TOTE_DATABASE_BACKGROUND_CONNECTIONS",
                lookup("TOTE_DATABASE_BACKGROUND_CONNECTIONS"),
                DEFAULT_BACKGROUND_CONNECTIONS,
            )?,
            http_workers: parse(
                "TOTE_HTTP_WORKERS",
                lookup("TOTE_HTTP_WORKERS"),
                default_http_workers(),
            )?,
            amqp_url: lookup("AMQP_URL")
                .filter(|v| !v.trim().is_empty())
                .map(Secret::new),
            log_format,
            max_body_bytes: parse(
                "TOTE_MAX_BODY_BYTES",
                lookup("TOTE_MAX_BODY_BYTES"),
                256 * 1024,
            )?,
            outbox_poll_ms: parse("TOTE_OUTBOX_POLL_MS", lookup("TOTE_OUTBOX_POLL_MS"), 250)?,
            admin_token: match lookup("TOTE_ADMIN_TOKEN").filter(|v| !v.trim().is_empty()) {
                Some(token) if token.trim().len() < 32 => {
                    return Err(ConfigError {
                        name: "TOTE_ADMIN_TOKEN",
                        value: "(hidden)".into(),
                        reason: "use at least 32 random characters, e.g. `openssl rand -hex 32`"
                            .into(),
                    });
                }
                token => token.map(|t| Secret::new(t.trim())),
            },
            webhook_allow_private: parse(
                "TOTE_WEBHOOK_ALLOW_PRIVATE",
                lookup("TOTE_WEBHOOK_ALLOW_PRIVATE"),
                false,
            )?,
            jwt_keys: lookup("TOTE_JWT_KEYS").filter(|v| !v.trim().is_empty()),
            tenant_rate_per_minute: parse(
                "TOTE_TENANT_RATE_PER_MINUTE",
                lookup("TOTE_TENANT_RATE_PER_MINUTE"),
                6000,
            )?,
            login_attempts_per_minute: parse(
                "TOTE_LOGIN_ATTEMPTS_PER_MINUTE",
                lookup("TOTE_LOGIN_ATTEMPTS_PER_MINUTE"),
                5,
            )?,
            api_key_cache_secs: parse(
                "TOTE_API_KEY_CACHE_SECS",
                lookup("TOTE_API_KEY_CACHE_SECS"),
                5,
            )?,
            request_timeout_secs: parse(
                "TOTE_REQUEST_TIMEOUT_SECS",
                lookup("TOTE_REQUEST_TIMEOUT_SECS"),
                30,
            )?,
            worker_metrics_addr: parse(
                "TOTE_WORKER_METRICS_ADDR",
                lookup("TOTE_WORKER_METRICS_ADDR"),
                SocketAddr::from(([0, 0, 0, 0], 9091)),
            )?,
            smtp_url: lookup("TOTE_SMTP_URL")
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret::new(v.trim())),
            mail_from: lookup("TOTE_MAIL_FROM")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            mail_dir: lookup("TOTE_MAIL_DIR")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_MAIL_DIR.to_owned())
                .into(),
            easypost_api_key: lookup("TOTE_EASYPOST_API_KEY")
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret::new(v.trim())),
            easypost_url: lookup("TOTE_EASYPOST_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_EASYPOST_URL.to_owned()),
            public_url: lookup("TOTE_PUBLIC_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "http://localhost:8080".to_owned()),
            tracking_poll_secs: parse(
                "TOTE_TRACKING_POLL_SECS",
                lookup("TOTE_TRACKING_POLL_SECS"),
                900,
            )?,
            quotes_per_minute: parse(
                "TOTE_QUOTES_PER_MINUTE",
                lookup("TOTE_QUOTES_PER_MINUTE"),
                20,
            )?,
        })
    }

    /// Where customer notifications go.
    pub fn mail_config(&self) -> notify::MailConfig {
        notify::MailConfig {
            smtp_url: self.smtp_url.as_ref().map(|s| s.expose().to_owned()),
            from: self.mail_from.clone(),
            mail_dir: self.mail_dir.clone(),
        }
    }

    /// Where the database is, safe to log: the scheme and path or host, never a password.
    pub fn database_label(&self) -> String {
        let url = self.database_url.expose();
        match url.split_once("://") {
            Some(("sqlite", rest)) => {
                format!("sqlite {}", rest.split('?').next().unwrap_or(rest))
            }
            Some((scheme, rest)) => {
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                format!("{scheme} {}", host.split('?').next().unwrap_or(host))
            }
            None => url.split(':').next().unwrap_or("database").to_owned(),
        }
    }

    /// The SQLite file's folder, to create before connecting.
    pub fn sqlite_dir(&self) -> Option<std::path::PathBuf> {
        let rest = self.database_url.expose().strip_prefix("sqlite://")?;
        let path = std::path::Path::new(rest.split('?').next()?);
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn with_nothing_set_tote_runs_embedded_on_localhost_8080() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url.expose(), DEFAULT_DATABASE_URL);
        assert!(s.amqp_url.is_none());
        assert_eq!(s.sqlite_dir().unwrap(), std::path::PathBuf::from("data"));
    }

    #[test]
    fn security_limits_default_to_five_logins_and_six_thousand_requests_a_minute() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            (
                s.login_attempts_per_minute,
                s.tenant_rate_per_minute,
                s.request_timeout_secs
            ),
            (5, 6000, 30)
        );
        assert!(s.jwt_keys.is_none());
        let err = settings(&[("TOTE_TENANT_RATE_PER_MINUTE", "lots")]).unwrap_err();
        assert!(err.to_string().contains("TOTE_TENANT_RATE_PER_MINUTE"));
    }

    #[test]
    fn the_database_pool_defaults_to_four_connections_per_core() {
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(settings(&[]).unwrap().database_max_connections, 4 * cores);
        let s = settings(&[("TOTE_DATABASE_MAX_CONNECTIONS", "24")]).unwrap();
        assert_eq!(s.database_max_connections, 24);
    }

    #[test]
    fn background_work_has_a_pool_of_two_unless_told_otherwise() {
        assert_eq!(settings(&[]).unwrap().database_background_connections, 2);
        let s = settings(&[("TOTE_DATABASE_BACKGROUND_CONNECTIONS", "0")]).unwrap();
        assert_eq!(s.database_background_connections, 0);
        let err = settings(&[("TOTE_DATABASE_BACKGROUND_CONNECTIONS", "two")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("TOTE_DATABASE_BACKGROUND_CONNECTIONS")
        );
    }

    #[test]
    fn http_workers_default_to_two_per_core_and_zero_is_refused() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(settings(&[]).unwrap().http_workers.get(), 2 * cores);
        let s = settings(&[("TOTE_HTTP_WORKERS", "3")]).unwrap();
        assert_eq!(s.http_workers.get(), 3);
        let err = settings(&[("TOTE_HTTP_WORKERS", "0")]).unwrap_err();
        assert!(err.to_string().contains("TOTE_HTTP_WORKERS"));
    }

    #[test]
    fn without_an_smtp_url_notifications_go_to_files_under_data_mail() {
        let s = settings(&[]).unwrap();
        assert!(s.smtp_url.is_none());
        assert_eq!(s.mail_dir, std::path::PathBuf::from("data/mail"));
        assert_eq!(s.mail_from, DEFAULT_MAIL_FROM);
        let s = settings(&[
            (
                "TOTE_SMTP_URL",
                "smtp://u:hunter2@mail.example:587?tls=required",
            ),
            ("TOTE_MAIL_FROM", "Shop <shop@example.com>"),
        ])
        .unwrap();
        assert_eq!(
            s.mail_config().smtp_url.as_deref(),
            Some("smtp://u:hunter2@mail.example:587?tls=required")
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_address_names_the_variable() {
        let err = settings(&[("TOTE_HTTP_ADDR", "localhost")]).unwrap_err();
        assert!(err.to_string().contains("TOTE_HTTP_ADDR"));
    }

    #[test]
    fn the_database_label_never_shows_a_password() {
        let s = settings(&[("DATABASE_URL", "postgres://tote:hunter2@db:5432/tote")]).unwrap();
        assert_eq!(s.database_label(), "postgres db:5432/tote");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
