//! An employee as a SCIM User.

use roster_core::employee::EmployeeKey;

/// Prefix of the `userName` of an employee without an email.
pub const FALLBACK_PREFIX: &str = "roster-";

/// The `userName` of an employee without an email: `roster-<key>`. Unique because keys
/// are, and never an email (it has no `@`).
pub fn fallback_user_name(key: EmployeeKey) -> String {
    format!("{FALLBACK_PREFIX}{key}")
}

/// The key in a fallback `userName` (compared case-insensitively, as `userName` is).
pub fn fallback_key(user_name: &str) -> Option<EmployeeKey> {
    let prefix = user_name.get(..FALLBACK_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(FALLBACK_PREFIX) {
        return None;
    }
    let digits = &user_name[FALLBACK_PREFIX.len()..];
    let key: EmployeeKey = digits.parse().ok()?;
    (key.to_string() == digits).then_some(key)
}
