//! Start-up configuration and the fault switches.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How a sandbox is built: which company it serves and how its OAuth client is set up.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Seed for the generated company (ignored when `fixture` is set).
    pub seed: u64,
    /// Number of generated members (ignored when `fixture` is set).
    pub members: usize,
    /// The sandbox's "today": drives generated dates and which terminations are in the past.
    pub today: Date,
    /// Load the company from this JSON fixture instead of generating one.
    pub fixture: Option<PathBuf>,
    /// Display name of the generated company; `None` picks one from the seed.
    pub company_name: Option<String>,
    /// The one registered OAuth client.
    pub client_id: String,
    /// Its secret (checked in the token and revoke form bodies, or HTTP Basic).
    pub client_secret: String,
    /// Allowed `redirect_uri`s; empty allows any absolute http(s) URL.
    pub redirect_uris: Vec<String>,
    /// Lifetime of access tokens (Justworks: 24 h).
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens (Justworks: 30 days).
    pub refresh_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
    /// Faults switched on from the start.
    pub faults: Faults,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 7,
            members: 250,
            today: jiff::Zoned::now().date(),
            fixture: None,
            company_name: None,
            client_id: "roster-sandbox-client".to_owned(),
            client_secret: "roster-sandbox-secret".to_owned(),
            redirect_uris: Vec::new(),
            access_ttl: Duration::from_secs(24 * 60 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            code_ttl: Duration::from_secs(120),
            faults: Faults::default(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("seed", &self.seed)
            .field("members", &self.members)
            .field("today", &self.today)
            .field("fixture", &self.fixture)
            .field("company_name", &self.company_name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uris", &self.redirect_uris)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("code_ttl", &self.code_ttl)
            .field("faults", &self.faults)
            .finish()
    }
}

/// Misbehaviour the sandbox can be told to show. All off by default.
///
/// On the wire (control API and config files) `latency` is `latency_ms`, and
/// `truncated_page_rate` is also accepted as `malformed_page_rate`. Missing fields take
/// their default (off).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// At most this many `/v1` API requests per second; more get 429 with `Retry-After`.
    pub rate_limit_per_sec: Option<u32>,
    /// Fraction (0..=1) of `/v1` API requests answered 500, 502 or 503.
    pub error_rate: f64,
    /// Delay added before every `/v1` API response.
    #[serde(rename = "latency_ms", with = "duration_ms")]
    pub latency: Duration,
    /// Access tokens stop working about one second after they were issued.
    pub early_token_expiry: bool,
    /// Fraction (0..=1) of `GET /v1/members` pages cut short, so the body is not valid JSON.
    #[serde(alias = "malformed_page_rate")]
    pub truncated_page_rate: f64,
    /// Every page after the first starts with the last member of the previous page.
    pub duplicate_across_pages: bool,
    /// Fetching page 2 of a listing hires a new member first (created now, so it sorts last).
    pub insert_while_paging: bool,
}

impl Faults {
    /// Checks the fractions are within 0..=1 and the rate limit is not zero.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("error_rate", self.error_rate),
            ("truncated_page_rate", self.truncated_page_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        if self.rate_limit_per_sec == Some(0) {
            return Err("rate_limit_per_sec must be at least 1 (or absent)".to_owned());
        }
        Ok(())
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_wire_names() {
        let f: Faults = serde_json::from_str(
            r#"{"latency_ms": 25, "malformed_page_rate": 0.5, "rate_limit_per_sec": 3}"#,
        )
        .unwrap();
        assert_eq!(f.latency, Duration::from_millis(25));
        assert_eq!(f.truncated_page_rate, 0.5);
        assert_eq!(f.rate_limit_per_sec, Some(3));
        assert!(!f.insert_while_paging);
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["latency_ms"], 25);
        assert!(serde_json::from_str::<Faults>(r#"{"latency": 1}"#).is_err());
    }

    #[test]
    fn faults_validation() {
        let bad = Faults {
            error_rate: 1.5,
            ..Faults::default()
        };
        assert!(bad.validate().unwrap_err().contains("error_rate"));
        assert!(Faults::default().validate().is_ok());
    }

    #[test]
    fn debug_redacts_secret() {
        let c = SandboxConfig::default();
        let text = format!("{c:?}");
        assert!(!text.contains("roster-sandbox-secret"));
        assert!(text.contains("roster-sandbox-client"));
    }
}
