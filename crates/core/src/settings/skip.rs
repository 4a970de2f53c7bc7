//! A `do_not_import` rule (DESIGN §3: skip members by rule).

use serde::{Deserialize, Serialize};

use super::SettingsError;

/// A `do_not_import` rule: `field = value` or `field != value`, case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipRule {
    pub field: String,
    pub negate: bool,
    pub value: String,
}

impl SkipRule {
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let (field, negate, value) = if let Some((f, v)) = text.split_once("!=") {
            (f, true, v)
        } else if let Some((f, v)) = text.split_once('=') {
            (f, false, v)
        } else {
            return Err(SettingsError::Invalid {
                key: "do_not_import".into(),
                message: format!(
                    "rule {text:?} must look like `field = value` or `field != value`"
                ),
            });
        };
        let (field, value) = (field.trim(), value.trim());
        if field.is_empty() {
            return Err(SettingsError::Invalid {
                key: "do_not_import".into(),
                message: format!("rule {text:?} names no field"),
            });
        }
        Ok(Self {
            field: field.to_string(),
            negate,
            value: value.to_string(),
        })
    }
}

impl std::fmt::Display for SkipRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = if self.negate { "!=" } else { "=" };
        write!(f, "{} {op} {}", self.field, self.value)
    }
}
