//! The admin's privacy marks on mapped demographics (issue #17): which are
//! personal data, erased with a person's data, and which are kept for reporting.

use super::{MappedField, Settings, SettingsError};
use crate::fields::Privacy;

impl MappedField {
    /// Whether this demographic is personal data or kept (the admin's mark or the
    /// default).
    pub fn privacy(&self) -> Privacy {
        self.privacy
            .unwrap_or_else(|| Privacy::default_for(&self.source_key))
    }
}

impl Settings {
    /// The mapped demographics whose privacy is `mark`, in mapping order, each once.
    pub fn demographics_marked(&self, mark: Privacy) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.mapping.iter().filter(|m| m.privacy() == mark) {
            if !out.contains(&m.demographic) {
                out.push(m.demographic.clone());
            }
        }
        out
    }

    /// The demographics erased with a person's data (see [`crate::privacy`]).
    pub fn personal_demographics(&self) -> Vec<String> {
        self.demographics_marked(Privacy::Personal)
    }

    /// Mark the `named` demographics `mark` and every other mapped one `rest`.
    fn mark_demographics(&mut self, named: &[String], mark: Privacy, rest: Privacy) {
        for m in &mut self.mapping {
            m.privacy = Some(if named.contains(&m.demographic) {
                mark
            } else {
                rest
            });
        }
    }

    /// The demographics a marks setting lists: `personal_demographics` or
    /// `keep_demographics`.
    pub(super) fn marks(&self, key: &str) -> Vec<String> {
        self.demographics_marked(mark_of(key))
    }

    /// Set a marks setting: the named (mapped) demographics get its mark, every
    /// other mapped one the opposite.
    pub(super) fn set_marks(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let named = self.known_demographics(key, value)?;
        let (mark, rest) = match mark_of(key) {
            Privacy::Personal => (Privacy::Personal, Privacy::Keep),
            Privacy::Keep => (Privacy::Keep, Privacy::Personal),
        };
        self.mark_demographics(&named, mark, rest);
        Ok(())
    }
}

fn mark_of(key: &str) -> Privacy {
    if key == "personal_demographics" {
        Privacy::Personal
    } else {
        Privacy::Keep
    }
}
