//! Normalise and validate one member (DESIGN §3, §4): source values → the values the
//! directory would hold, or the errors that skip the member.

use crate::fields::FieldMap;

use jiff::civil::Date;

use crate::issue::{Issue, IssueCode, Severity};
use crate::member::{ManagerRef, SourceMember};
use crate::settings::{EmployeeIds, FieldKind, Settings};

/// A member after normalising: what the source says the employee should look like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub source_id: String,
    pub position: usize,
    /// `None` in `employee_ids = generate` mode until one is assigned.
    pub employee_id: Option<String>,
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    /// Original hire date.
    pub start_date: Option<Date>,
    pub latest_rehire_date: Option<Date>,
    pub end_date: Option<Date>,
    pub manager: ManagerRef,
    pub phone: Option<String>,
    pub demographics: FieldMap,
    /// Associated demographics still to resolve: demographic → raw value.
    pub associated: FieldMap,
    /// False when the source says the member is inactive.
    pub source_active: bool,
    /// The source's exclusion directive (see [`SourceMember::exclude`]).
    pub exclude: Option<bool>,
}

/// `str::trim`, the common case first: text that starts and ends with a visible
/// ASCII character has nothing to trim. (`str::trim` decodes a character at each
/// end through a generic search: ≈ 2 % of a daily full sync's CPU, from the email
/// keys of matching, the lifecycle and the hierarchy, and from [`clean`]; issue #15.)
#[inline]
pub fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    let bytes = s.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// Trimmed, `None` when blank; reuses the string when there is nothing to trim.
/// (Sources map their text with it too: one rule for what a blank value is.)
pub fn clean(v: Option<String>) -> Option<String> {
    let s = v?;
    let t = trim(&s);
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

/// [`clean`] for borrowed text: trimmed, `None` when blank.
pub fn nonblank(v: Option<&str>) -> Option<&str> {
    v.map(trim).filter(|v| !v.is_empty())
}

/// Is this a plausible email address (RFC 5322 addr-spec with a dotted domain)? The
/// common shape is told at once ([`plainly_valid_email`]); any other address is
/// parsed.
pub fn valid_email(s: &str) -> bool {
    plainly_valid_email(s) || parsed_valid_email(s)
}

/// [`valid_email`] by the parser alone.
fn parsed_valid_email(s: &str) -> bool {
    email_address::EmailAddress::parse_with_options(
        s,
        email_address::Options::default()
            .without_display_text()
            .with_required_tld(),
    )
    .is_ok()
}

/// The common shape of an address, which the parser accepts (property-tested): ASCII
/// letters, digits and `_+-` in dot-separated atoms before the one `@`, at most 64
/// bytes; after it at least two dot-separated labels of letters, digits and `-`, each
/// starting and ending with a letter or digit, at most 63 bytes each and 254 in all.
/// (The parser, copying each address, was a quarter of normalising a member; issue
/// #15.)
fn plainly_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let atom = |a: &str| {
        !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
    };
    let label = |l: &str| {
        let bytes = l.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    local.len() <= 64
        && local.split('.').all(atom)
        && domain.len() <= 254
        && domain.contains('.')
        && domain.split('.').all(label)
}

/// The email key used for matching: trimmed and lower-cased.
pub fn email_key(s: &str) -> String {
    email_key_ref(s).into_owned()
}

/// [`email_key`] without an allocation when the email is already trimmed and in
/// lower case (as the directory keeps most of them). Whether it is: one pass over the
/// bytes without an early exit, which the compiler turns into a few vector steps (two
/// passes with an early exit each were 2.9 % of a daily full sync's instructions,
/// ≈ 340 per call for a million calls; issue #15).
pub fn email_key_ref(s: &str) -> std::borrow::Cow<'_, str> {
    let t = trim(s);
    let changes = t
        .bytes()
        .fold(false, |c, b| c | (b >= 0x80) | b.is_ascii_uppercase());
    if changes {
        std::borrow::Cow::Owned(t.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

fn member_value<'a>(m: &'a SourceMember, field: &str) -> Option<&'a str> {
    m.fields.get(field).or_else(|| named_value(m, field))
}

/// A member's value of a field it holds by name rather than in `fields`.
fn named_value<'a>(m: &'a SourceMember, field: &str) -> Option<&'a str> {
    match field {
        "source_id" | "id" => Some(&m.source_id),
        "member_type" | "type" => m.member_type.as_deref(),
        "given_name" | "first_name" => m.given_name.as_deref(),
        "family_name" | "last_name" => m.family_name.as_deref(),
        "work_email" | "email" => m.work_email.as_deref(),
        "personal_email" => m.personal_email.as_deref(),
        // Looked up above.
        _ => None,
    }
}

/// The `do_not_import` rule a member matches, if any.
pub fn skipped_by_rule<'a>(
    m: &SourceMember,
    settings: &'a Settings,
) -> Option<&'a crate::settings::SkipRule> {
    settings.do_not_import.iter().find(|r| {
        let v = member_value(m, &r.field).unwrap_or("");
        let eq = v.trim().eq_ignore_ascii_case(r.value.trim());
        eq != r.negate
    })
}

/// Issues found while normalising one member, each naming the member (its source
/// id is filled in by [`Found::into_issues`]: most members have no issue, and so
/// no copy of their id).
struct Found {
    issues: Vec<Issue>,
    position: usize,
}

impl Found {
    fn push(&mut self, severity: Severity, code: IssueCode, field: Option<&str>, message: String) {
        self.issues.push(Issue {
            position: Some(self.position),
            severity,
            code,
            source_id: None,
            employee_id: None,
            field: field.map(str::to_string),
            message,
        });
    }

    /// The issues, each naming the member by `source_id`.
    fn into_issues(self, source_id: &str) -> Vec<Issue> {
        let mut issues = self.issues;
        for i in &mut issues {
            i.source_id = Some(source_id.to_string());
        }
        issues
    }

    /// A date field: `None` when blank or not a date (an error).
    fn date(&mut self, field: &str, v: &Option<String>) -> Option<Date> {
        let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match s.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                self.push(
                    Severity::Error,
                    IssueCode::BadDate,
                    Some(field),
                    format!("{field} is not a date in YYYY-MM-DD form"),
                );
                None
            }
        }
    }

    /// False (and an issue of `severity`) when `v` is not a valid email address.
    fn email_ok(&mut self, field: &str, v: &Option<String>, severity: Severity) -> bool {
        if let Some(e) = v
            && !valid_email(e)
        {
            self.push(
                severity,
                IssueCode::MalformedEmail,
                Some(field),
                format!("{field} is not a valid email address"),
            );
            return false;
        }
        true
    }
}

/// The member's dates as parsed: date of birth, start, original start, end.
struct Dates {
    dob: Option<Date>,
    start: Option<Date>,
    original: Option<Date>,
    end: Option<Date>,
}

fn dates(found: &mut Found, m: &SourceMember, settings: &Settings, today: Date) -> Dates {
    let dob = if settings.redact_fields.contains("date_of_birth") {
        None
    } else {
        found.date("date_of_birth", &m.date_of_birth)
    };
    let start = found.date("start_date", &m.start_date);
    let original = found.date("original_start_date", &m.original_start_date);
    let end = found.date("end_date", &m.end_date);
    if let Some(d) = dob
        && d > today
    {
        found.push(
            Severity::Error,
            IssueCode::DobInFuture,
            Some("date_of_birth"),
            "date of birth is in the future".into(),
        );
    }
    Dates {
        dob,
        start,
        original,
        end,
    }
}

/// The directory email and secondary email: the work email, or the personal one when
/// `email_fallback_personal` and there is no work email.
fn emails(
    found: &mut Found,
    m: &mut SourceMember,
    settings: &Settings,
) -> (Option<String>, Option<String>) {
    let work = clean(m.work_email.take());
    let personal = clean(m.personal_email.take());
    found.email_ok("work_email", &work, Severity::Error);
    let uses_personal = work.is_none() && settings.email_fallback_personal;
    let personal_ok = found.email_ok(
        "personal_email",
        &personal,
        if uses_personal {
            Severity::Error
        } else {
            Severity::Warning
        },
    );
    let (email, secondary) = match (work, personal) {
        (Some(w), p) => (Some(w), if personal_ok { p } else { None }),
        (None, p) if settings.email_fallback_personal => (p, None),
        (None, _) => (None, None),
    };
    if settings.redact_fields.contains("secondary_email") {
        (email, None)
    } else {
        (email, secondary)
    }
}

/// Whether a directory row's email is its member's work email as the source last gave
/// it (an incremental fetch resolves a manager outside it so): not edited in Roster,
/// not merged away, and kept beside a secondary email, which [`normalise`] keeps only
/// beside a work email. A row without one may hold the personal email standing in for
/// a missing work email, whatever the fallback setting says now (it may have changed).
pub fn holds_work_email(email: &str, edited: bool, secondary_kept: bool, merged: bool) -> bool {
    !merged && !edited && !email.is_empty() && secondary_kept
}

/// The directory email [`normalise`] gives `m`, before it is validated: as `emails`
/// chooses it (the work email, or the personal one when `email_fallback_personal`
/// and there is no work email), trimmed; `None` when blank. Read without taking the
/// member ([`crate::plan::Part`] compares it with the member's row).
pub(crate) fn directory_email<'m>(m: &'m SourceMember, settings: &Settings) -> Option<&'m str> {
    nonblank(m.work_email.as_deref()).or_else(|| {
        nonblank(m.personal_email.as_deref()).filter(|_| settings.email_fallback_personal)
    })
}

/// Warnings about a reporting line that cannot be linked.
fn manager_warnings(found: &mut Found, manager: &ManagerRef) {
    match manager {
        ManagerRef::NoWorkEmail { source_id } => found.push(
            Severity::Warning,
            IssueCode::ManagerNoWorkEmail,
            Some("manager_email"),
            format!("manager {source_id} has no work email; reporting line not linked"),
        ),
        ManagerRef::NotInSnapshot { source_id } => found.push(
            Severity::Warning,
            IssueCode::ManagerNotInSync,
            Some("manager_email"),
            format!("manager {source_id} is not in the sync; reporting line not linked"),
        ),
        _ => {}
    }
}

/// The mapping as normalising reads it, made once for all members: the mapped fields
/// neither redacted nor mapped to a redacted name, in the order of their demographic
/// names (a stable sort: of two fields mapped to one name, the later in the mapping
/// wins), each as (associated, demographic, source key).
pub struct Mapping<'s> {
    fields: Vec<(bool, &'s str, &'s str)>,
    /// Each of `fields` by its source key: (key, where in `fields`), in key order.
    by_key: Vec<(&'s str, usize)>,
}

impl<'s> Mapping<'s> {
    pub fn new(settings: &'s Settings) -> Self {
        let redacted = |f: &str| settings.redact_fields.contains(f);
        let mut fields: Vec<(bool, &str, &str)> = settings
            .mapping
            .iter()
            .filter(|mf| !redacted(&mf.source_key) && !redacted(&mf.demographic))
            .map(|mf| {
                let associated = mf.kind == FieldKind::Associated;
                (associated, mf.demographic.as_str(), mf.source_key.as_str())
            })
            .collect();
        fields.sort_by(|a, b| a.1.cmp(b.1));
        let mut by_key: Vec<(&str, usize)> =
            fields.iter().enumerate().map(|(i, f)| (f.2, i)).collect();
        by_key.sort_unstable();
        Mapping { fields, by_key }
    }
}

/// The mapped source fields: (demographics, associated fields).
pub(crate) fn mapped(m: &SourceMember, mapping: &Mapping<'_>) -> (FieldMap, FieldMap) {
    // The member's fields and the mapped keys, both in key order, walked together
    // once (a binary search of the fields for each key, and before it a scan of the
    // packed map for each, were 6–7 % of a daily full sync's plan; issue #15).
    let mut values: Vec<Option<&str>> = vec![None; mapping.fields.len()];
    let mut fields = m.fields.iter().peekable();
    for &(key, at) in &mapping.by_key {
        while fields.next_if(|&(k, _)| k < key).is_some() {}
        values[at] = match fields.peek() {
            Some(&(k, v)) if k == key => Some(v),
            _ => named_value(m, key),
        };
    }
    // In the order of the names: each appended after the last (`FieldMap`'s
    // `FromIterator`), not looked up; a name mapped twice is replaced by the later.
    let of = |associated: bool| {
        let kind = mapping.fields.iter().zip(&values);
        kind.filter(|(f, _)| f.0 == associated)
            .filter_map(|(&(_, name, _), &value)| Some((name, nonblank(value)?)))
            .collect::<FieldMap>()
    };
    (of(false), of(true))
}

/// Normalise one member. Errors skip the member; warnings are returned alongside.
pub fn normalise(
    m: SourceMember,
    settings: &Settings,
    today: Date,
) -> (Option<Record>, Vec<Issue>) {
    normalise_mapped(m, settings, &Mapping::new(settings), today)
}

/// [`normalise`] with the settings' mapping made (once for many members).
pub fn normalise_mapped(
    mut m: SourceMember,
    settings: &Settings,
    mapping: &Mapping<'_>,
    today: Date,
) -> (Option<Record>, Vec<Issue>) {
    let pos = m.position;
    let mut found = Found {
        issues: Vec::new(),
        position: pos,
    };
    let redacted = |f: &str| settings.redact_fields.contains(f);
    let Dates {
        dob,
        start,
        original,
        end,
    } = dates(&mut found, &m, settings, today);
    let (email, secondary) = emails(&mut found, &mut m, settings);

    let employee_id = match settings.employee_ids {
        EmployeeIds::Source => clean(Some(m.source_id.clone())),
        EmployeeIds::Generate => None,
    };
    let has_key = match settings.employee_ids {
        EmployeeIds::Source => employee_id.is_some(),
        EmployeeIds::Generate => !m.source_id.trim().is_empty(),
    };
    if email.is_none() && !has_key {
        found.push(
            Severity::Error,
            IssueCode::NoIdentifier,
            None,
            "member has neither an email nor an employee ID".into(),
        );
    }
    if let (Some(s), Some(e)) = (original.or(start), end)
        && e < s
    {
        found.push(
            Severity::Warning,
            IssueCode::EndBeforeStart,
            Some("end_date"),
            "end date is before the start date".into(),
        );
    }
    manager_warnings(&mut found, &m.manager);

    let phone = if redacted("phone") {
        None
    } else {
        clean(m.phone.take()).map(|p| {
            if settings.phone_plus_prefix && !p.starts_with('+') {
                format!("+{p}")
            } else {
                p
            }
        })
    };
    let (demographics, associated) = mapped(&m, mapping);
    let issues = found.into_issues(&m.source_id);
    if issues.iter().any(Issue::is_error) {
        return (None, issues);
    }
    // Rehire: the current period starts later than the first one.
    let (start_date, latest_rehire_date) = match (original, start) {
        (Some(o), Some(s)) if o < s => (Some(o), Some(s)),
        (o, s) => (o.or(s), None),
    };
    let record = Record {
        source_id: m.source_id,
        position: pos,
        employee_id,
        email,
        secondary_email: secondary,
        first_name: clean(m.given_name),
        last_name: clean(m.family_name),
        preferred_name: if redacted("preferred_name") {
            None
        } else {
            clean(m.preferred_name)
        },
        date_of_birth: dob,
        start_date,
        latest_rehire_date,
        end_date: end,
        manager: m.manager,
        phone,
        demographics,
        associated,
        source_active: m.active.unwrap_or(true),
        exclude: m.exclude,
    };
    (Some(record), issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// [`trim`] is `str::trim`: its shortcut never keeps a character `str::trim`
        /// takes off (ASCII and other whitespace, and controls that are not whitespace).
        #[test]
        fn trim_is_str_trim(s in r"[ \t\n\r\x0B\x0C\x1C-\x1F\x7F\x{85}\x{A0}\x{2000}\x{3000}a-z0-9@.é]{0,12}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    proptest::proptest! {
        /// The common shape is an address the parser accepts, and [`valid_email`] is
        /// the parser's answer (text of the characters that matter at the edges of
        /// each rule, and addresses of the common shape with them spliced in).
        #[test]
        fn valid_email_is_the_parsers_answer(
            s in r"[a-zA-Z0-9._+@\-<>\x22 é!#]{0,24}",
            local in r"[a-z.+\-]{0,4}|[a-z]{62,66}|[a-z0-9._+\-]{60,70}",
            labels in proptest::collection::vec(r"[a-z\-_]{0,3}|[a-z]{2,4}|[a-z]{61,65}|[a-zA-Z0-9\-]{60,66}", 0..5),
        ) {
            let address = format!("{local}@{}", labels.join("."));
            for text in [s.as_str(), address.as_str()] {
                let parsed = parsed_valid_email(text);
                proptest::prop_assert!(!plainly_valid_email(text) || parsed, "{:?}", text);
                proptest::prop_assert_eq!(valid_email(text), parsed, "{:?}", text);
            }
        }
    }

    #[rstest::rstest]
    #[case::plain("ada.lovelace+work@mail.example.org", true)]
    #[case::hyphens("a-b@x-y.example", true)]
    #[case::one_label("a@localhost", false)]
    #[case::dot_first(".a@x.example", false)]
    #[case::dots("a..b@x.example", false)]
    #[case::label_hyphen_start("a@-x.example", false)]
    #[case::label_hyphen_end("a@x-.example", false)]
    #[case::long_local(&format!("{}@x.example", "a".repeat(65)), false)]
    #[case::long_label(&format!("a@{}.example", "b".repeat(64)), false)]
    #[case::other_atext("o'brien@x.example", false)]
    fn the_common_shape_is_told_at_once(#[case] s: &str, #[case] plain: bool) {
        assert_eq!(plainly_valid_email(s), plain, "{s}");
        assert!(!plain || parsed_valid_email(s), "{s}");
    }

    proptest::proptest! {
        /// [`email_key_ref`] is the trimmed text in lower case, borrowed when the text
        /// is ASCII and already so.
        #[test]
        fn an_email_key_is_the_trimmed_text_in_lower_case(s in r"[ \ta-zA-Z0-9@.+_\x{C9}\x{E9}\x{130}\x{A0}]{0,16}") {
            let key = email_key_ref(&s);
            let want = s.trim().to_lowercase();
            proptest::prop_assert_eq!(&*key, want.as_str());
            let borrowed = matches!(key, std::borrow::Cow::Borrowed(_));
            let t = s.trim();
            proptest::prop_assert_eq!(borrowed, t.is_ascii() && want == t);
        }
    }

    #[rstest::rstest]
    #[case::empty("", "")]
    #[case::visible("a@x.example", "a@x.example")]
    #[case::spaces(" a ", "a")]
    #[case::tab_last("a\t", "a")]
    #[case::no_break_space("\u{a0}a", "a")]
    #[case::ideographic_space("a\u{3000}", "a")]
    #[case::not_whitespace("\u{1f}a\u{7f}", "\u{1f}a\u{7f}")]
    #[case::letters_beyond_ascii("é", "é")]
    fn trim_takes_off_what_str_trim_does(#[case] s: &str, #[case] want: &str) {
        assert_eq!(trim(s), want);
    }

    /// [`directory_email`] is the email `normalise` gives the record, whichever
    /// emails the member has and whatever the fallback setting says.
    #[rstest::rstest]
    #[case::work(Some(" A@x.example "), Some("p@x.example"), true)]
    #[case::work_no_fallback(Some("a@x.example"), None, false)]
    #[case::personal_fallback(None, Some(" P@x.example"), true)]
    #[case::personal_no_fallback(None, Some("p@x.example"), false)]
    #[case::blank_work_fallback(Some("  "), Some("p@x.example"), true)]
    #[case::blank_work_no_fallback(Some(""), Some("p@x.example"), false)]
    #[case::none_at_all(None, None, true)]
    fn the_directory_email_is_the_records(
        #[case] work: Option<&str>,
        #[case] personal: Option<&str>,
        #[case] fallback: bool,
    ) {
        let settings = Settings {
            email_fallback_personal: fallback,
            ..Settings::default()
        };
        let mut m = SourceMember::new("m1", 1);
        m.work_email = work.map(str::to_string);
        m.personal_email = personal.map(str::to_string);
        let chosen = directory_email(&m, &settings).map(str::to_string);
        let (record, _) = normalise(m, &settings, jiff::civil::date(2026, 1, 1));
        assert_eq!(chosen, record.and_then(|r| r.email));
    }

    /// The mapped values go into the demographics and associated fields whatever the
    /// mapping's order (the maps are built in key order); for a demographic mapped
    /// twice the later mapping wins; a redacted source field is left out.
    #[test]
    fn mapped_values_are_the_mappings_in_any_order_the_later_winning() {
        use crate::settings::{FieldKind, MappedField};
        let field = |source: &str, demographic: &str, kind: FieldKind| MappedField {
            source_key: source.into(),
            demographic: demographic.into(),
            kind,
            privacy: None,
        };
        let mut settings = Settings {
            mapping: vec![
                field("job_title", "Zeta", FieldKind::Default),
                field("office", "Alpha", FieldKind::Hidden),
                field("department", "Zeta", FieldKind::Default),
                field("work_id", "Buddy", FieldKind::Associated),
                field("absent", "Beta", FieldKind::Default),
                field("given_name", "Alpha", FieldKind::Default),
                field("work_city", "Ally", FieldKind::Associated),
            ],
            ..Settings::default()
        };
        let mut m = SourceMember::new("m1", 1);
        m.given_name = Some(" Ada ".into());
        for (key, value) in [
            ("department", "Eng"),
            ("job_title", "Chef"),
            ("office", "HQ"),
            ("work_city", "Oslo"),
            ("work_id", " E7 "),
        ] {
            m.fields.insert(key, value);
        }
        let (demographics, associated) = mapped(&m, &Mapping::new(&settings));
        let pairs = |f: &FieldMap| -> Vec<(String, String)> {
            f.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let owned = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            pairs(&demographics),
            owned(&[("Alpha", "Ada"), ("Zeta", "Eng")])
        );
        assert_eq!(
            pairs(&associated),
            owned(&[("Ally", "Oslo"), ("Buddy", "E7")])
        );
        settings.redact_fields.insert("given_name".into());
        let (demographics, _) = mapped(&m, &Mapping::new(&settings));
        assert_eq!(
            pairs(&demographics),
            owned(&[("Alpha", "HQ"), ("Zeta", "Eng")])
        );
    }

    /// A record's demographics are kept until the plan is made (and moved into the
    /// new employee): no spare room in them.
    #[test]
    fn mapped_demographics_keep_no_spare_room() {
        let settings = Settings::default();
        let mut m = SourceMember::new("m1", 1);
        for (key, _) in crate::fields::DEFAULT_DEMOGRAPHICS {
            m.fields.insert(*key, "x");
        }
        let (demographics, _) = mapped(&m, &Mapping::new(&settings));
        assert_eq!(
            demographics.len(),
            crate::fields::DEFAULT_DEMOGRAPHICS.len()
        );
        assert_eq!(demographics.spare_room(), 0);
    }
}
