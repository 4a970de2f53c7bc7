#![forbid(unsafe_code)]
//! The Justworks Partner API connector: a [`roster_source::Source`] that reads a
//! company's members over HTTP (`docs/justworks-wire.md`).
//!
//! - [`JustworksSource`] lists `/v1/members` by cursor (full, or incremental with
//!   `updated_at_gte`), optionally reads per-member custom-field values, resolves
//!   managers, and reports withheld scopes as diagnostics.
//! - [`OAuthClient`] runs the authorization-code flow (state + PKCE), refresh and
//!   revocation (the CLI catches the browser's redirect itself).
//! - Requests are retried with backoff (5xx, 429, timeouts, malformed bodies),
//!   `Retry-After` is obeyed, and an optional client-side rate limit keeps under a
//!   server's limit.
//!
//! Personal data (names, emails, dates of birth) never reaches logs or error
//! messages: those carry member ids, counts and statuses.

mod accumulate;
pub mod address;
pub mod auth;
mod client;
pub mod config;
mod http;
mod known;
mod mapping;
mod source;
mod tokens;
mod wire;

pub use address::{AddressRefused, UrlPolicy, check_url, check_url_resolved};
pub use auth::AuthError;
pub use auth::{
    Credentials, MemoryTokenStore, OAuthClient, PkceVerifier, TokenKind, TokenSet, TokenStore,
    TokenStoreError, new_state, scope_granted,
};
pub use client::{HttpClients, preload_roots};
pub use config::{DEFAULT_SCOPES, JustworksConfig};
pub use http::{MAX_RETRY_AFTER, parse_retry_after};
pub use source::JustworksSource;
