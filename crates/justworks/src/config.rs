//! Connector settings.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// Production API host.
pub const DEFAULT_BASE_URL: &str = "https://public-api.justworks.com";
/// Consent page host used by maintained OAuth provider configs (API.md §2.1).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://payroll.justworks.com/oauth/authorize";

/// The scopes Roster asks for: everything a directory sync reads, nothing more.
/// `member.detail:read` implies `member.basic:read`, `company.detail:read` implies
/// `company.basic:read`. `member.sex:read` is not among them: no mapping uses sex
/// by default; a connection that maps it asks for it (`--scopes`, API `scopes`).
pub const DEFAULT_SCOPES: &[&str] = &[
    "member.detail:read",
    "member.dob:read",
    "member.employment:read",
    "company.detail:read",
];

/// Settings of one Justworks connection.
#[derive(Clone, Debug)]
pub struct JustworksConfig {
    /// API host, e.g. `https://public-api.justworks.com` or a sandbox.
    pub base_url: Url,
    /// Browser consent page.
    pub authorize_url: Url,
    /// Token endpoint; `None` means `{base_url}/oauth/token`.
    pub token_url: Option<Url>,
    /// Revocation endpoint; `None` means `{base_url}/v1/oauth/revoke`.
    pub revoke_url: Option<Url>,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where the consent page sends the browser back (registered with Justworks).
    pub redirect_uri: Option<Url>,
    /// Scopes asked for on the consent page.
    pub scopes: Vec<String>,
    /// `limit` of each list request (1..=100).
    pub page_limit: u32,
    /// Ceiling on pages per listing; more ends the fetch with a pagination error.
    pub max_pages: u32,
    /// Client-side rate limit in requests per second (none when `None`).
    pub requests_per_second: Option<u32>,
    /// Retries per request after the first attempt (5xx, timeouts, connection errors,
    /// malformed bodies). 429 answers have their own budget of four times this.
    pub max_retries: u32,
    /// First backoff delay; it doubles per retry, with jitter.
    pub retry_base_delay: Duration,
    /// Longest backoff delay (a server's `Retry-After` is obeyed as sent).
    pub retry_max_delay: Duration,
    /// Concurrent per-member requests (custom-field values, managers).
    pub per_member_concurrency: usize,
    /// Whole-request timeout (connect, send, read body).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Refresh an OAuth access token when less than this remains (capped at half of
    /// the token's lifetime when that is known).
    pub refresh_margin: Duration,
    /// List `status=active` and `status=terminated` separately instead of one listing
    /// without `status`. A hedge in case the real API lists only active members by
    /// default (API.md §13, question 3).
    pub split_by_status: bool,
    /// Which addresses requests may reach (link-local, multicast and unspecified
    /// ones never; loopback and private ones as the policy says).
    pub url_policy: crate::address::UrlPolicy,
}

impl Default for JustworksConfig {
    fn default() -> Self {
        Self {
            base_url: Url::parse(DEFAULT_BASE_URL).expect("constant URL"),
            authorize_url: Url::parse(DEFAULT_AUTHORIZE_URL).expect("constant URL"),
            token_url: None,
            revoke_url: None,
            client_id: String::new(),
            client_secret: SecretString::from(String::new()),
            redirect_uri: None,
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            page_limit: 100,
            max_pages: 100_000,
            requests_per_second: None,
            max_retries: 5,
            retry_base_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(30),
            per_member_concurrency: 8,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            refresh_margin: Duration::from_secs(5 * 60),
            split_by_status: false,
            url_policy: crate::address::UrlPolicy::default(),
        }
    }
}

impl JustworksConfig {
    /// Defaults pointed at another API host (a sandbox): the authorize and token
    /// endpoints move with it. The production host keeps the production consent page.
    pub fn with_base_url(base_url: Url) -> Self {
        let authorize_url = if base_url.as_str().trim_end_matches('/') == DEFAULT_BASE_URL {
            Url::parse(DEFAULT_AUTHORIZE_URL).expect("constant URL")
        } else {
            join(&base_url, "oauth/authorize")
        };
        Self {
            authorize_url,
            base_url,
            ..Self::default()
        }
    }

    /// The token endpoint in use.
    pub fn token_endpoint(&self) -> Url {
        self.token_url
            .clone()
            .unwrap_or_else(|| join(&self.base_url, "oauth/token"))
    }

    /// The revocation endpoint in use.
    pub fn revoke_endpoint(&self) -> Url {
        self.revoke_url
            .clone()
            .unwrap_or_else(|| join(&self.base_url, "v1/oauth/revoke"))
    }

    /// `{base_url}/{path}` whatever the base's trailing slash.
    pub(crate) fn api_url(&self, path: &str) -> Url {
        join(&self.base_url, path)
    }
}

fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_base_url() {
        let config = JustworksConfig::default();
        assert_eq!(
            config.token_endpoint().as_str(),
            "https://public-api.justworks.com/oauth/token"
        );
        assert_eq!(
            config.revoke_endpoint().as_str(),
            "https://public-api.justworks.com/v1/oauth/revoke"
        );
        assert_eq!(config.authorize_url.as_str(), DEFAULT_AUTHORIZE_URL);
        let production = JustworksConfig::with_base_url(DEFAULT_BASE_URL.parse().unwrap());
        assert_eq!(production.authorize_url.as_str(), DEFAULT_AUTHORIZE_URL);

        let sandbox = JustworksConfig::with_base_url("http://127.0.0.1:9/prefix/".parse().unwrap());
        assert_eq!(
            sandbox.token_endpoint().as_str(),
            "http://127.0.0.1:9/prefix/oauth/token"
        );
        assert_eq!(
            sandbox.authorize_url.as_str(),
            "http://127.0.0.1:9/prefix/oauth/authorize"
        );
        assert_eq!(
            sandbox.api_url("/v1/members").as_str(),
            "http://127.0.0.1:9/prefix/v1/members"
        );
    }
}
