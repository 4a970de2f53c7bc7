//! The setup sync: the company, its custom-field definitions, the member count and
//! a sample value per source field, read without holding the members.

use std::sync::Arc;

use roster_core::member::{SourceField, SourceMember};
use roster_source::{ProgressFn, Source, SourceError};
use roster_store::{IntegrationId, IntegrationState};

use crate::engine::{Engine, EngineError, Result};
use crate::outcome::SetupReport;

impl Engine {
    /// Read the company, custom-field definitions, member count and a sample value
    /// per source field. Imports no employee data; the state becomes `needs_finalise`.
    /// Members are counted and sampled as they are read, not held (`Source::survey`);
    /// custom-field values are sampled from the first members that have them
    /// ([`CUSTOM_SAMPLE_MEMBERS`] at most), not read for everyone.
    pub async fn setup_sync(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        progress: Option<ProgressFn>,
    ) -> Result<SetupReport> {
        let mut integration = self.integration(Some(id)).await?;
        let company = source.company().await?;
        let sampler = Arc::new(std::sync::Mutex::new(Sampler::new(&company.custom_fields)));
        let visiting = sampler.clone();
        let survey = source
            .survey(
                Box::new(move |m| {
                    if let Ok(mut s) = visiting.lock() {
                        s.visit(m);
                    }
                }),
                progress,
            )
            .await?;
        let mut sampler = std::mem::replace(
            &mut *sampler
                .lock()
                .map_err(|_| EngineError::Source(SourceError::Other("sampling failed".into())))?,
            Sampler::new(&[]),
        );
        let mut diagnostics = survey.diagnostics;
        sampler.custom_values(source, &mut diagnostics).await?;
        let mut fields = sampler.fields(&company.custom_fields);
        fields.sort_by(|a, b| a.key.cmp(&b.key));
        integration.company_name = Some(company.name.clone());
        integration.member_count = Some(survey.members as i64);
        integration.source_fields = fields.clone();
        if integration.state == IntegrationState::Connected {
            integration.state = IntegrationState::NeedsFinalise;
        }
        self.store.save_integration(&integration).await?;
        tracing::info!(
            integration = id,
            members = survey.members,
            requests = survey.requests,
            "setup sync done"
        );
        Ok(SetupReport {
            company_name: company.name,
            member_count: survey.members,
            source_fields: fields,
            diagnostics,
        })
    }
}

/// Members whose custom-field values the setup sync reads at most, in source order,
/// to find a sample of each custom field.
pub const CUSTOM_SAMPLE_MEMBERS: usize = 100;

/// Each source field's first populated value (core fields included), gathered as
/// members are read.
struct Sampler {
    samples: std::collections::BTreeMap<String, Option<String>>,
    /// The first members' ids, whose custom-field values are read for samples.
    first: Vec<String>,
}

type Getter = fn(&SourceMember) -> Option<String>;

const CORE_SAMPLES: [(&str, Getter); 9] = [
    ("id", |m| Some(m.source_id.clone())),
    ("given_name", |m| m.given_name.clone()),
    ("family_name", |m| m.family_name.clone()),
    ("preferred_name", |m| m.preferred_name.clone()),
    ("work_email", |m| m.work_email.clone()),
    ("personal_email", |m| m.personal_email.clone()),
    ("phone", |m| m.phone.clone()),
    ("start_date", |m| m.start_date.clone()),
    ("end_date", |m| m.end_date.clone()),
];

impl Sampler {
    fn new(custom: &[SourceField]) -> Self {
        let mut samples = std::collections::BTreeMap::new();
        for (k, _) in &CORE_SAMPLES {
            samples.insert(k.to_string(), None);
        }
        for c in custom {
            samples.insert(c.key.clone(), None);
        }
        Sampler {
            samples,
            first: Vec::new(),
        }
    }

    fn visit(&mut self, m: SourceMember) {
        if self.first.len() < CUSTOM_SAMPLE_MEMBERS {
            self.first.push(m.source_id.clone());
        }
        for (k, get) in &CORE_SAMPLES {
            if let Some(slot) = self.samples.get_mut(*k)
                && slot.is_none()
            {
                *slot = get(&m).filter(|v| !v.is_empty());
            }
        }
        for (k, v) in m.fields {
            let slot = self.samples.entry(k.into_string()).or_insert(None);
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v.into_string());
            }
        }
    }

    /// Read the first members' custom-field values until every custom field has a
    /// sample; a source that does not share them gets a diagnostic.
    async fn custom_values(
        &mut self,
        source: &dyn Source,
        diagnostics: &mut Vec<roster_source::Diagnostic>,
    ) -> Result<()> {
        use roster_core::fields::CUSTOM_PREFIX;
        let missing = |s: &Self| {
            s.samples
                .iter()
                .any(|(k, v)| k.starts_with(CUSTOM_PREFIX) && v.is_none())
        };
        for id in std::mem::take(&mut self.first) {
            if !missing(self) {
                break;
            }
            let Some(values) = source.custom_values(&id).await? else {
                let code = "scope_missing.member.detail:read";
                if !diagnostics.iter().any(|d| d.code == code) {
                    diagnostics.push(roster_source::Diagnostic {
                        code: code.into(),
                        message: "custom field values not shared: the API answered 403 (scope member.detail:read)".into(),
                    });
                }
                break;
            };
            for (k, v) in values {
                let slot = self.samples.entry(k).or_insert(None);
                if slot.is_none() && !v.is_empty() {
                    *slot = Some(v);
                }
            }
        }
        Ok(())
    }

    fn fields(self, custom: &[SourceField]) -> Vec<SourceField> {
        self.samples
            .into_iter()
            .map(|(key, sample)| {
                let label = custom
                    .iter()
                    .find(|c| c.key == key)
                    .map(|c| c.label.clone())
                    .unwrap_or_else(|| key.clone());
                // Date of birth is never shown as a sample.
                SourceField { key, label, sample }
            })
            .collect()
    }
}
