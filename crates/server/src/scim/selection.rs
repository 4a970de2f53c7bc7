//! A User filter's index part ([`IndexQuery`], planned by `roster_scim`) as the
//! store's [`EmployeeFilter`]: the same conditions, term for term. Both crates fold
//! the same way (`email_key` for emails, lower case for employee IDs), and the
//! store's contract suite checks its selection against [`EmployeeFilter::matches`].

use roster_scim::{Bound, IndexQuery, IndexTerm};
use roster_store::{EmployeeFilter, TimeBound};

/// The store's selection for an index query.
pub(super) fn filter_of(q: &IndexQuery) -> EmployeeFilter {
    match q {
        IndexQuery::All => EmployeeFilter::All,
        IndexQuery::Nothing => EmployeeFilter::Nothing,
        IndexQuery::Term(t) => term(t),
        IndexQuery::And(parts) => EmployeeFilter::And(parts.iter().map(filter_of).collect()),
        IndexQuery::Or(parts) => EmployeeFilter::Or(parts.iter().map(filter_of).collect()),
    }
}

fn term(t: &IndexTerm) -> EmployeeFilter {
    match t {
        IndexTerm::Key(keys) => EmployeeFilter::Keys(keys.clone()),
        IndexTerm::Email(v) => EmployeeFilter::Emails(v.clone()),
        IndexTerm::SecondaryEmail(v) => EmployeeFilter::SecondaryEmails(v.clone()),
        IndexTerm::SourceId(v) => EmployeeFilter::SourceIds(v.clone()),
        IndexTerm::EmployeeId(v) => EmployeeFilter::EmployeeIds(v.clone()),
        IndexTerm::Active(b) => EmployeeFilter::Served(*b),
        IndexTerm::LastModified(bound, at) => EmployeeFilter::Modified(
            match bound {
                Bound::Gt => TimeBound::Gt,
                Bound::Ge => TimeBound::Ge,
                Bound::Lt => TimeBound::Lt,
                Bound::Le => TimeBound::Le,
            },
            *at,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_core::Employee;

    /// The two reference semantics agree term for term.
    #[test]
    fn each_term_means_what_the_plan_means() {
        let t0 = jiff::Timestamp::UNIX_EPOCH;
        let e = Employee {
            key: 7,
            employee_id: "ÉMP-7".into(),
            source_id: Some("mbr_7".into()),
            email: " Ada@Example.COM".into(),
            secondary_email: Some("Ada@Home.example".into()),
            active: true,
            ..Employee::default()
        };
        let mut merged = e.clone();
        merged.merged_into = Some(1);
        let terms = [
            IndexTerm::Key(vec![7]),
            IndexTerm::Key(vec![8]),
            IndexTerm::Email(vec!["ada@example.com".into()]),
            IndexTerm::SecondaryEmail(vec!["ada@home.example".into()]),
            IndexTerm::SourceId(vec!["mbr_7".into()]),
            IndexTerm::SourceId(vec!["MBR_7".into()]),
            IndexTerm::EmployeeId(vec!["émp-7".into()]),
            IndexTerm::Active(true),
            IndexTerm::Active(false),
            IndexTerm::LastModified(Bound::Gt, t0),
            IndexTerm::LastModified(Bound::Ge, t0),
            IndexTerm::LastModified(Bound::Lt, t0),
            IndexTerm::LastModified(Bound::Le, t0),
        ];
        for t in terms {
            for emp in [&e, &merged] {
                assert_eq!(
                    term(&t).matches(emp, t0),
                    t.matches(emp, t0),
                    "{t:?} on {:?}",
                    emp.merged_into
                );
            }
        }
        let q = IndexQuery::Or(vec![
            IndexQuery::Nothing,
            IndexQuery::And(vec![
                IndexQuery::All,
                IndexQuery::Term(IndexTerm::Key(vec![7])),
            ]),
        ]);
        assert!(filter_of(&q).matches(&e, t0));
    }
}
