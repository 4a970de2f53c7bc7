//! `roster serve` configuration: defaults < TOML file (`--config`) < environment
//! (`ROSTER_*`) < command-line flags. [`DEFAULT_CONFIG`] is the commented example
//! `roster default-config` prints.

use std::net::SocketAddr;

use serde::Deserialize;

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The directory database (a file path, a sqlite: URL or a postgres:// URL).
    pub db: String,
    /// Log filter (error, warn, info, debug, or a tracing filter).
    pub log: String,
    /// How browsers reach this server (scheme, host, port, no trailing slash): the
    /// OAuth redirect URI is `{public_url}/api/v1/integrations/justworks/callback`.
    /// Default: `http://{listen}`.
    pub public_url: String,
    /// Mark the session cookie `Secure` (behind HTTPS); it is also `Secure` whenever
    /// `public_url` is https.
    pub secure_cookies: bool,
    /// Web sessions last this many hours.
    pub session_hours: u32,
    /// Largest request body (CSV uploads included), bytes.
    pub body_limit_bytes: usize,
    /// A request (a sync included) is cut after this many seconds.
    pub request_timeout_secs: u64,
    /// Sign-in attempts per email per minute (a burst of this many, then one every
    /// 60/n seconds).
    pub login_attempts_per_minute: u32,
    /// Sign-in attempts of all emails together per minute (the same shape).
    pub login_attempts_global_per_minute: u32,
    /// Password hashes (argon2, ~19 MiB each) computed at once; 0: one per core.
    pub password_hashing_concurrency: u32,
    /// A request's header must arrive within this many seconds, counted from when
    /// the server starts waiting for it: from the connection's opening, and on a
    /// kept-alive connection from the previous response (so it is also how long an
    /// idle keep-alive connection stays open).
    pub header_read_timeout_secs: u64,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: u32,
    /// Let integrations reach loopback and private addresses on a shared deployment
    /// (PostgreSQL, or several accounts). An unshared one always may; link-local,
    /// multicast and unspecified addresses are refused whatever this says.
    pub allow_private_source_urls: bool,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Default for ServerConfig {
    fn default() -> Self {
        let listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
        Self {
            listen,
            db: "roster.db".into(),
            log: "info".into(),
            public_url: format!("http://{listen}"),
            secure_cookies: false,
            session_hours: 12,
            body_limit_bytes: 20 * 1024 * 1024,
            request_timeout_secs: 900,
            login_attempts_per_minute: 10,
            login_attempts_global_per_minute: 120,
            password_hashing_concurrency: 0,
            header_read_timeout_secs: 30,
            max_connections: 512,
            allow_private_source_urls: false,
        }
    }
}

/// The commented example configuration.
pub const DEFAULT_CONFIG: &str = r#"# roster serve configuration (TOML). Every key is optional; the values shown are
# the defaults. Precedence: these defaults < this file (--config FILE) < environment
# variables (ROSTER_LISTEN, ROSTER_DB, …, named after the keys) < command-line flags.
# Secrets do not belong here: the credentials key is ROSTER_SECRET_KEY (or the
# <db>.key file beside a SQLite database).

# Address to listen on (ROSTER_LISTEN, --listen).
listen = "127.0.0.1:8080"

# The directory database: a file path, sqlite:PATH, or postgres://… (ROSTER_DB, --db).
db = "roster.db"

# Log filter: error, warn, info, debug (ROSTER_LOG, --log). Logs carry ids, never
# names or emails.
log = "info"

# How browsers reach this server; the Justworks OAuth redirect URI is
# {public_url}/api/v1/integrations/justworks/callback (ROSTER_PUBLIC_URL).
# Default: http://{listen}
# public_url = "https://roster.example.com"

# Mark the session cookie Secure; set when served over HTTPS (ROSTER_SECURE_COOKIES).
# An https public_url marks it Secure without this.
secure_cookies = false

# Web sessions last this many hours (ROSTER_SESSION_HOURS).
session_hours = 12

# Largest request body in bytes, CSV uploads included (ROSTER_BODY_LIMIT_BYTES).
body_limit_bytes = 20971520

# A request, a sync included, is cut after this many seconds (ROSTER_REQUEST_TIMEOUT_SECS).
request_timeout_secs = 900

# Sign-in attempts per email per minute: this many at once, then one every 60/n
# seconds; more are answered 429 (ROSTER_LOGIN_ATTEMPTS_PER_MINUTE).
login_attempts_per_minute = 10

# Sign-in attempts of all emails together per minute, the same shape: distinct
# emails cannot get round the limit above (ROSTER_LOGIN_ATTEMPTS_GLOBAL_PER_MINUTE).
login_attempts_global_per_minute = 120

# Password checks (argon2, ~19 MiB and a core each) run at once; 0 = one per core.
# A sign-in waits up to 2 s for its turn, then gets 429 with Retry-After
# (ROSTER_PASSWORD_HASHING_CONCURRENCY).
password_hashing_concurrency = 0

# A request's header must arrive within this many seconds of the server starting to
# wait for it: from the connection's opening, or on a kept-alive connection from the
# previous response, so it is also the idle keep-alive timeout. Slow or stalled
# clients are disconnected (ROSTER_HEADER_READ_TIMEOUT_SECS, --header-read-timeout).
header_read_timeout_secs = 30

# Connections served at once; more wait in the listen queue until one closes
# (ROSTER_MAX_CONNECTIONS, --max-connections).
max_connections = 512

# Integrations of a shared deployment (PostgreSQL, or several accounts) may not reach
# loopback or private addresses (127.0.0.0/8, 10/8, 172.16/12, 192.168/16, …): an
# account admin could otherwise point a base URL into your network. Set true when a
# source really lives there (ROSTER_ALLOW_PRIVATE_SOURCE_URLS,
# --allow-private-source-urls). Link-local and cloud metadata addresses are refused
# always; a single-account SQLite directory allows private ones.
allow_private_source_urls = false
"#;

/// Values from one layer; `None` leaves the layer below.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub listen: Option<String>,
    pub db: Option<String>,
    pub log: Option<String>,
    pub public_url: Option<String>,
    pub secure_cookies: Option<bool>,
    pub session_hours: Option<u32>,
    pub body_limit_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub login_attempts_per_minute: Option<u32>,
    pub login_attempts_global_per_minute: Option<u32>,
    pub password_hashing_concurrency: Option<u32>,
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<u32>,
    pub allow_private_source_urls: Option<bool>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("the configuration file is not valid TOML: {0}")]
    Toml(String),
    #[error("{source_name}: {key} = {value:?} is not valid: {why}")]
    Value {
        source_name: &'static str,
        key: &'static str,
        value: String,
        why: String,
    },
}

impl Layer {
    /// A TOML file's layer.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.message().to_string()))
    }

    /// The environment's layer, read through `var` (`ROSTER_LISTEN` …).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let parse = |key: &'static str, name: &str| -> Result<Option<String>, ConfigError> {
            let _ = key;
            Ok(var(name).filter(|v| !v.trim().is_empty()))
        };
        let num = |key: &'static str, name: &str| -> Result<Option<u64>, ConfigError> {
            match var(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ConfigError::Value {
                    source_name: "environment",
                    key,
                    value: v,
                    why: "not a whole number".into(),
                }),
            }
        };
        let boolean = |key: &'static str, name: &str| -> Result<Option<bool>, ConfigError> {
            match var(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => Ok(Some(true)),
                    "0" | "false" | "no" | "off" => Ok(Some(false)),
                    _ => Err(ConfigError::Value {
                        source_name: "environment",
                        key,
                        value: v,
                        why: "not true or false".into(),
                    }),
                },
            }
        };
        let secure = boolean("secure_cookies", "ROSTER_SECURE_COOKIES")?;
        let to_u32 = |key: &'static str, v: Option<u64>| -> Result<Option<u32>, ConfigError> {
            v.map(|n| {
                u32::try_from(n).map_err(|_| ConfigError::Value {
                    source_name: "environment",
                    key,
                    value: n.to_string(),
                    why: "too large".into(),
                })
            })
            .transpose()
        };
        Ok(Self {
            listen: parse("listen", "ROSTER_LISTEN")?,
            db: parse("db", "ROSTER_DB")?,
            log: parse("log", "ROSTER_LOG")?,
            public_url: parse("public_url", "ROSTER_PUBLIC_URL")?,
            secure_cookies: secure,
            session_hours: to_u32(
                "session_hours",
                num("session_hours", "ROSTER_SESSION_HOURS")?,
            )?,
            body_limit_bytes: num("body_limit_bytes", "ROSTER_BODY_LIMIT_BYTES")?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            request_timeout_secs: num("request_timeout_secs", "ROSTER_REQUEST_TIMEOUT_SECS")?,
            login_attempts_per_minute: to_u32(
                "login_attempts_per_minute",
                num(
                    "login_attempts_per_minute",
                    "ROSTER_LOGIN_ATTEMPTS_PER_MINUTE",
                )?,
            )?,
            login_attempts_global_per_minute: to_u32(
                "login_attempts_global_per_minute",
                num(
                    "login_attempts_global_per_minute",
                    "ROSTER_LOGIN_ATTEMPTS_GLOBAL_PER_MINUTE",
                )?,
            )?,
            password_hashing_concurrency: to_u32(
                "password_hashing_concurrency",
                num(
                    "password_hashing_concurrency",
                    "ROSTER_PASSWORD_HASHING_CONCURRENCY",
                )?,
            )?,
            header_read_timeout_secs: num(
                "header_read_timeout_secs",
                "ROSTER_HEADER_READ_TIMEOUT_SECS",
            )?,
            max_connections: to_u32(
                "max_connections",
                num("max_connections", "ROSTER_MAX_CONNECTIONS")?,
            )?,
            allow_private_source_urls: boolean(
                "allow_private_source_urls",
                "ROSTER_ALLOW_PRIVATE_SOURCE_URLS",
            )?,
        })
    }
}

impl ServerConfig {
    /// Defaults, then each layer in order (later wins).
    pub fn resolve(layers: &[(&'static str, Layer)]) -> Result<Self, ConfigError> {
        let mut c = ServerConfig::default();
        let mut public_url = None;
        for (source_name, l) in layers {
            if let Some(v) = &l.listen {
                c.listen = v.trim().parse().map_err(|_| ConfigError::Value {
                    source_name,
                    key: "listen",
                    value: v.clone(),
                    why: "not an address like 127.0.0.1:8080".into(),
                })?;
            }
            if let Some(v) = &l.db {
                c.db = v.clone();
            }
            if let Some(v) = &l.log {
                c.log = v.clone();
            }
            if let Some(v) = &l.public_url {
                let u = url::Url::parse(v.trim()).map_err(|e| ConfigError::Value {
                    source_name,
                    key: "public_url",
                    value: v.clone(),
                    why: e.to_string(),
                })?;
                if !matches!(u.scheme(), "http" | "https") {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "public_url",
                        value: v.clone(),
                        why: "must be http or https".into(),
                    });
                }
                public_url = Some(v.trim().trim_end_matches('/').to_string());
            }
            if let Some(v) = l.secure_cookies {
                c.secure_cookies = v;
            }
            if let Some(v) = l.session_hours {
                if v == 0 {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "session_hours",
                        value: v.to_string(),
                        why: "must be at least 1".into(),
                    });
                }
                c.session_hours = v;
            }
            if let Some(v) = l.body_limit_bytes {
                c.body_limit_bytes = v;
            }
            if let Some(v) = l.request_timeout_secs {
                c.request_timeout_secs = v.max(1);
            }
            if let Some(v) = l.login_attempts_per_minute {
                if v == 0 {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "login_attempts_per_minute",
                        value: v.to_string(),
                        why: "must be at least 1".into(),
                    });
                }
                c.login_attempts_per_minute = v;
            }
            if let Some(v) = l.login_attempts_global_per_minute {
                if v == 0 {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "login_attempts_global_per_minute",
                        value: v.to_string(),
                        why: "must be at least 1".into(),
                    });
                }
                c.login_attempts_global_per_minute = v;
            }
            if let Some(v) = l.password_hashing_concurrency {
                c.password_hashing_concurrency = v;
            }
            if let Some(v) = l.header_read_timeout_secs {
                if v == 0 {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "header_read_timeout_secs",
                        value: v.to_string(),
                        why: "must be at least 1".into(),
                    });
                }
                c.header_read_timeout_secs = v;
            }
            if let Some(v) = l.max_connections {
                if v == 0 {
                    return Err(ConfigError::Value {
                        source_name,
                        key: "max_connections",
                        value: v.to_string(),
                        why: "must be at least 1".into(),
                    });
                }
                c.max_connections = v;
            }
            if let Some(v) = l.allow_private_source_urls {
                c.allow_private_source_urls = v;
            }
        }
        c.public_url = public_url.unwrap_or_else(|| format!("http://{}", c.listen));
        Ok(c)
    }

    /// The OAuth redirect URI Justworks sends the browser back to.
    pub fn oauth_redirect_uri(&self) -> String {
        format!("{}/api/v1/integrations/justworks/callback", self.public_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_defaults() {
        let l = Layer::from_toml(DEFAULT_CONFIG).expect("example parses");
        let c = ServerConfig::resolve(&[("file", l)]).expect("resolves");
        assert_eq!(c, ServerConfig::default());
    }

    #[test]
    fn later_layers_win() {
        let file = Layer::from_toml("listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n").unwrap();
        let env = Layer::from_env(|k| match k {
            "ROSTER_LOG" => Some("warn".into()),
            "ROSTER_SESSION_HOURS" => Some("2".into()),
            _ => None,
        })
        .unwrap();
        let flags = Layer {
            listen: Some("0.0.0.0:7000".into()),
            ..Layer::default()
        };
        let c = ServerConfig::resolve(&[("file", file), ("environment", env), ("flags", flags)])
            .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(c.log, "warn");
        assert_eq!(c.session_hours, 2);
        assert_eq!(c.public_url, "http://0.0.0.0:7000");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Layer::from_toml("listne = 1").unwrap_err();
        assert!(e.to_string().contains("listne"), "{e}");
        let e = ServerConfig::resolve(&[(
            "flags",
            Layer {
                listen: Some("nope".into()),
                ..Layer::default()
            },
        )])
        .unwrap_err();
        assert!(e.to_string().contains("listen"), "{e}");
        let e = Layer::from_env(|k| (k == "ROSTER_SESSION_HOURS").then(|| "x".into())).unwrap_err();
        assert!(e.to_string().contains("session_hours"), "{e}");
        let e = ServerConfig::resolve(&[(
            "environment",
            Layer::from_env(|k| (k == "ROSTER_LOGIN_ATTEMPTS_PER_MINUTE").then(|| "0".into()))
                .unwrap(),
        )])
        .unwrap_err();
        assert!(e.to_string().contains("login_attempts_per_minute"), "{e}");
        let c = ServerConfig::resolve(&[(
            "file",
            Layer::from_toml("login_attempts_per_minute = 3").unwrap(),
        )])
        .unwrap();
        assert_eq!(c.login_attempts_per_minute, 3);
    }
}
