//! `roster connect justworks`, `roster setup-sync`, `roster integrations` and `roster unlock`.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use roster_engine::Engine;

use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};
use roster_justworks::UrlPolicy;
use roster_store::Integration;
use roster_wiring::{self as wiring, StoredConfig};
use secrecy::SecretString;

use crate::args::{ConnectJustworks, IntegrationsAction, IntegrationsArgs, UnlockArgs};

pub(super) async fn connect_justworks(
    engine: &Arc<Engine>,
    a: ConnectJustworks,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let base = url::Url::parse(&a.base_url).context("--base-url is not a URL")?;
    // The token goes there: refuse an address this directory must not reach.
    roster_justworks::check_url_resolved(&base, policy)
        .await
        .map_err(|e| {
            Exit(
                exit::USAGE,
                format!("--base-url: the source address is not allowed: {e}"),
            )
        })?;
    let mut config = roster_justworks::JustworksConfig::with_base_url(base);
    config.url_policy = policy;
    if a.base_url.trim_end_matches('/') == roster_justworks::config::DEFAULT_BASE_URL {
        config.authorize_url = url::Url::parse(roster_justworks::config::DEFAULT_AUTHORIZE_URL)?;
    }
    if let Some(u) = &a.authorize_url {
        config.authorize_url = url::Url::parse(u).context("--authorize-url is not a URL")?;
    }
    if let Some(s) = &a.scopes {
        config.scopes = s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    let mut stored = StoredConfig {
        base_url: a.base_url.clone(),
        authorize_url: Some(config.authorize_url.to_string()),
        token_url: None,
        client_id: a.client_id.clone().unwrap_or_default(),
        redirect_uri: None,
        scopes: config.scopes.clone(),
        requests_per_second: a.requests_per_second,
        mode: "static".into(),
    };
    let secrets = if let Some(token) = &a.token {
        wiring::static_secrets(&SecretString::from(token.clone()))
    } else {
        let client_id = a.client_id.clone().ok_or_else(|| {
            anyhow!("OAuth needs --client-id (or pass --token for a static token)")
        })?;
        let secret = match (&a.client_secret, &a.client_secret_file) {
            (Some(s), _) => s.clone(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .with_context(|| format!("while reading {}", f.display()))?
                .trim()
                .to_string(),
            (None, None) => bail!("OAuth needs --client-secret or --client-secret-file"),
        };
        let redirect = format!("http://127.0.0.1:{}/callback", a.redirect_port);
        config.client_id = client_id.clone();
        config.client_secret = SecretString::from(secret.clone());
        config.redirect_uri = Some(url::Url::parse(&redirect)?);
        let oauth = roster_justworks::auth::OAuthClient::new(&config)?;
        let state = roster_justworks::auth::new_state();
        let (url, verifier) = oauth.authorize_url(&state, true);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", a.redirect_port))
            .await
            .with_context(|| {
                format!(
                    "while listening for the OAuth redirect on port {}",
                    a.redirect_port
                )
            })?;
        errln!(
            "Open this address in your browser and authorize Roster:\n\n  {url}\n\nWaiting for the redirect on {redirect} …"
        );
        let code = crate::redirect::receive_redirect(listener, &state).await?;
        let tokens = oauth.exchange_code(&code, verifier).await?;
        stored.mode = "oauth".into();
        stored.client_id = client_id;
        stored.redirect_uri = Some(redirect);
        wiring::oauth_secrets(&SecretString::from(secret), &tokens)
    };
    let integration = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            &a.name,
            serde_json::to_value(&stored)?,
            Some(&secrets),
        )
        .await?;
    if json {
        print_json(
            &serde_json::json!({ "integration_id": integration.id, "state": integration.state }),
        )?;
    } else {
        outln!(
            "Connected integration {} ({}). Next: roster setup-sync",
            integration.id,
            integration.name
        );
    }
    Ok(exit::OK)
}

pub(super) async fn setup_sync(
    engine: &Arc<Engine>,
    id: Option<i64>,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let i = engine.integration(id).await?;
    let source = wiring::source(engine, &i, policy)?;
    let (bar, progress) = crate::progress::fetch_bar("reading members");
    let report = engine.setup_sync(i.id, &source, progress).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if json {
        return print_json(&report).map(|_| exit::OK);
    }
    outln!("Company: {}", report.company_name);
    outln!("Members: {}", report.member_count);
    for d in &report.diagnostics {
        outln!("Note: {}", d.message);
    }
    outln!("Source fields (sample value):");
    for f in &report.source_fields {
        let label = if f.label != f.key {
            format!(" ({})", f.label)
        } else {
            String::new()
        };
        outln!(
            "  {:<28}{label}  {}",
            f.key,
            f.sample.as_deref().unwrap_or("—")
        );
    }
    outln!("State: needs_finalise. Next: roster sync (review), then roster sync --apply");
    Ok(exit::OK)
}

fn integration_row(i: &Integration) -> String {
    format!(
        "{:>3}  {:<10} {:<20} {:<15} company: {}  members: {}  last sync: {}",
        i.id,
        i.kind,
        i.name,
        i.state.as_str(),
        i.company_name.as_deref().unwrap_or("—"),
        i.member_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "—".into()),
        i.last_sync_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "never".into())
    )
}

pub(super) async fn integrations(
    engine: &Arc<Engine>,
    a: IntegrationsArgs,
    json: bool,
) -> Result<u8> {
    match a.action.unwrap_or(IntegrationsAction::List) {
        IntegrationsAction::List => {
            let list = engine.integrations().await?;
            if json {
                let out: Vec<_> = list
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id, "kind": i.kind, "name": i.name, "state": i.state,
                            "company_name": i.company_name, "member_count": i.member_count,
                            "last_sync_at": i.last_sync_at, "config": i.config,
                        })
                    })
                    .collect();
                return print_json(&out).map(|_| exit::OK);
            }
            for i in &list {
                outln!("{}", integration_row(i));
            }
        }
        IntegrationsAction::Delete { id, yes } => {
            let i = engine.integration(Some(id)).await?;
            if must_ask(yes, json, "integrations delete")?
                && !confirm(&format!(
                    "Delete integration {} ({}) with its credentials, mapping and settings? This cannot be undone.",
                    i.id, i.name
                ))?
            {
                return Err(Exit(exit::DECLINED, "Not deleted.".into()).into());
            }
            engine.delete_integration(id).await?;
            outln!("Deleted integration {id}. The directory and import history are kept.");
        }
    }
    Ok(exit::OK)
}

pub(super) async fn unlock(engine: &Arc<Engine>, a: UnlockArgs, json: bool) -> Result<u8> {
    let id = a.integration;
    let Some(lock) = engine.sync_lock(id).await? else {
        if json {
            print_json(
                &serde_json::json!({ "integration_id": id, "released": false, "held": false }),
            )?;
        } else {
            outln!("Integration {id} is not locked: nothing to release.");
        }
        return Ok(exit::OK);
    };
    let holder = roster_engine::lock::Holder::parse(&lock.holder);
    let who = match &holder {
        Some(h) => format!("process {} on host {}", h.pid, h.host),
        None => format!("holder {}", lock.holder),
    };
    let now = jiff::Timestamp::now();
    let lease = if lock.until < now {
        format!("its lease ended at {} (it stopped renewing)", lock.until)
    } else {
        format!(
            "its lease runs until {} (renewed while it runs: a live holder keeps it)",
            lock.until
        )
    };
    errln!("Integration {id} is locked by {who}; {lease}.");
    if must_ask(a.yes, json, "unlock")?
        && !confirm(
            "Release it? Its holder's changes will then be refused if it is still running.",
        )?
    {
        return Err(Exit(exit::DECLINED, "Not released.".into()).into());
    }
    let import = engine.unlock(id, &lock).await?;
    if json {
        print_json(&serde_json::json!({
            "integration_id": id,
            "released": import.is_some(),
            "held": true,
            "holder": lock.holder,
            "lease_until": lock.until,
            "import_id": import,
        }))?;
    } else {
        match import {
            Some(i) => {
                outln!("Released the sync lock of integration {id} (recorded as import {i}).")
            }
            None => outln!(
                "The lock changed hands meanwhile: nothing released. Run `roster unlock {id}` again to see its holder."
            ),
        }
    }
    Ok(if import.is_some() {
        exit::OK
    } else {
        exit::RUNNING
    })
}
