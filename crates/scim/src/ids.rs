//! Identifiers: a user's `id` and `userName`, a group's `id`, and what `active` means.

use roster_core::Employee;
use roster_core::employee::EmployeeKey;
use sha2::{Digest, Sha256};

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

/// An employee's `userName`: the email, or [`fallback_user_name`] without one.
pub fn user_name(e: &Employee) -> String {
    if e.email.is_empty() {
        fallback_user_name(e.key)
    } else {
        e.email.clone()
    }
}

/// The SCIM `id` of an employee: the store key in decimal. It never changes, also
/// across email or employee-ID changes and merges.
pub fn user_id(key: EmployeeKey) -> String {
    key.to_string()
}

/// The store key of a SCIM user `id` ([`user_id`]'s text exactly), if it is one.
pub fn key_of(id: &str) -> Option<EmployeeKey> {
    let key: EmployeeKey = id.parse().ok()?;
    (user_id(key) == id).then_some(key)
}

/// The SCIM `active`: active and not merged into another employee.
pub fn is_active(e: &Employee) -> bool {
    e.active && e.merged_into.is_none()
}

/// The stable id of the group for `value` of `demographic`: 32 hex digits, the first
/// 16 bytes of SHA-256 over `roster-group`, the demographic and the value (each
/// followed by a NUL byte). The same pair always gives the same id; different pairs
/// practically never collide.
pub fn group_id(demographic: &str, value: &str) -> String {
    let mut h = Sha256::new();
    for part in ["roster-group", demographic, value] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}
