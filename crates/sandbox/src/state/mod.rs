//! [`SandboxHandle`]: in-process access to the company and the control operations
//! (the same ones the `/_sandbox` HTTP API offers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use parking_lot::{Mutex, RwLock};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::AuthStore;
use crate::config::{Faults, SandboxConfig};
use crate::error::{ControlError, SandboxError};
use crate::model::{Company, Member};
use crate::scopes::ScopeSet;
use crate::wire::{custom_values, member_value};

mod changes;

/// A member as the control API lists it: the full wire member (every scope) and
/// whether it is hidden from the Justworks endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListedMember {
    pub hidden: bool,
    pub member: Value,
}

/// A new name and/or date of birth. Absent fields stay as they are; an empty
/// `preferred_name` removes it. `full_preferred_name` is recomputed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
}

/// An access token minted without the OAuth dance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MintedToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub expires_at: Timestamp,
    pub scope: String,
}

/// Counts for `GET /_sandbox/info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxInfo {
    pub company_id: String,
    pub company_name: Option<String>,
    pub members: usize,
    pub hidden: usize,
    pub active: usize,
    pub today: Date,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Fixed one-second windows for the rate-limit fault.
pub(crate) struct Window {
    start: Instant,
    count: u32,
}

impl Window {
    /// Counts a request; `Err(seconds)` when over the limit.
    pub(crate) fn acquire(&mut self, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        if now.duration_since(self.start) >= Duration::from_secs(1) {
            self.start = now;
            self.count = 0;
        }
        if self.count < limit {
            self.count += 1;
            Ok(())
        } else {
            Err(1)
        }
    }
}

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub company: RwLock<Company>,
    pub auth: Mutex<AuthStore>,
    pub faults: RwLock<Faults>,
    pub window: Mutex<Window>,
    pub fault_rng: Mutex<ChaCha8Rng>,
}

/// Cheap-to-clone access to a sandbox's company, tokens and faults.
#[derive(Clone)]
pub struct SandboxHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("company_id", &self.shared.company.read().profile.id)
            .finish_non_exhaustive()
    }
}

fn build_company(config: &SandboxConfig) -> Result<Company, SandboxError> {
    match &config.fixture {
        Some(path) => crate::fixture::load(path, config.seed, config.today),
        None => Ok(crate::generate::generate(
            config.seed,
            config.members,
            config.today,
            config.company_name.as_deref(),
        )),
    }
}

impl SandboxHandle {
    /// Builds the company (generated or from the fixture). For a million members this
    /// takes a few seconds; call it off the async runtime (`start` does).
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        config.faults.validate().map_err(SandboxError::Config)?;
        let started = Instant::now();
        let company = build_company(&config)?;
        tracing::info!(
            members = company.members.len(),
            approx_mib = company.approx_bytes() / (1 << 20),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "sandbox company ready"
        );
        Ok(SandboxHandle {
            shared: Arc::new(Shared {
                faults: RwLock::new(config.faults.clone()),
                fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed ^ 0xfa17)),
                config,
                company: RwLock::new(company),
                auth: Mutex::new(AuthStore::default()),
                window: Mutex::new(Window {
                    start: Instant::now(),
                    count: 0,
                }),
            }),
        })
    }

    /// The configuration the sandbox was built from.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// `GET /v1/company` as JSON.
    pub fn company(&self) -> Value {
        serde_json::to_value(&self.shared.company.read().profile).expect("plain data")
    }

    /// Company id, counts, today and the client id.
    pub fn info(&self) -> SandboxInfo {
        let c = self.shared.company.read();
        SandboxInfo {
            company_id: c.profile.id.clone(),
            company_name: c.profile.display_name.clone(),
            members: c.members.len(),
            hidden: c.members.iter().filter(|m| m.hidden).count(),
            active: c.members.iter().filter(|m| m.active && !m.hidden).count(),
            today: c.today,
            client_id: self.shared.config.client_id.clone(),
            scopes: crate::scopes::all_scopes()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// One member with every field, hidden or not.
    pub fn member(&self, id: &str) -> Option<ListedMember> {
        let c = self.shared.company.read();
        let pos = c.find(id)?;
        let m = &c.members[pos];
        Some(ListedMember {
            hidden: m.hidden,
            member: member_value(&c, m),
        })
    }

    /// Every member in list order, with every field; hidden ones only when asked.
    pub fn members(&self, include_hidden: bool) -> Vec<ListedMember> {
        self.members_page(include_hidden, 0, usize::MAX)
    }

    /// A slice of [`SandboxHandle::members`].
    pub fn members_page(
        &self,
        include_hidden: bool,
        offset: usize,
        limit: usize,
    ) -> Vec<ListedMember> {
        let c = self.shared.company.read();
        c.members
            .iter()
            .filter(|m| include_hidden || !m.hidden)
            .skip(offset)
            .take(limit)
            .map(|m| ListedMember {
                hidden: m.hidden,
                member: member_value(&c, m),
            })
            .collect()
    }

    /// Custom field values of a member: `[{"id": "cf_…", "values": [...]}]`.
    pub fn custom_field_values(&self, id: &str) -> Result<Value, ControlError> {
        let c = self.shared.company.read();
        let pos = c
            .find(id)
            .ok_or_else(|| ControlError::NotFound(id.to_owned()))?;
        Ok(serde_json::to_value(custom_values(&c, &c.members[pos])).expect("plain data"))
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults.read().clone()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) -> Result<(), ControlError> {
        faults.validate().map_err(ControlError::BadRequest)?;
        *self.shared.faults.write() = faults;
        Ok(())
    }

    /// An access token for these scopes, valid for the configured access TTL.
    pub fn mint_token(&self, scopes: &[&str]) -> Result<MintedToken, ControlError> {
        self.mint_token_with_ttl(scopes, self.shared.config.access_ttl)
    }

    /// An access token for these scopes with its own lifetime.
    pub fn mint_token_with_ttl(
        &self,
        scopes: &[&str],
        ttl: Duration,
    ) -> Result<MintedToken, ControlError> {
        let set =
            ScopeSet::from_names(scopes.iter().copied()).map_err(|u| ControlError::Invalid {
                field: "scopes".into(),
                message: format!("unknown scope `{}`", u.0),
            })?;
        let issued = self.shared.auth.lock().issue(set, None, ttl, None);
        Ok(MintedToken {
            access_token: issued.access_token,
            token_type: "bearer".into(),
            expires_in: issued.expires_in,
            expires_at: issued.access_expires_at,
            scope: set.to_string(),
        })
    }

    /// Revokes a token as `POST /v1/oauth/revoke` would.
    pub fn revoke_token(&self, token: &str) {
        self.shared.auth.lock().revoke(token);
    }

    /// Rebuilds the company from the configuration and restores the configured faults
    /// and today. Issued tokens stay valid.
    pub fn reset(&self) -> Result<(), SandboxError> {
        let company = build_company(&self.shared.config)?;
        *self.shared.company.write() = company;
        *self.shared.faults.write() = self.shared.config.faults.clone();
        Ok(())
    }

    /// The sandbox's today.
    pub fn today(&self) -> Date {
        self.shared.company.read().today
    }

    /// Moves today. Members whose termination date is now in the past become inactive
    /// (and those whose date is now in the future active again), with `updated_at` bumped.
    /// Returns how many members changed.
    pub fn set_today(&self, today: Date) -> usize {
        let mut c = self.shared.company.write();
        c.today = today;
        let mut changed = 0;
        for k in 0..c.members.len() {
            let m = c.members[k];
            if let Some(t) = m.termination_date {
                let active = t >= today;
                if active != m.active {
                    let now = c.now();
                    let m = Member {
                        active,
                        updated_at: now,
                        ..m
                    };
                    c.replace(k, m);
                    changed += 1;
                }
            }
        }
        changed
    }
}
