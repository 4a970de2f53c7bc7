//! What the history calls an import: one recorded run (a sync, a CSV import, an admin
//! edit, a rollback …), named by its id and kind. The store records imports; the
//! change feed ([`crate::feed`]) names the import each event comes from.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

/// An import's id, assigned by the store (increasing per store).
pub type ImportId = i64;

/// What kind of run produced an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum ImportKind {
    Sync,
    CsvImport,
    Rollback,
    /// An admin's edit (set email, exclude, include). Stored as `admin_edit`; rows
    /// written before it had its own word read `manual` (a word kept for triggers).
    #[serde(alias = "manual")]
    #[strum(to_string = "admin_edit", serialize = "manual")]
    AdminEdit,
    Merge,
    /// Due future end dates applied.
    Tick,
    /// An operator released a sync lock whose holder was gone (`roster unlock`).
    Unlock,
    /// Personal data of employees erased on request (`roster users erase`).
    Erasure,
    /// Former employees anonymised `retention_days` after their end date (the daily
    /// end-date job, `roster retention`).
    Retention,
}

impl ImportKind {
    /// The anonymisations: personal data erased on request and by retention. They
    /// cannot be rolled back, and they rewrite rows they record no entry for (other
    /// employees' references to the person).
    pub const ANONYMISATIONS: [ImportKind; 2] = [ImportKind::Erasure, ImportKind::Retention];

    /// Is it one of [`ImportKind::ANONYMISATIONS`]?
    pub fn is_anonymisation(self) -> bool {
        Self::ANONYMISATIONS.contains(&self)
    }

    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// From the name `as_str` gives, or `manual` (the word older versions stored for
    /// an admin edit); strum's `EnumString`.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::ImportKind::{self, *};

    #[rstest]
    #[case(Sync, "sync")]
    #[case(CsvImport, "csv_import")]
    #[case(Rollback, "rollback")]
    #[case(AdminEdit, "admin_edit")]
    #[case(Merge, "merge")]
    #[case(Tick, "tick")]
    #[case(Unlock, "unlock")]
    fn names_round_trip(#[case] kind: ImportKind, #[case] name: &str) {
        assert_eq!(kind.as_str(), name);
        assert_eq!(kind.to_string(), name);
        assert_eq!(ImportKind::parse(name), Some(kind));
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<ImportKind>(&json).unwrap(), kind);
    }

    #[rstest]
    #[case(Erasure, true)]
    #[case(Retention, true)]
    #[case(Sync, false)]
    #[case(CsvImport, false)]
    #[case(Rollback, false)]
    #[case(AdminEdit, false)]
    #[case(Merge, false)]
    #[case(Tick, false)]
    #[case(Unlock, false)]
    fn the_anonymisations_are_erasure_and_retention(
        #[case] kind: ImportKind,
        #[case] anonymises: bool,
    ) {
        assert_eq!(kind.is_anonymisation(), anonymises, "{kind}");
    }

    #[test]
    fn manual_is_the_old_word_for_an_admin_edit() {
        assert_eq!(ImportKind::parse("manual"), Some(AdminEdit));
        assert_eq!(
            serde_json::from_str::<ImportKind>("\"manual\"").unwrap(),
            AdminEdit
        );
        assert_eq!(ImportKind::parse("nope"), None);
    }
}
