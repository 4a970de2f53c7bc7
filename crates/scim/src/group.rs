//! Groups: one per value of each group demographic (`scim_group_demographics`).

use sha2::{Digest, Sha256};

use crate::ScimProvider;

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

impl ScimProvider {
    /// `meta.location` of a group.
    pub fn group_location(&self, id: &str) -> String {
        format!("{}/Groups/{id}", self.config().base_url)
    }
}
