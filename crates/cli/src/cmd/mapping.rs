//! `roster mapping` and `roster settings`.

use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use roster_engine::Engine;

use crate::exit::{self};
use crate::out::print_json;
use roster_core::employee::CORE_FIELDS;
use roster_core::settings::{FieldKind, MappingError, SETTING_KEYS};
use roster_engine::EngineError;

use crate::args::{MappingAction, MappingArgs, SettingsAction, SettingsArgs};

pub(super) async fn mapping(engine: &Arc<Engine>, a: MappingArgs, json: bool) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    match a.action.unwrap_or(MappingAction::List) {
        MappingAction::List => {
            if json {
                return print_json(&serde_json::json!({
                    "core_fields": CORE_FIELDS,
                    "mapping": i.settings.mapping,
                    "source_fields": i.source_fields,
                }))
                .map(|_| exit::OK);
            }
            outln!("Core fields (mapped automatically, fixed after the first import):");
            outln!("  {}", CORE_FIELDS.join(", "));
            outln!("Mapped demographics:");
            for m in &i.settings.mapping {
                let sample = i
                    .source_fields
                    .iter()
                    .find(|f| f.key == m.source_key)
                    .and_then(|f| f.sample.clone());
                outln!(
                    "  {:<24} → {:<22} {:<10} sample: {}",
                    m.source_key,
                    m.demographic,
                    format!("{:?}", m.kind).to_lowercase(),
                    sample.as_deref().unwrap_or("—")
                );
            }
            let unmapped: Vec<_> = i
                .source_fields
                .iter()
                .filter(|f| !i.settings.mapping.iter().any(|m| m.source_key == f.key))
                .collect();
            if !unmapped.is_empty() {
                outln!("Other source fields (map with `roster mapping set FIELD DEMOGRAPHIC`):");
                for f in unmapped {
                    outln!(
                        "  {:<24} {:<22} sample: {}",
                        f.key,
                        f.label,
                        f.sample.as_deref().unwrap_or("—")
                    );
                }
            }
            if i.source_fields.is_empty() {
                outln!("(Run `roster setup-sync` to read source fields and sample values.)");
            }
        }
        MappingAction::Set {
            source_field,
            demographic,
            kind,
        } => {
            let kind = FieldKind::parse(&kind)
                .ok_or_else(|| anyhow!("--kind must be default, associated or hidden"))?;
            let warning = match engine
                .set_mapping(i.id, &source_field, &demographic, kind)
                .await
            {
                Err(EngineError::Mapping(e @ MappingError::UnknownField(_))) => {
                    bail!("{e}; `roster mapping` lists them (run `roster setup-sync` first)")
                }
                r => r?.1,
            };
            if let Some(w) = warning {
                errln!("warning: {w}");
            }
            let demographic = demographic.trim();
            outln!("Mapped {source_field} → {demographic}");
        }
        MappingAction::Unset { source_field } => {
            engine.unset_mapping(i.id, &source_field).await?;
            outln!("Unmapped {source_field}");
        }
    }
    Ok(exit::OK)
}

pub(super) async fn settings(engine: &Arc<Engine>, a: SettingsArgs, json: bool) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    match a.action.unwrap_or(SettingsAction::List) {
        SettingsAction::List => {
            if json {
                let map: serde_json::Map<String, serde_json::Value> = SETTING_KEYS
                    .iter()
                    .map(|(k, _)| {
                        (
                            k.to_string(),
                            serde_json::Value::String(i.settings.get(k).unwrap_or_default()),
                        )
                    })
                    .collect();
                return print_json(&map).map(|_| exit::OK);
            }
            for (k, help) in SETTING_KEYS {
                outln!("{:<28} {:<24} {}", k, i.settings.get(k)?, help);
            }
        }
        SettingsAction::Get { key } => {
            let v = i.settings.get(&key)?;
            if json {
                print_json(&serde_json::json!({ key: v }))?
            } else {
                outln!("{v}")
            }
        }
        SettingsAction::Set { key, value } => {
            let s = engine
                .update_settings(i.id, |s| s.set(&key, &value).map_err(|e| e.to_string()))
                .await?;
            outln!("{key} = {}", s.get(&key)?);
        }
    }
    Ok(exit::OK)
}
