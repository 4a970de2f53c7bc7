//! Tokens, authorization codes and PKCE. Tokens are opaque random strings that map
//! to a record with the granted scopes and an expiry.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::scopes::ScopeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub kind: TokenKind,
    /// Tokens from one authorization share a grant; revoking its refresh token ends all.
    pub grant: u64,
    pub scopes: ScopeSet,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PkceMethod {
    S256,
    Plain,
}

#[derive(Clone, Debug)]
pub(crate) struct CodeRecord {
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub challenge: Option<(String, PkceMethod)>,
    pub expires_at: Timestamp,
}

/// Why an access token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
}

/// A freshly issued access (and maybe refresh) token.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub access_token: String,
    pub access_expires_at: Timestamp,
    pub expires_in: u64,
    pub refresh: Option<(String, Timestamp)>,
    pub scopes: ScopeSet,
}

#[derive(Default)]
pub(crate) struct AuthStore {
    tokens: HashMap<String, TokenRecord>,
    codes: HashMap<String, CodeRecord>,
    next_grant: u64,
    inserts: u64,
}

pub(crate) fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::rng().random();
    let mut s = String::with_capacity(prefix.len() + 48);
    s.push_str(prefix);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn after(now: Timestamp, ttl: Duration) -> Timestamp {
    SignedDuration::try_from(ttl)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Whether `verifier` matches the authorize request's `code_challenge`.
pub(crate) fn pkce_matches(challenge: &str, method: &PkceMethod, verifier: &str) -> bool {
    match method {
        PkceMethod::Plain => challenge == verifier,
        PkceMethod::S256 => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
    }
}

impl AuthStore {
    fn insert(&mut self, token: String, record: TokenRecord) {
        self.inserts += 1;
        if self.inserts.is_multiple_of(1024) {
            let now = Timestamp::now();
            self.tokens.retain(|_, r| r.expires_at > now);
            self.codes.retain(|_, c| c.expires_at > now);
        }
        self.tokens.insert(token, record);
    }

    /// Issues an access token, and a refresh token when `refresh_ttl` is given, in a
    /// grant (a new one when `grant` is `None`).
    pub(crate) fn issue(
        &mut self,
        scopes: ScopeSet,
        grant: Option<u64>,
        access_ttl: Duration,
        refresh_ttl: Option<Duration>,
    ) -> Issued {
        let grant = grant.unwrap_or_else(|| {
            self.next_grant += 1;
            self.next_grant
        });
        let now = Timestamp::now();
        let access_token = random_token("sbx_at_");
        let access_expires_at = after(now, access_ttl);
        self.insert(
            access_token.clone(),
            TokenRecord {
                kind: TokenKind::Access,
                grant,
                scopes,
                issued_at: now,
                expires_at: access_expires_at,
            },
        );
        let refresh = refresh_ttl.map(|ttl| {
            let token = random_token("sbx_rt_");
            let expires = after(now, ttl);
            self.insert(
                token.clone(),
                TokenRecord {
                    kind: TokenKind::Refresh,
                    grant,
                    scopes,
                    issued_at: now,
                    expires_at: expires,
                },
            );
            (token, expires)
        });
        Issued {
            access_token,
            access_expires_at,
            expires_in: access_ttl.as_secs(),
            refresh,
            scopes,
        }
    }

    /// The scopes of a live access token. With `early_expiry`, tokens older than a
    /// second count as expired whatever their stated lifetime.
    pub(crate) fn check_access(
        &self,
        token: &str,
        early_expiry: bool,
    ) -> Result<ScopeSet, TokenProblem> {
        let record = self
            .tokens
            .get(token)
            .filter(|r| r.kind == TokenKind::Access)
            .ok_or(TokenProblem::Unknown)?;
        let now = Timestamp::now();
        if record.expires_at <= now {
            return Err(TokenProblem::Expired);
        }
        if early_expiry && after(record.issued_at, Duration::from_secs(1)) <= now {
            return Err(TokenProblem::Expired);
        }
        Ok(record.scopes)
    }

    /// Takes a refresh token out of circulation (rotation) and returns its record.
    pub(crate) fn take_refresh(&mut self, token: &str) -> Result<TokenRecord, &'static str> {
        match self.tokens.get(token) {
            Some(r) if r.kind == TokenKind::Refresh => {}
            _ => return Err("unknown, revoked or already used refresh token"),
        }
        let record = self.tokens.remove(token).ok_or("unknown refresh token")?;
        if record.expires_at <= Timestamp::now() {
            return Err("the refresh token has expired");
        }
        Ok(record)
    }

    pub(crate) fn issue_code(&mut self, record: CodeRecord) -> String {
        let code = random_token("sbx_code_");
        self.codes.insert(code.clone(), record);
        code
    }

    /// Takes a code out (codes are single-use); `None` if unknown or already used.
    pub(crate) fn take_code(&mut self, code: &str) -> Option<CodeRecord> {
        self.codes.remove(code)
    }

    /// Revokes a token. A refresh token takes every token of its grant with it.
    /// Unknown tokens are ignored (RFC 7009).
    pub(crate) fn revoke(&mut self, token: &str) {
        if let Some(record) = self.tokens.remove(token)
            && record.kind == TokenKind::Refresh
        {
            self.tokens.retain(|_, r| r.grant != record.grant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_independent_computation() {
        // Challenge computed independently (Python hashlib + base64url, no padding).
        let verifier = "roster-sandbox-verifier-0123456789-abcdefghijklmnop";
        let challenge = "yA1t2LEgfvxUT_Zb125VoyJOOLl1eYBjywGYkGX2tCw";
        assert!(pkce_matches(challenge, &PkceMethod::S256, verifier));
        assert!(!pkce_matches(challenge, &PkceMethod::S256, "wrong"));
        assert!(pkce_matches("abc", &PkceMethod::Plain, "abc"));
    }

    #[test]
    fn revoke_refresh_ends_grant() {
        let mut store = AuthStore::default();
        let day = Duration::from_secs(86_400);
        let a = store.issue(ScopeSet::ALL, None, day, Some(day));
        let b = store.issue(ScopeSet::ALL, None, day, Some(day));
        assert!(store.check_access(&a.access_token, false).is_ok());
        store.revoke(&a.refresh.as_ref().unwrap().0);
        assert_eq!(
            store.check_access(&a.access_token, false),
            Err(TokenProblem::Unknown)
        );
        assert!(store.check_access(&b.access_token, false).is_ok());
        // A refresh token is not an access token.
        assert!(
            store
                .check_access(&b.refresh.as_ref().unwrap().0, false)
                .is_err()
        );
    }

    #[test]
    fn refresh_is_single_use() {
        let mut store = AuthStore::default();
        let day = Duration::from_secs(86_400);
        let a = store.issue(ScopeSet::ALL, None, day, Some(day));
        let rt = a.refresh.unwrap().0;
        assert!(store.take_refresh(&rt).is_ok());
        assert!(store.take_refresh(&rt).is_err());
    }
}
