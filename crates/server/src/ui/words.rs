//! Plain words for what the store records as codes and numbers: field names, issue
//! causes with their fix, guard findings as sentences, import statuses and the
//! details of an import (never raw JSON). Pure functions, unit-tested here.

use std::collections::HashMap;

use roster_core::employee::Employee;
use roster_core::plan::MassChange;
use roster_core::settings::Settings;
use serde_json::Value;

use super::seg;

/// A field's name for people: `job_title` → "Job title".
pub fn field_label(field: &str) -> String {
    let known = match field {
        "employee_id" => "Employee ID",
        "source_id" => "Source ID",
        "email" => "Work email",
        "secondary_email" => "Personal email",
        "first_name" => "First name",
        "last_name" => "Last name",
        "preferred_name" => "Preferred name",
        "manager_email" => "Manager",
        "is_manager" => "Is a manager",
        "date_of_birth" => "Date of birth",
        "start_date" => "Start date",
        "latest_rehire_date" => "Latest rehire date",
        "end_date" => "End date",
        "active" => "Active",
        "deactivation_reason" => "Deactivation reason",
        "excluded" => "Excluded",
        "email_edited" => "Email edited in Roster",
        "merged_into" => "Merged into",
        "phone" => "Phone",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let name = field.rsplit('.').next().unwrap_or(field);
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => field.to_string(),
    }
}

/// `20` for 20.0, `12.5` for 12.5.
pub fn percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p} %")
    }
}

/// "1 employee", "3 employees".
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The mass-change guard's findings as sentences, with the limits of `settings`.
pub fn mass_change_sentences(m: &MassChange, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if m.deactivation_triggered {
        out.push(format!(
            "{} of {} active employees would be deactivated; the limit is {} (and at least {}).",
            m.deactivations,
            m.active_before,
            percent(settings.mass_deactivation_percent),
            settings.mass_deactivation_min.max(1)
        ));
    }
    if m.id_change_triggered {
        out.push(format!(
            "{} of {} matched employees would get a new employee ID; the limit is {}.",
            m.id_changes,
            m.matched,
            percent(settings.mass_id_change_percent)
        ));
    }
    out
}

/// The privacy guard's finding as a sentence.
pub fn privacy_sentence(held: usize) -> String {
    format!(
        "{} two or more of name, date of birth and email changing at once; the privacy guard holds them until you confirm.",
        if held == 1 {
            "1 employee has".to_string()
        } else {
            format!("{held} employees have")
        }
    )
}

/// An import's status in words.
pub fn status_words(status: &str) -> &'static str {
    match status {
        "applied" => "applied",
        "partially_applied" => "applied except the privacy-held employees",
        "blocked" => "blocked by a guard: nothing was applied",
        "discarded" => "discarded: nothing was applied",
        "failed" => "failed: nothing was applied",
        "rolled_back" => "rolled back",
        _ => "recorded",
    }
}

/// A planned action in words.
pub fn action_words(action: &str) -> &'static str {
    match action {
        "create" => "new",
        "update" => "changed",
        "deactivate" => "deactivated",
        "reactivate" => "reactivated",
        _ => "changed",
    }
}

/// Why a field changed, in words (a change's rule).
pub fn rule_words(rule: &str) -> &str {
    match rule {
        "source" => "from the source",
        "end_date" => "end date reached",
        "on_missing" => "missing from the source",
        "deactivate_missing" => "missing from the source",
        "reactivated" => "back in the source",
        "hire_date_priority" => "hire date rule",
        "derived" => "derived",
        "manager_cycle" => "cycle dropped",
        "generated_id" => "ID generated",
        "excluded" => "excluded",
        "associated" => "associated field",
        "admin_edit" => "edited by an admin",
        "merge" => "merged",
        "exclusion" => "excluded by an admin",
        "rollback" => "rolled back",
        other => other,
    }
}

/// An import's kind in words.
pub fn kind_words(kind: &str) -> &'static str {
    match kind {
        "sync" => "Sync",
        "csv_import" => "Users file import",
        "rollback" => "Rollback",
        "admin_edit" | "manual" => "Admin edit",
        "merge" => "Merge of a duplicate",
        "tick" => "End dates reached",
        "unlock" => "Sync lock released",
        _ => "Change",
    }
}

/// The trigger in words.
pub fn trigger_words(trigger: &str) -> &'static str {
    match trigger {
        "automatic" => "automatic",
        _ => "started by an admin",
    }
}

/// What an issue code means and how to fix it: (title, fix).
pub fn cause(code: &str) -> (&'static str, &'static str) {
    match code {
        "unparseable" => (
            "Records that could not be read",
            "Correct the record in the source; it is skipped until then.",
        ),
        "no_identifier" => (
            "Members without an email or employee ID",
            "Give them a work email (or an employee ID) in the source.",
        ),
        "malformed_email" => (
            "Malformed email addresses",
            "Correct the address in the source.",
        ),
        "duplicate_email" => (
            "Two or more members share an email",
            "Give each member their own work email in the source.",
        ),
        "duplicate_employee_id" => (
            "Two or more members share an employee ID",
            "Give each member their own employee ID in the source.",
        ),
        "dob_in_future" => (
            "Date of birth in the future",
            "Correct the date of birth in the source.",
        ),
        "bad_date" => (
            "Dates that could not be read",
            "Correct the date in the source.",
        ),
        "identifier_conflict" => (
            "Identifiers that point at different employees",
            "Check which employee is meant; correct the email or employee ID in the source, or merge the duplicate in Roster.",
        ),
        "email_taken" => (
            "Email already used by another employee",
            "Give one of them another address, or merge the duplicate in Roster.",
        ),
        "end_before_start" => (
            "End date before the start date",
            "Correct the end or start date in the source.",
        ),
        "manager_no_work_email" => (
            "Manager without a work email: reporting line not linked",
            "Give the manager a work email in the source.",
        ),
        "manager_not_in_sync" => (
            "Manager not in the sync: reporting line not linked",
            "Add the manager to the sync, or correct the member's manager in the source.",
        ),
        "manager_cycle" => (
            "Reporting line closing a cycle: the link is dropped",
            "Correct one manager in the cycle in the source.",
        ),
        "self_manager" => (
            "Employees named as their own manager: the link is dropped",
            "Correct the manager in the source.",
        ),
        "associated_unresolved" => (
            "Associated fields that could not be resolved",
            "Check the mapping of the integration.",
        ),
        "possible_duplicate" => (
            "Possible duplicates (same name and date of birth)",
            "If it is the same person, merge the duplicate on the user's page.",
        ),
        "do_not_import" => (
            "Members marked not to import",
            "Nothing to do: they are left out on purpose.",
        ),
        "excluded_stays_deactivated" => (
            "Excluded employees stay deactivated",
            "Include them again on their page to let syncs reactivate them.",
        ),
        "email_kept" => (
            "Emails edited in Roster are kept",
            "Nothing to do; switch on override_emails in the settings to take the source's.",
        ),
        "hire_date_kept" => (
            "Hire dates kept by the hire date rule",
            "Nothing to do, or change hire_date_priority in the settings.",
        ),
        "demographic_name_clash" => (
            "Demographic names that clash",
            "Rename one of the demographics in the mapping.",
        ),
        _ => ("Other findings", "See the message."),
    }
}

/// A person as a link: name and page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub link: Option<String>,
}

/// One cause of issues: how many members, who they are, and the fix.
#[derive(Debug, PartialEq, Eq)]
pub struct IssueGroup {
    pub code: String,
    pub title: &'static str,
    pub fix: &'static str,
    /// `error` (members skipped) or `warning`.
    pub severity: String,
    pub count: usize,
    pub members: Vec<Person>,
    /// Members not named (beyond [`MEMBERS_SHOWN`]).
    pub more: usize,
    /// The distinct messages (at most [`MESSAGES_SHOWN`]).
    pub messages: Vec<String>,
}

/// How many members a group names.
pub const MEMBERS_SHOWN: usize = 25;
/// How many distinct messages a group shows.
pub const MESSAGES_SHOWN: usize = 5;

/// One issue, however it was read (the review's DTO or a recorded import's JSON).
pub struct IssueIn<'a> {
    pub code: &'a str,
    pub severity: &'a str,
    pub message: &'a str,
    pub employee_id: Option<&'a str>,
    pub source_id: Option<&'a str>,
    pub position: Option<u64>,
}

impl<'a> IssueIn<'a> {
    /// An issue as recorded in an import's details.
    pub fn from_json(v: &'a Value) -> IssueIn<'a> {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        IssueIn {
            code: s("code").unwrap_or(""),
            severity: s("severity").unwrap_or("warning"),
            message: s("message").unwrap_or(""),
            employee_id: s("employee_id"),
            source_id: s("source_id"),
            position: v.get("position").and_then(Value::as_u64),
        }
    }
}

impl IssueIn<'_> {
    /// The IDs (employee or source) the issue names: its member and, in a message
    /// about a reporting line, the manager ("manager ID has no work email …").
    pub fn ids(&self) -> Vec<String> {
        let mut out: Vec<String> = [self.employee_id, self.source_id]
            .into_iter()
            .flatten()
            .map(str::to_string)
            .collect();
        out.extend(manager_id(self.message).map(str::to_string));
        out
    }
}

/// The manager's ID in a planner message about a reporting line.
fn manager_id(message: &str) -> Option<&str> {
    message.strip_prefix("manager ")?.split_whitespace().next()
}

/// A message with the manager it names by ID named by name, when known.
fn named_message(message: &str, people: &HashMap<String, Person>) -> String {
    if let Some(id) = manager_id(message)
        && let Some(p) = people.get(id)
    {
        let rest = &message["manager ".len() + id.len()..];
        return format!("manager {} ({id}){rest}", p.name);
    }
    message.to_string()
}

/// Issues grouped by cause (errors first, then by count), each member named with
/// `people` (by employee ID or source ID) and linked to their page.
pub fn group_issues<'a>(
    issues: impl IntoIterator<Item = IssueIn<'a>>,
    people: &HashMap<String, Person>,
) -> Vec<IssueGroup> {
    let mut groups: Vec<IssueGroup> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut seen: Vec<std::collections::HashSet<String>> = Vec::new();
    for i in issues {
        let key = (i.code.to_string(), i.severity.to_string());
        let g = *index.entry(key).or_insert_with(|| {
            let (title, fix) = cause(i.code);
            groups.push(IssueGroup {
                code: i.code.to_string(),
                title,
                fix,
                severity: i.severity.to_string(),
                count: 0,
                members: Vec::new(),
                more: 0,
                messages: Vec::new(),
            });
            seen.push(Default::default());
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.count += 1;
        let message = named_message(i.message, people);
        if group.messages.len() < MESSAGES_SHOWN && !group.messages.contains(&message) {
            group.messages.push(message);
        }
        let person = match (i.employee_id, i.source_id, i.position) {
            (Some(id), ..) => people.get(id).cloned().unwrap_or_else(|| Person {
                name: id.to_string(),
                link: Some(format!("/users/{}", seg(id))),
            }),
            (None, Some(s), _) => people.get(s).cloned().unwrap_or_else(|| Person {
                name: format!("source member {s}"),
                link: None,
            }),
            (None, None, Some(p)) => Person {
                name: format!("member #{p}"),
                link: None,
            },
            _ => continue,
        };
        if !seen[g].insert(person.name.clone()) {
            continue;
        }
        if group.members.len() < MEMBERS_SHOWN {
            group.members.push(person);
        } else {
            group.more += 1;
        }
    }
    groups.sort_by(|a, b| {
        (a.severity != "error")
            .cmp(&(b.severity != "error"))
            .then(b.count.cmp(&a.count))
            .then(a.code.cmp(&b.code))
    });
    groups
}

/// An employee's name for people: preferred or first name, then last name; the
/// employee ID when there is none.
pub fn name_of(e: &Employee) -> String {
    let first = e.preferred_name.as_deref().or(e.first_name.as_deref());
    let parts: Vec<&str> = [first, e.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        e.employee_id.clone()
    } else {
        parts.join(" ")
    }
}

/// How many entries change each field, most first: ("Job title", 812).
pub fn field_summary<'a>(
    changes: impl IntoIterator<Item = impl IntoIterator<Item = &'a str>>,
) -> Vec<(String, usize)> {
    let mut counts: HashMap<&'a str, usize> = HashMap::new();
    for entry in changes {
        let mut fields: Vec<&str> = entry.into_iter().collect();
        fields.sort_unstable();
        fields.dedup();
        for f in fields {
            *counts.entry(f).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(f, n)| (field_label(f), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// A JSON value as words (lists joined, objects as `key: value`), never JSON.
pub fn value_words(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_words).collect();
            if parts.is_empty() {
                "none".into()
            } else {
                parts.join(", ")
            }
        }
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{}: {}", field_label(k), value_words(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The recorded details of an import that are not shown elsewhere on its page
/// (issues, the mass change and the held entries are), as (label, sentence).
pub fn detail_sentences(details: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(map) = details.as_object() else {
        return out;
    };
    for (k, v) in map {
        let line = match (k.as_str(), v) {
            ("issues" | "mass_change", _) | (_, Value::Null) => continue,
            ("extra", Value::Object(extra)) => {
                if let Some(e) = extra.get("error").and_then(Value::as_str) {
                    out.push(("Cause".into(), e.to_string()));
                }
                continue;
            }
            ("error", Value::String(e)) => ("Cause".to_string(), e.clone()),
            ("diagnostics", Value::Array(items)) => {
                for d in items {
                    let text = d
                        .get("message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| value_words(d));
                    out.push(("Note from the source".into(), text));
                }
                continue;
            }
            ("complete", Value::Bool(false)) => (
                "Complete".into(),
                "no: the source did not return every member, so no one was deactivated for missing"
                    .into(),
            ),
            ("complete", Value::Bool(true)) => (
                "Complete".into(),
                "yes: the source returned every member".into(),
            ),
            ("incremental", Value::Bool(b)) => (
                "Kind of sync".into(),
                if *b {
                    "incremental (only members changed since the last sync were read)".into()
                } else {
                    "full (every member was read)".into()
                },
            ),
            ("today", Value::String(d)) => ("Planned for".into(), d.clone()),
            ("members_fetched", Value::Number(n)) => {
                ("Members read".into(), format!("{n} from the source"))
            }
            ("file", Value::String(f)) => ("File".into(), f.clone()),
            ("rows", Value::Number(n)) => ("Rows read".into(), n.to_string()),
            ("mode", Value::String(m)) => (
                "Import mode".into(),
                if m == "full" {
                    "full (employees missing from the file may be deactivated)".into()
                } else {
                    "partial (only the employees in the file)".into()
                },
            ),
            ("bad_rows", Value::Array(rows)) if rows.is_empty() => continue,
            ("bad_rows", rows) => ("Lines in error".into(), value_words(rows)),
            ("skip_bad_rows", Value::Bool(b)) => (
                "Lines in error".into(),
                if *b {
                    "skipped; the other lines were imported".into()
                } else {
                    "not skipped".into()
                },
            ),
            ("columns", cols) => ("Columns".into(), value_words(cols)),
            ("released_lock", Value::Object(l)) => {
                let s = |k: &str| l.get(k).map(value_words).unwrap_or_default();
                (
                    "Released lock".into(),
                    format!(
                        "held by {} (host {}, process {}); its lease {}",
                        s("holder"),
                        s("host"),
                        s("pid"),
                        if l.get("lease_expired") == Some(&Value::Bool(true)) {
                            "had run out"
                        } else {
                            "had not run out yet"
                        }
                    ),
                )
            }
            (_, Value::Array(a)) if a.is_empty() => continue,
            (other, v) => (field_label(other), value_words(v)),
        };
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_findings_read_as_words() {
        assert_eq!(field_label("job_title"), "Job title");
        assert_eq!(field_label("demographics.cost_center"), "Cost center");
        assert_eq!(field_label("manager_email"), "Manager");
        let m = MassChange {
            deactivations: 1,
            active_before: 237,
            deactivation_triggered: true,
            ..MassChange::default()
        };
        let s = Settings::default();
        assert_eq!(
            mass_change_sentences(&m, &s),
            [
                "1 of 237 active employees would be deactivated; the limit is 20 % (and at least 10)."
            ]
        );
        assert!(privacy_sentence(1).starts_with("1 employee has two or more"));
    }

    #[test]
    fn issues_group_by_cause_with_names_and_counts() {
        let raw: Vec<Value> = (1..=9)
            .map(|n| {
                json!({ "severity": "warning", "code": "manager_not_in_sync",
                        "employee_id": format!("E{n}"), "message": "manager m1 is not in the sync" })
            })
            .chain([json!({ "severity": "error", "code": "malformed_email", "position": 4,
                             "message": "malformed email" })])
            .collect();
        let ada = Person {
            name: "Ada Lovelace".into(),
            link: Some("/users/E1".into()),
        };
        let grace = Person {
            name: "Grace Hopper".into(),
            link: Some("/users/E42".into()),
        };
        let names: HashMap<String, Person> = [("E1".to_string(), ada), ("m1".to_string(), grace)]
            .into_iter()
            .collect();
        let groups = group_issues(raw.iter().map(IssueIn::from_json), &names);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].code, "malformed_email", "errors first");
        assert_eq!(groups[0].members[0].name, "member #4");
        assert_eq!(groups[1].count, 9);
        assert_eq!(groups[1].members[0].name, "Ada Lovelace");
        assert_eq!(groups[1].members[0].link.as_deref(), Some("/users/E1"));
        assert_eq!(
            groups[1].messages,
            ["manager Grace Hopper (m1) is not in the sync"]
        );
        let by_source = json!({ "code": "manager_no_work_email", "source_id": "m1",
                                "message": "manager m9 has no work email" });
        let g = group_issues([IssueIn::from_json(&by_source)], &names);
        assert_eq!(
            g[0].members[0].name, "Grace Hopper",
            "a member known by source ID"
        );
        assert_eq!(IssueIn::from_json(&by_source).ids(), ["m1", "m9"]);
    }

    #[test]
    fn details_never_print_json() {
        let d = json!({ "issues": [], "mass_change": { "active_before": 237 },
                        "extra": { "held": [5] }, "complete": true, "members_fetched": 12,
                        "released_lock": { "holder": "h", "host": "x", "pid": 3, "lease_expired": true },
                        "something": { "a": [1, 2], "b": "c" } });
        let lines = detail_sentences(&d);
        for (k, v) in &lines {
            assert!(!v.contains('{') && !v.contains('"'), "{k}: {v}");
        }
        assert!(
            lines
                .iter()
                .any(|(k, v)| k == "Members read" && v == "12 from the source")
        );
        assert!(lines.iter().any(|(_, v)| v == "A: 1, 2; B: c"), "{lines:?}");
    }

    #[test]
    fn field_summary_counts_entries_per_field() {
        let s = field_summary([vec!["job_title", "last_name"], vec!["job_title"]]);
        assert_eq!(
            s,
            [("Job title".to_string(), 2), ("Last name".to_string(), 1)]
        );
    }
}
