//! Settings, read from the environment (a `.env` file is loaded first by the
//! binary when present).

use crate::domain::Timezone;
use crate::logging::LogFormat;
use std::net::SocketAddr;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL connection URL of the registry database.
    pub database_url: String,
    /// PostgreSQL connection URL of a streaming replica of that database
    /// (optional): reads that tolerate lag go there (see `db::replica`).
    pub database_replica_url: Option<String>,
    /// Address the HTTP server listens on; port 0 picks a free port.
    pub bind_addr: SocketAddr,
    /// Largest number of pooled database connections.
    pub db_pool_size: u32,
    /// How long a request waits for a pooled connection before it gets a 503.
    pub db_connect_timeout: Duration,
    /// Largest accepted request body, in bytes; larger bodies get a 413.
    pub max_body_bytes: usize,
    /// Largest accepted import body (`POST /v1/imports`), in bytes.
    pub import_max_body_bytes: usize,
    /// Number of HTTP worker threads.
    pub http_workers: usize,
    /// Origins browsers may call the API from (CORS); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Requests a minute each API key may make on this instance; 0 (the
    /// default) turns rate limiting off.
    pub rate_limit_per_minute: u32,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_ttl: chrono::Duration,
    /// How long a change-feed cursor stays valid.
    pub feed_retention: chrono::Duration,
    /// Longest a change-feed request waits for changes that committed
    /// before it to settle (see `api::changes`) before it answers with the
    /// settled ones.
    pub feed_settle_wait: Duration,
    /// Longest a statement may run (lock waits included) before it is
    /// cancelled and the request answered 503 with `Retry-After`.
    pub statement_timeout: Duration,
    /// Key that signs list and feed cursors (`None`: generated once and
    /// kept in the database, shared by every instance).
    pub cursor_secret: Option<Vec<u8>>,
    /// The time zone of events written without one.
    pub default_timezone: Timezone,
    /// How long a server trusts its cached copy of an API key that no
    /// change announcement dropped (0: no cache, every request reads its
    /// key from the database).
    pub key_cache_ttl: Duration,
    /// Address of the metrics server (`GET /metrics`, Prometheus text
    /// format); `None` (the default): no metrics server.
    pub metrics_addr: Option<SocketAddr>,
}

/// A setting that is present but unusable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

impl Settings {
    pub const DEFAULT_DATABASE_URL: &'static str =
        "postgres://postgres@127.0.0.1:5432/alliance_registry";
    pub const DEFAULT_BIND_ADDR: &'static str = "0.0.0.0:8080";
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a variable's value
    /// or `None` when it is unset. Unset variables take their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| Self::DEFAULT_DATABASE_URL.to_owned());
        validate_database_url("DATABASE_URL", &database_url)?;
        let database_replica_url = lookup("DATABASE_REPLICA_URL")
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty());
        if let Some(url) = &database_replica_url {
            validate_database_url("DATABASE_REPLICA_URL", url)?;
        }
        let bind_addr = parse(&lookup, "BIND_ADDR", Self::DEFAULT_BIND_ADDR, |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| "expected IP:PORT, e.g. 0.0.0.0:8080".to_owned())
        })?;
        let db_pool_size = parse(&lookup, "DB_POOL_SIZE", "10", |v| {
            int_in_range(v, 1, 1_000).map(|n| n as u32)
        })?;
        let db_connect_timeout = parse(&lookup, "DB_CONNECT_TIMEOUT_MS", "2000", |v| {
            int_in_range(v, 1, 600_000).map(Duration::from_millis)
        })?;
        let max_body_bytes = parse(&lookup, "MAX_BODY_BYTES", "1048576", |v| {
            int_in_range(v, 1_024, 1 << 30).map(|n| n as usize)
        })?;
        let import_max_body_bytes = parse(&lookup, "IMPORT_MAX_BODY_BYTES", "33554432", |v| {
            int_in_range(v, 1_024, 1 << 34).map(|n| n as usize)
        })?;
        let default_workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .to_string();
        let http_workers = parse(&lookup, "HTTP_WORKERS", &default_workers, |v| {
            int_in_range(v, 1, 1_024).map(|n| n as usize)
        })?;
        let cors_allowed_origins = parse(&lookup, "CORS_ALLOWED_ORIGINS", "", |v| {
            v.split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(|origin| match url::Url::parse(origin) {
                    Ok(url)
                        if matches!(url.scheme(), "http" | "https")
                            && url.path() == "/"
                            && !origin.ends_with('/') =>
                    {
                        Ok(origin.to_owned())
                    }
                    _ => Err(format!(
                        "{origin:?} is not an origin such as https://registry.example.org"
                    )),
                })
                .collect()
        })?;
        let rate_limit_per_minute = parse(&lookup, "RATE_LIMIT_PER_MINUTE", "0", |v| {
            int_in_range(v, 0, 1_000_000).map(|n| n as u32)
        })?;
        let idempotency_ttl = parse(&lookup, "IDEMPOTENCY_TTL_HOURS", "24", |v| {
            int_in_range(v, 1, 24 * 365).map(|h| chrono::Duration::hours(h as i64))
        })?;
        let feed_retention = parse(&lookup, "FEED_RETENTION_HOURS", "720", |v| {
            int_in_range(v, 1, 24 * 3650).map(|h| chrono::Duration::hours(h as i64))
        })?;
        let feed_settle_wait = parse(&lookup, "FEED_SETTLE_WAIT_MS", "2000", |v| {
            int_in_range(v, 0, 60_000).map(Duration::from_millis)
        })?;
        let statement_timeout = parse(&lookup, "STATEMENT_TIMEOUT_MS", "5000", |v| {
            int_in_range(v, 100, 3_600_000).map(Duration::from_millis)
        })?;
        let cursor_secret = parse(&lookup, "CURSOR_SECRET", "", |v| match v {
            "" => Ok(None),
            v if v.len() >= 32 => Ok(Some(v.as_bytes().to_vec())),
            _ => Err("expected at least 32 characters (or unset: one is generated)".to_owned()),
        })?;
        let default_timezone = parse(&lookup, "DEFAULT_TIMEZONE", Timezone::FALLBACK, |v| {
            Timezone::parse(v)
        })?;
        let key_cache_ttl = parse(&lookup, "KEY_CACHE_SECONDS", "10", |v| {
            int_in_range(v, 0, 3_600).map(Duration::from_secs)
        })?;
        let metrics_addr = parse(&lookup, "METRICS_ADDR", "", |v| match v {
            "" => Ok(None),
            v => v
                .parse::<SocketAddr>()
                .map(Some)
                .map_err(|_| "expected IP:PORT, e.g. 127.0.0.1:9187 (or unset: none)".to_owned()),
        })?;
        Ok(Self {
            database_url,
            database_replica_url,
            bind_addr,
            db_pool_size,
            db_connect_timeout,
            max_body_bytes,
            import_max_body_bytes,
            http_workers,
            cors_allowed_origins,
            rate_limit_per_minute,
            idempotency_ttl,
            feed_retention,
            feed_settle_wait,
            statement_timeout,
            cursor_secret,
            default_timezone,
            key_cache_ttl,
            metrics_addr,
        })
    }
}

/// The log format (`LOG_FORMAT`: `text`, the default, or `json`), read
/// apart from [`Settings`]: the logger starts before any command reads
/// its settings.
pub fn log_format(lookup: impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    parse(&lookup, LogFormat::VARIABLE, "text", LogFormat::parse)
}

fn parse<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
    convert: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    let value = lookup(name).unwrap_or_else(|| default.to_owned());
    convert(value.trim()).map_err(|reason| ConfigError {
        name,
        value,
        reason,
    })
}

fn int_in_range(value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

fn validate_database_url(name: &'static str, value: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(value).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(invalid("expected a postgres:// URL"));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(invalid("the URL names no database"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, Settings::DEFAULT_DATABASE_URL);
        assert_eq!(s.database_replica_url, None);
        assert_eq!(s.bind_addr.to_string(), Settings::DEFAULT_BIND_ADDR);
        assert_eq!(s.db_pool_size, Settings::DEFAULT_POOL_SIZE);
        assert_eq!(
            s.db_connect_timeout,
            Duration::from_millis(Settings::DEFAULT_CONNECT_TIMEOUT_MS)
        );
        assert_eq!(s.max_body_bytes, Settings::DEFAULT_MAX_BODY_BYTES);
        assert!(s.cors_allowed_origins.is_empty());
        assert_eq!(s.rate_limit_per_minute, 0);
        assert_eq!(s.key_cache_ttl, Duration::from_secs(10));
        assert_eq!(s.feed_settle_wait, Duration::from_millis(2_000));
        assert_eq!(s.metrics_addr, None);
        let s = settings(&[("METRICS_ADDR", "127.0.0.1:9187")]).unwrap();
        assert_eq!(s.metrics_addr, Some("127.0.0.1:9187".parse().unwrap()));
        assert_eq!(
            settings(&[("METRICS_ADDR", "9187")]).unwrap_err().name,
            "METRICS_ADDR"
        );
        let lookup = |value: &'static str| {
            move |name: &str| (name == "LOG_FORMAT").then(|| value.to_owned())
        };
        assert_eq!(log_format(|_| None).unwrap(), LogFormat::Text);
        assert_eq!(log_format(lookup("json")).unwrap(), LogFormat::Json);
        assert_eq!(log_format(lookup("yaml")).unwrap_err().name, "LOG_FORMAT");
        let s = settings(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://a.example, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            s.cors_allowed_origins,
            ["https://a.example", "http://localhost:3000"]
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("DB_POOL_SIZE", "zero"),
            ("DB_POOL_SIZE", "0"),
            ("DB_CONNECT_TIMEOUT_MS", "-5"),
            ("BIND_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x/y"),
            ("DATABASE_URL", "postgres://host"),
            ("DATABASE_REPLICA_URL", "mysql://x/y"),
            ("DATABASE_REPLICA_URL", "postgres://replica"),
            ("MAX_BODY_BYTES", "12"),
            ("CORS_ALLOWED_ORIGINS", "example.org"),
            ("CORS_ALLOWED_ORIGINS", "https://a.example/path"),
            ("RATE_LIMIT_PER_MINUTE", "-1"),
            ("IDEMPOTENCY_TTL_HOURS", "0"),
            ("FEED_RETENTION_HOURS", "forever"),
            ("FEED_SETTLE_WAIT_MS", "60001"),
            ("STATEMENT_TIMEOUT_MS", "0"),
            ("CURSOR_SECRET", "short"),
            ("KEY_CACHE_SECONDS", "3601"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name);
            assert!(err.to_string().contains(value), "{err}");
        }
    }
}
