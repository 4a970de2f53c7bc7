//! OAuth scopes and their hierarchy (API.md §2.2).

use std::fmt;

/// One Justworks scope, with its wire name and a plain-words description.
struct ScopeDef {
    name: &'static str,
    words: &'static str,
    /// Bits this scope grants in addition to its own (its children).
    implies: u16,
}

pub(crate) const COMPANY_BASIC: u16 = 1 << 0;
pub(crate) const COMPANY_DETAIL: u16 = 1 << 1;
pub(crate) const MEMBER_BASIC: u16 = 1 << 3;
pub(crate) const MEMBER_DETAIL: u16 = 1 << 4;
pub(crate) const MEMBER_DOB: u16 = 1 << 5;
pub(crate) const MEMBER_SEX: u16 = 1 << 6;
pub(crate) const MEMBER_EMPLOYMENT: u16 = 1 << 7;
pub(crate) const MEMBER_TAX_ID: u16 = 1 << 9;
pub(crate) const DEDUCTIONS_READ: u16 = 1 << 13;

/// Scopes that need the consent page's extra checkbox.
pub(crate) const SENSITIVE: u16 = MEMBER_DOB | MEMBER_SEX;

const DEFS: [ScopeDef; 15] = [
    ScopeDef {
        name: "company.basic:read",
        words: "See the company's basic profile: name, addresses, departments and offices",
        implies: 0,
    },
    ScopeDef {
        name: "company.detail:read",
        words: "See the company's detailed profile, including its custom field definitions",
        implies: COMPANY_BASIC,
    },
    ScopeDef {
        name: "company.bank_account:read",
        words: "See the company's bank account (masked)",
        implies: 0,
    },
    ScopeDef {
        name: "member.basic:read",
        words: "See each member's basic profile: name, work email, job title, department, manager, office and dates",
        implies: 0,
    },
    ScopeDef {
        name: "member.detail:read",
        words: "See each member's detailed profile: home address, phone numbers, personal email and custom fields",
        implies: MEMBER_BASIC,
    },
    ScopeDef {
        name: "member.dob:read",
        words: "See each member's date of birth",
        implies: 0,
    },
    ScopeDef {
        name: "member.sex:read",
        words: "See each member's sex assigned at birth",
        implies: 0,
    },
    ScopeDef {
        name: "member.employment:read",
        words: "See each member's employment records and history",
        implies: 0,
    },
    ScopeDef {
        name: "member.pay:read",
        words: "See each member's pay and pay history",
        implies: 0,
    },
    ScopeDef {
        name: "member.tax_id:read",
        words: "See each member's U.S. Social Security number",
        implies: 0,
    },
    ScopeDef {
        name: "payroll:read",
        words: "See payrolls",
        implies: 0,
    },
    ScopeDef {
        name: "paystub:read",
        words: "See pay stubs",
        implies: 0,
    },
    ScopeDef {
        name: "time_off:read",
        words: "See time off policies, requests and balances",
        implies: 0,
    },
    ScopeDef {
        name: "deductions:read",
        words: "See deductions",
        implies: 0,
    },
    ScopeDef {
        name: "deductions:write",
        words: "Create and change deductions",
        implies: DEDUCTIONS_READ,
    },
];

/// A set of scopes as granted (not expanded); [`ScopeSet::allows`] applies the hierarchy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScopeSet(u16);

/// A scope name that the sandbox does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownScope(pub String);

impl ScopeSet {
    pub(crate) const ALL: ScopeSet = ScopeSet((1 << 15) - 1);

    /// Parses scope names separated by spaces (and/or commas).
    pub(crate) fn parse(text: &str) -> Result<Self, UnknownScope> {
        Self::from_names(text.split([' ', ',', '+']).filter(|s| !s.is_empty()))
    }

    pub(crate) fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, UnknownScope> {
        let mut bits = 0;
        for name in names {
            let name = name.trim();
            match DEFS.iter().position(|d| d.name == name) {
                Some(i) => bits |= 1 << i,
                None => return Err(UnknownScope(name.to_owned())),
            }
        }
        Ok(ScopeSet(bits))
    }

    /// The granted scopes plus everything they imply.
    pub(crate) fn expanded(self) -> u16 {
        let mut bits = self.0;
        for (i, def) in DEFS.iter().enumerate() {
            if bits & (1 << i) != 0 {
                bits |= def.implies;
            }
        }
        bits
    }

    /// Whether this set (with the hierarchy applied) includes `scope`.
    pub(crate) fn allows(self, scope: u16) -> bool {
        self.expanded() & scope == scope
    }

    pub(crate) fn contains_any(self, bits: u16) -> bool {
        self.0 & bits != 0
    }

    pub(crate) fn without(self, bits: u16) -> Self {
        ScopeSet(self.0 & !bits)
    }

    /// Each granted scope's name and description, in catalogue order.
    pub(crate) fn describe(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        DEFS.iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, d)| (d.name, d.words))
    }

    pub(crate) fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.expanded() == 0
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, _) in self.describe() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

/// Every scope name the sandbox knows, in catalogue order.
pub fn all_scopes() -> Vec<&'static str> {
    DEFS.iter().map(|d| d.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_detail_implies_basic() {
        let s = ScopeSet::parse("member.detail:read company.detail:read").unwrap();
        assert!(s.allows(MEMBER_BASIC));
        assert!(s.allows(COMPANY_BASIC));
        assert!(!s.allows(MEMBER_DOB));
        let b = ScopeSet::parse("member.basic:read").unwrap();
        assert!(!b.allows(MEMBER_DETAIL));
        let w = ScopeSet::parse("deductions:write").unwrap();
        assert!(w.allows(DEDUCTIONS_READ));
    }

    #[test]
    fn unknown_scope_is_named() {
        assert_eq!(
            ScopeSet::parse("member.basic:read member.basic.read"),
            Err(UnknownScope("member.basic.read".into()))
        );
    }

    #[test]
    fn display_round_trips() {
        let s = ScopeSet::parse("member.dob:read,member.basic:read").unwrap();
        assert_eq!(s.to_string(), "member.basic:read member.dob:read");
        assert_eq!(ScopeSet::parse(&s.to_string()).unwrap(), s);
        assert_eq!(ScopeSet::ALL.describe().count(), 15);
    }
}

#[cfg(test)]
mod constant_tests {
    use super::*;

    #[test]
    fn constants_match_catalogue() {
        for (bits, name) in [
            (COMPANY_BASIC, "company.basic:read"),
            (COMPANY_DETAIL, "company.detail:read"),
            (MEMBER_BASIC, "member.basic:read"),
            (MEMBER_DETAIL, "member.detail:read"),
            (MEMBER_DOB, "member.dob:read"),
            (MEMBER_SEX, "member.sex:read"),
            (MEMBER_EMPLOYMENT, "member.employment:read"),
            (MEMBER_TAX_ID, "member.tax_id:read"),
            (DEDUCTIONS_READ, "deductions:read"),
        ] {
            assert_eq!(
                ScopeSet::parse(name).unwrap(),
                ScopeSet::from_names([name]).unwrap()
            );
            assert_eq!(
                ScopeSet::parse(name).unwrap().expanded() & bits,
                bits,
                "{name}"
            );
            assert_eq!(ScopeSet::parse(name).unwrap().to_string(), name);
        }
    }
}
