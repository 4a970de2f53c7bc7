#![forbid(unsafe_code)]
//! A local look-alike of the Justworks Partner API for tests, demos and benchmarks.
//!
//! It serves the wire contract in `docs/justworks-wire.md`: OAuth (consent page, code
//! and refresh grants, PKCE, revocation), `/v1/company`, custom fields, and
//! `/v1/members` with cursor paging, filters and per-scope field omission, over a
//! deterministic generated company (or a JSON fixture). A control API under
//! `/_sandbox/` (and the same operations on [`SandboxHandle`]) changes the company
//! between syncs and switches faults on. See `docs/justworks-sandbox.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), roster_sandbox::SandboxError> {
//! let sandbox = roster_sandbox::start(
//!     roster_sandbox::SandboxConfig { members: 50, ..Default::default() },
//!     "127.0.0.1:0".parse().unwrap(),
//! ).await?;
//! let token = sandbox.mint_token(&["member.basic:read"]);
//! println!("curl -H 'Authorization: Bearer {token}' {}/v1/members", sandbox.base_url());
//! sandbox.shutdown().await?;
//! # Ok(()) }
//! ```

mod arena;
mod auth;
mod config;
mod error;
mod fixture;
mod generate;
mod http;
mod model;
mod names;
mod scopes;
mod state;
mod wire;

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Faults, SandboxConfig};
pub use error::{ControlError, SandboxError};
pub use http::router;
pub use scopes::all_scopes;
pub use state::{ListedMember, MintedToken, NameChange, SandboxHandle, SandboxInfo};

/// A sandbox serving in a background task. Dropping it stops the server too.
pub struct RunningSandbox {
    addr: SocketAddr,
    handle: SandboxHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// `http://IP:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// In-process access to the company and the control operations.
    pub fn handle(&self) -> SandboxHandle {
        self.handle.clone()
    }

    /// An access token for these scopes, without the OAuth dance.
    ///
    /// # Panics
    /// If a scope name is not a Justworks scope (see [`all_scopes`]); use
    /// [`SandboxHandle::mint_token`] to get an error instead.
    pub fn mint_token(&self, scopes: &[&str]) -> String {
        match self.handle.mint_token(scopes) {
            Ok(t) => t.access_token,
            Err(e) => panic!("cannot mint a sandbox token: {e}"),
        }
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(SandboxError::Serve),
                Err(e) => Err(SandboxError::Serve(std::io::Error::other(e))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Builds the company, binds `addr` (port 0 picks a free port) and serves in a
/// background task.
pub async fn start(
    config: SandboxConfig,
    addr: SocketAddr,
) -> Result<RunningSandbox, SandboxError> {
    let handle = tokio::task::spawn_blocking(move || SandboxHandle::new(config))
        .await
        .map_err(|e| SandboxError::Serve(std::io::Error::other(e)))??;
    start_with_handle(handle, addr).await
}

/// Serves an existing handle (for example one shared with other code).
pub async fn start_with_handle(
    handle: SandboxHandle,
    addr: SocketAddr,
) -> Result<RunningSandbox, SandboxError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let app = router(handle.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(addr = %local, "justworks sandbox listening");
    Ok(RunningSandbox {
        addr: local,
        handle,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Runs a sandbox until Ctrl-C, printing how to reach it (for `roster sandbox`).
pub async fn serve(config: SandboxConfig, addr: SocketAddr) -> Result<(), SandboxError> {
    let sandbox = start(config, addr).await?;
    let h = sandbox.handle();
    let info = h.info();
    let token = sandbox.mint_token(&all_scopes());
    let base = sandbox.base_url();
    // Written as one block; a reader that has gone (`roster sandbox | head -1`) is no
    // reason to stop serving, nor to panic as `println!` would.
    let banner = format!(
        "Justworks sandbox listening on {base}\n  company:       {} ({}), {} members, today {}\n  \
         client_id:     {}\n  client_secret: {}\n  \
         authorize:     {base}/oauth/authorize   token: {base}/oauth/token\n  \
         access token (all scopes, {}s):\n    {token}\n  try:\n    \
         curl -H 'Authorization: Bearer {token}' '{base}/v1/members?limit=2'\n    \
         curl {base}/_sandbox/info\nPress Ctrl-C to stop.\n",
        info.company_name.as_deref().unwrap_or("-"),
        info.company_id,
        info.members,
        info.today,
        h.config().client_id,
        h.config().client_secret,
        h.config().access_ttl.as_secs()
    );
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    tokio::signal::ctrl_c().await.map_err(SandboxError::Serve)?;
    sandbox.shutdown().await
}
