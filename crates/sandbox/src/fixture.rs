//! Loading a company from a JSON fixture file. The format is described in
//! `docs/justworks-sandbox.md`: `{ "company": {…}, "custom_fields": […], "members": […] }`,
//! members in the wire shape plus the extras `custom_field_values` and `hidden`.

use std::collections::HashMap;
use std::path::Path;

use jiff::civil::Date;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::error::SandboxError;
use crate::model::{Company, CompanyProfile, CustomFieldDef};
use crate::wire::{InputMode, MemberInput, build_member};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    company: CompanyProfile,
    #[serde(default)]
    custom_fields: Vec<CustomFieldDef>,
    #[serde(default)]
    members: Vec<MemberInput>,
}

pub(crate) fn load(path: &Path, seed: u64, today: Date) -> Result<Company, SandboxError> {
    let text = std::fs::read_to_string(path).map_err(|source| SandboxError::FixtureIo {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, seed, today).map_err(|message| SandboxError::Fixture {
        path: path.to_owned(),
        message,
    })
}

/// Builds the company from fixture text; the error names the place in the file.
pub(crate) fn parse(text: &str, seed: u64, today: Date) -> Result<Company, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file: FixtureFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })?;
    if file.company.id.trim().is_empty() {
        return Err("company.id: required".to_owned());
    }
    let mut seen_fields = HashMap::new();
    for (i, f) in file.custom_fields.iter().enumerate() {
        if let Some(j) = seen_fields.insert(f.id.clone(), i) {
            return Err(format!(
                "custom_fields[{i}].id: `{}` is also used by custom_fields[{j}]",
                f.id
            ));
        }
        if !matches!(f.cardinality.as_str(), "single" | "multiple") {
            return Err(format!(
                "custom_fields[{i}].cardinality: must be `single` or `multiple`, not `{}`",
                f.cardinality
            ));
        }
        if f.kind == "select" && f.options.is_empty() {
            return Err(format!(
                "custom_fields[{i}].options: a select field needs options"
            ));
        }
    }
    let domain = file
        .company
        .display_name
        .as_deref()
        .map(|n| {
            let mut s = String::new();
            crate::names::fold_ascii(n, &mut s);
            format!("{s}.example")
        })
        .unwrap_or_else(|| "company.example".to_owned());
    let base = file.company.created_at;
    let n = file.members.len();
    let mut c = Company::new(
        file.company,
        file.custom_fields,
        domain,
        today,
        ChaCha8Rng::seed_from_u64(seed),
        n,
    );
    let mut ids: HashMap<String, usize> = HashMap::with_capacity(n);
    let mut managers: Vec<(usize, String)> = Vec::new();
    for (i, input) in file.members.into_iter().enumerate() {
        if let Some(id) = input.id.as_deref()
            && let Some(j) = ids.get(id)
        {
            return Err(format!(
                "members[{i}].id: `{id}` is also used by members[{j}]"
            ));
        }
        let default_created_at = base
            .checked_add(jiff::SignedDuration::from_secs(i as i64))
            .unwrap_or(base);
        let m = build_member(&mut c, input, &InputMode::Fixture { default_created_at })
            .map_err(|e| format!("members[{i}].{}: {}", e.field, e.message))?;
        let id = c.text.get(m.id).to_owned();
        if let Some(j) = ids.insert(id.clone(), i) {
            return Err(format!(
                "members[{i}].id: `{id}` is also used by members[{j}]"
            ));
        }
        if let Some(mgr) = c.text.opt(m.manager) {
            managers.push((i, mgr.to_owned()));
        }
        c.members.push(m);
    }
    for (i, mgr) in managers {
        if !ids.contains_key(&mgr) {
            return Err(format!("members[{i}].manager.id: no member has id `{mgr}`"));
        }
    }
    c.finish_loading()
        .map_err(|d| format!("members: duplicate id `{}`", d.0))?;
    c.next_work_id = n as u64 + 1;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2025, 6, 1).unwrap()
    }

    const GOOD: &str = r#"{
      "company": { "id": "cmp_fx", "display_name": "Fixture Co", "created_at": "2020-01-01T00:00:00Z" },
      "custom_fields": [ { "id": "cf_size", "label": "Size", "type": "select", "options": ["S","M"], "cardinality": "single" } ],
      "members": [
        { "id": "mbr_b", "name": { "given_name": "Zoë", "family_name": "Ng" }, "active": true,
          "department": { "id": "dep_x", "name": "X" },
          "custom_field_values": [ { "id": "cf_size", "values": ["M"] } ] },
        { "id": "mbr_a", "manager": { "id": "mbr_b" }, "department": { "id": "dep_x" },
          "employment_termination_date": "2025-01-31" }
      ]
    }"#;

    #[test]
    fn loads_and_keeps_file_order() {
        let c = parse(GOOD, 1, today()).unwrap();
        assert_eq!(c.members.len(), 2);
        // Default created_at is the company's plus the index in seconds: file order.
        assert_eq!(c.text.get(c.members[0].id), "mbr_b");
        assert_eq!(c.text.get(c.members[1].id), "mbr_a");
        assert!(
            !c.members[1].active,
            "past termination date makes the member inactive"
        );
        assert_eq!(c.profile.departments.len(), 1);
        assert_eq!(c.text.get(c.members[0].full_preferred_name), "Zoë Ng");
    }

    #[test]
    fn errors_name_member_and_field() {
        let bad = GOOD.replace("\"values\": [\"M\"]", "\"values\": [\"XL\"]");
        let e = parse(&bad, 1, today()).unwrap_err();
        assert!(
            e.starts_with("members[0].custom_field_values[0].values"),
            "{e}"
        );
        let bad = GOOD.replace("2025-01-31", "2025-02-30");
        let e = parse(&bad, 1, today()).unwrap_err();
        assert!(
            e.starts_with("members[1].employment_termination_date"),
            "{e}"
        );
        let bad = GOOD.replace("{ \"id\": \"mbr_b\" }", "{ \"id\": \"mbr_zz\" }");
        let e = parse(&bad, 1, today()).unwrap_err();
        assert!(e.starts_with("members[1].manager.id"), "{e}");
        let bad = GOOD.replace(
            "\"mbr_a\", \"manager\": { \"id\": \"mbr_b\" },",
            "\"mbr_b\",",
        );
        let e = parse(&bad, 1, today()).unwrap_err();
        assert!(e.starts_with("members[1].id"), "{e}");
        let e = parse(r#"{"company": {"id": "x"}}"#, 1, today()).unwrap_err();
        assert!(e.contains("created_at"), "{e}");
    }
}
