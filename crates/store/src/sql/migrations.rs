//! What both backends' migrations share: a list of embedded files per backend
//! (`(version, description, sql)`, oldest first, append only), and the refusal to
//! open a database a newer roster migrated.

use crate::{Result, StoreError};

/// One embedded migration: version, description (the file name's tail), SQL text.
pub type Embedded = (i64, &'static str, &'static str);

/// Every schema version of `migrations`, oldest first (numbers may skip).
pub fn known_versions(migrations: &[Embedded]) -> Vec<i64> {
    migrations.iter().map(|m| m.0).collect()
}

/// The newest schema version of `migrations`.
pub fn supported_version(migrations: &[Embedded]) -> i64 {
    migrations.last().map_or(0, |m| m.0)
}

/// `TooNew` when the database has a version this build does not know (`applied`:
/// the versions recorded in the database): a newer roster migrated it.
pub fn refuse_newer(applied: &[i64], migrations: &[Embedded]) -> Result<()> {
    if applied
        .iter()
        .any(|v| !migrations.iter().any(|m| m.0 == *v))
    {
        return Err(StoreError::TooNew {
            found: applied.iter().copied().max().unwrap_or_default(),
            supported: supported_version(migrations),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[Embedded] = &[(1, "init", ""), (2, "more", ""), (5, "later", "")];

    #[test]
    fn a_version_this_build_does_not_know_is_refused() {
        assert_eq!(known_versions(M), [1, 2, 5]);
        assert_eq!(supported_version(M), 5);
        assert!(refuse_newer(&[], M).is_ok());
        assert!(refuse_newer(&[1, 2], M).is_ok());
        assert!(matches!(
            refuse_newer(&[1, 2, 5, 6], M),
            Err(StoreError::TooNew {
                found: 6,
                supported: 5
            })
        ));
    }
}
