//! Credentials, the token store port (in `tokens`, re-exported here), and the OAuth2
//! authorization-code flow.
//!
//! The authorize URL (state + PKCE S256), the code exchange and the refresh grant run
//! through the `oauth2` crate, driven by our own reqwest 0.13 client through
//! [`oauth2::AsyncHttpClient`] (oauth2 5's built-in integration targets reqwest 0.12).
//! Revocation is a plain form post: oauth2 refuses revocation URLs that are not
//! `https`, which rules out a loopback sandbox.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::JustworksConfig;
pub use crate::tokens::{
    Credentials, MemoryTokenStore, TokenSet, TokenStore, TokenStoreError, scope_granted,
};

/// Lifetime assumed when the token response names none (API.md §2.1: 24 h).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The PKCE code verifier to keep between [`OAuthClient::authorize_url`] and
/// [`OAuthClient::exchange_code`]. `Debug` redacts it.
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// Rebuild a verifier kept elsewhere (e.g. across a CLI restart).
    pub fn from_secret(secret: impl Into<String>) -> Self {
        Self(SecretString::from(secret.into()))
    }

    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// Which token a revocation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }
}

/// Why an OAuth step failed. Never carries a token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The grant (code or refresh token) is invalid, expired, revoked or already used:
    /// the connection must be authorised again.
    #[error("the authorization server rejected the grant ({code}); authorise the connection again")]
    InvalidGrant {
        code: String,
        description: Option<String>,
    },
    /// Any other OAuth error answer (`invalid_client`, `invalid_request`, …).
    #[error("the authorization server refused the request ({code})")]
    Rejected {
        code: String,
        description: Option<String>,
    },
    /// The admin pressed Deny on the consent page (`error=access_denied`).
    #[error("access denied on the consent page")]
    AccessDenied,
    /// The redirect carried another OAuth error.
    #[error("the consent page returned an error: {0}")]
    Redirect(String),
    /// The redirect's `state` was not the one we sent.
    #[error("the redirect's state does not match; the authorisation was not started here")]
    StateMismatch,
    #[error("unexpected status {status} from {what}")]
    Status { status: u16, what: &'static str },
    #[error("could not reach the authorization server: {0}")]
    Transport(String),
    #[error("malformed answer from the authorization server: {0}")]
    Malformed(String),
    #[error("OAuth configuration: {0}")]
    Config(String),
    /// The token or revocation endpoint is an address Roster does not connect to.
    #[error("the source address is not allowed: {0}")]
    AddressRefused(String),
    #[error("no refresh token: authorise the connection again")]
    NoRefreshToken,
}

/// Error of the transport adapter for `oauth2`.
#[derive(Debug, thiserror::Error)]
pub enum OAuthTransportError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error(transparent)]
    Http(#[from] oauth2::http::Error),
}

/// Drives `oauth2` requests with a reqwest 0.13 client.
#[derive(Clone, Debug)]
pub struct OAuthHttp(pub reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = OAuthTransportError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = self.0.execute(request).await?;
            let mut builder = oauth2::http::Response::builder().status(response.status());
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok(builder.body(body.to_vec())?)
        })
    }
}

/// Extra fields of Justworks' token answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct JustworksTokenFields {
    #[serde(default)]
    expires_at: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token_expires_at: Option<serde_json::Value>,
}

impl ExtraTokenFields for JustworksTokenFields {}

type JustworksTokenResponse = StandardTokenResponse<JustworksTokenFields, BasicTokenType>;

type Oauth2Client = oauth2::Client<
    BasicErrorResponse,
    JustworksTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The OAuth2 side of a Justworks app: consent URL, code exchange, refresh, revoke.
/// Client credentials travel in the form body (API.md §2.1), not Basic auth.
#[derive(Clone)]
pub struct OAuthClient {
    client: Oauth2Client,
    http: OAuthHttp,
    client_id: String,
    client_secret: SecretString,
    revoke_url: Url,
    scopes: Vec<String>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("revoke_url", &self.revoke_url.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client with its own HTTP connection pool.
    pub fn new(config: &JustworksConfig) -> Result<Self, AuthError> {
        let http = crate::client::build_client(config)
            .map_err(|e| AuthError::Config(format!("HTTP client: {e}")))?;
        Self::with_http(config, http)
    }

    /// A client sharing an existing reqwest client.
    pub fn with_http(config: &JustworksConfig, http: reqwest::Client) -> Result<Self, AuthError> {
        for url in [config.token_endpoint(), config.revoke_endpoint()] {
            crate::address::check_url(&url, config.url_policy)
                .map_err(|e| AuthError::AddressRefused(e.0))?;
        }
        let mut client = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                config.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(config.authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_endpoint()))
            .set_auth_type(AuthType::RequestBody);
        if let Some(redirect) = &config.redirect_uri {
            client = client.set_redirect_uri(RedirectUrl::from_url(redirect.clone()));
        }
        Ok(Self {
            client,
            http: OAuthHttp(http),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            revoke_url: config.revoke_endpoint(),
            scopes: config.scopes.clone(),
        })
    }

    /// The consent-page URL for `state` (see [`new_state`]), with a PKCE S256
    /// challenge when `pkce`. Keep the verifier for [`Self::exchange_code`].
    pub fn authorize_url(&self, state: &str, pkce: bool) -> (Url, Option<PkceVerifier>) {
        let state = state.to_owned();
        let mut request = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.scopes.iter().map(|s| Scope::new(s.clone())));
        let mut verifier = None;
        if pkce {
            let (challenge, secret) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(PkceVerifier::from_secret(secret.into_secret()));
        }
        let (url, _state) = request.url();
        (url, verifier)
    }

    /// Trade an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: Option<PkceVerifier>,
    ) -> Result<TokenSet, AuthError> {
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = verifier {
            request =
                request.set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().to_owned()));
        }
        let response = request
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let tokens = token_set(&response, None);
        tracing::info!(
            scopes = ?tokens.scopes,
            expires_at = ?tokens.expires_at,
            "justworks: authorization code exchanged"
        );
        Ok(tokens)
    }

    /// Use the refresh token for new tokens. A refresh token in the answer replaces
    /// the old one (Justworks rotates them); otherwise the old one is kept.
    pub async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet, AuthError> {
        let refresh = tokens
            .refresh_token
            .as_ref()
            .ok_or(AuthError::NoRefreshToken)?;
        let refresh = RefreshToken::new(refresh.expose_secret().to_owned());
        let response = self
            .client
            .exchange_refresh_token(&refresh)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let new = token_set(&response, Some(tokens));
        tracing::info!(
            rotated = response.refresh_token().is_some(),
            expires_at = ?new.expires_at,
            "justworks: access token refreshed"
        );
        Ok(new)
    }

    /// Revoke an access or refresh token.
    pub async fn revoke(&self, token: &SecretString, kind: TokenKind) -> Result<(), AuthError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("token", token.expose_secret()),
            ("token_type_hint", kind.hint()),
        ];
        let response = self
            .http
            .0
            .post(self.revoke_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(kind = kind.hint(), "justworks: token revoked");
            return Ok(());
        }
        let body = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(err) => Err(classify_oauth_error(err.error, err.error_description)),
            Err(_) => Err(AuthError::Status {
                status: status.as_u16(),
                what: "token revocation",
            }),
        }
    }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// A transport failure, or the address policy's refusal inside it.
fn transport_error(e: &reqwest::Error) -> AuthError {
    match crate::address::refusal_in(e) {
        Some(refused) => AuthError::AddressRefused(refused.0),
        None => AuthError::Transport(crate::client::describe_reqwest(e)),
    }
}

fn classify_oauth_error(code: String, description: Option<String>) -> AuthError {
    if code == "invalid_grant" {
        AuthError::InvalidGrant { code, description }
    } else {
        AuthError::Rejected { code, description }
    }
}

fn token_error(err: RequestTokenError<OAuthTransportError, BasicErrorResponse>) -> AuthError {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = match response.error() {
                BasicErrorResponseType::InvalidGrant => "invalid_grant".to_owned(),
                other => other.to_string(),
            };
            classify_oauth_error(code, response.error_description().cloned())
        }
        RequestTokenError::Request(OAuthTransportError::Reqwest(e)) => transport_error(&e),
        RequestTokenError::Request(OAuthTransportError::Http(e)) => {
            AuthError::Transport(e.to_string())
        }
        // The raw body may hold tokens: report only where parsing failed.
        RequestTokenError::Parse(e, _body) => {
            AuthError::Malformed(format!("token answer at `{}`", e.path()))
        }
        RequestTokenError::Other(message) => AuthError::Malformed(message),
    }
}

/// Build our token set from a token answer; `previous` supplies what a refresh
/// answer may leave out.
fn token_set(response: &JustworksTokenResponse, previous: Option<&TokenSet>) -> TokenSet {
    let now = Timestamp::now();
    let extra = response.extra_fields();
    let expires_at = response
        .expires_in()
        .and_then(|d| SignedDuration::try_from(d).ok())
        .and_then(|d| now.checked_add(d).ok())
        .or_else(|| extra.expires_at.as_ref().and_then(parse_instant))
        .or_else(|| {
            SignedDuration::try_from(DEFAULT_ACCESS_TOKEN_LIFETIME)
                .ok()
                .and_then(|d| now.checked_add(d).ok())
        });
    let new_refresh = response
        .refresh_token()
        .map(|t| SecretString::from(t.secret().clone()));
    let rotated = new_refresh.is_some();
    let refresh_token = new_refresh.or_else(|| previous.and_then(|p| p.refresh_token.clone()));
    let refresh_expires_at = extra
        .refresh_token_expires_at
        .as_ref()
        .and_then(parse_instant)
        .or_else(|| {
            if rotated {
                None
            } else {
                previous.and_then(|p| p.refresh_expires_at)
            }
        });
    let scopes = response
        .scopes()
        .map(|scopes| scopes.iter().map(|s| s.as_str().to_owned()).collect())
        .or_else(|| previous.and_then(|p| p.scopes.clone()));
    TokenSet {
        access_token: SecretString::from(response.access_token().secret().clone()),
        refresh_token,
        expires_at,
        refresh_expires_at,
        scopes,
        obtained_at: Some(now),
    }
}

/// An instant given as RFC 3339 text or as Unix seconds.
fn parse_instant(value: &serde_json::Value) -> Option<Timestamp> {
    match value {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64().and_then(|s| Timestamp::from_second(s).ok()),
        _ => None,
    }
}

/// A fresh random `state` for the consent page.
pub fn new_state() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| {
            let n = rng.random_range(0..62u8);
            char::from(match n {
                0..=9 => b'0' + n,
                10..=35 => b'a' + n - 10,
                _ => b'A' + n - 36,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_set_debug_redacts_and_serde_round_trips() {
        let tokens = TokenSet {
            access_token: SecretString::from("at-secret".to_owned()),
            refresh_token: Some(SecretString::from("rt-secret".to_owned())),
            expires_at: Some("2030-01-01T00:00:00Z".parse().unwrap()),
            refresh_expires_at: None,
            scopes: Some(vec!["member.basic:read".into()]),
            obtained_at: None,
        };
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("secret"), "{debug}");
        let json = serde_json::to_string(&tokens).unwrap();
        let back: TokenSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back.access_token.expose_secret(), "at-secret");
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-secret");
        assert_eq!(back.expires_at, tokens.expires_at);
        // Old stored shapes without the newer optional fields still load.
        let minimal: TokenSet = serde_json::from_str(r#"{"access_token":"x"}"#).unwrap();
        assert!(minimal.scopes.is_none() && minimal.refresh_token.is_none());
    }

    #[test]
    fn scope_hierarchy() {
        let granted = vec![
            "member.detail:read".to_owned(),
            "company.detail:read".to_owned(),
        ];
        assert!(scope_granted(&granted, "member.basic:read"));
        assert!(scope_granted(&granted, "member.detail:read"));
        assert!(scope_granted(&granted, "company.basic:read"));
        assert!(!scope_granted(&granted, "member.dob:read"));
        assert!(!scope_granted(
            &["member.basic:read".to_owned()],
            "member.detail:read"
        ));
    }

    #[test]
    fn instants_from_text_or_seconds() {
        let t = parse_instant(&serde_json::json!("2030-01-01T00:00:00Z")).unwrap();
        assert_eq!(t, parse_instant(&serde_json::json!(1_893_456_000)).unwrap());
        assert!(parse_instant(&serde_json::json!(null)).is_none());
    }

    #[test]
    fn authorize_url_has_state_scopes_and_pkce() {
        let config = JustworksConfig {
            client_id: "cid".into(),
            redirect_uri: Some("http://127.0.0.1:8765/callback".parse().unwrap()),
            ..JustworksConfig::default()
        };
        let client = OAuthClient::new(&config).unwrap();
        let (url, verifier) = client.authorize_url("st4te", true);
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(url.host_str(), Some("payroll.justworks.com"));
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["state"], "st4te");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8765/callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["scope"].split(' ').any(|s| s == "member.dob:read"));
        assert!(verifier.unwrap().secret().len() >= 43);
        let (url, verifier) = client.authorize_url("s", false);
        assert!(verifier.is_none() && !url.as_str().contains("code_challenge"));
    }

    #[test]
    fn states_are_random() {
        let (a, b) = (new_state(), new_state());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
