//! What the SQL adapters share besides execution: how values are spelled in their
//! columns. No sqlx here: each adapter binds and fetches, and decodes through these.

use roster_core::guard::Trigger;
use roster_core::plan::Action;
use serde::de::{DeserializeOwned, IntoDeserializer};

use crate::{IntegrationKind, Result, StoreError};

/// The error for a cell that does not decode; `what` names the column, never the
/// value.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} is not valid"))
}

/// A unit enum variant by its serde name (`snake_case`, aliases included).
fn by_name<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(s))
        .map_err(|_| corrupt(what))
}

/// `import_entries.action`: `create`, `update`, `deactivate` or `reactivate`.
pub fn action(s: &str) -> Result<Action> {
    by_name(s, "import_entries.action")
}

/// `imports.trigger_kind`: `manual` or `automatic`.
pub fn trigger(s: &str) -> Result<Trigger> {
    by_name(s, "imports.trigger_kind")
}

/// `integrations.kind`: `justworks` or `csv`.
pub fn integration_kind(s: &str) -> Result<IntegrationKind> {
    IntegrationKind::parse(s).ok_or_else(|| corrupt("integrations.kind"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_written() {
        for a in [
            Action::Create,
            Action::Update,
            Action::Deactivate,
            Action::Reactivate,
        ] {
            assert_eq!(action(a.as_str()).unwrap(), a);
        }
        for t in [Trigger::Manual, Trigger::Automatic] {
            assert_eq!(trigger(t.as_str()).unwrap(), t);
        }
        for k in [IntegrationKind::Justworks, IntegrationKind::Csv] {
            assert_eq!(integration_kind(k.as_str()).unwrap(), k);
        }
        assert!(matches!(action("restore"), Err(StoreError::Corrupt(_))));
        assert!(matches!(trigger("Manual"), Err(StoreError::Corrupt(_))));
        assert!(integration_kind("ldap").is_err());
    }
}
