//! `meta.version`: a weak ETag computed from the representation.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The weak ETag of a representation: `W/"<32 hex digits>"`, the first 16 bytes of the
/// SHA-256 of its JSON without `meta.version`. Any change to what a client can read
/// changes it.
pub fn version(representation: &Value) -> String {
    let mut v = representation.clone();
    if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("version");
    }
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    format!("W/\"{}\"", hex::encode(&digest[..16]))
}

/// Set `meta.version` from the rest of the representation.
pub(crate) fn stamp_version(representation: &mut Value) {
    let v = version(representation);
    if let Some(meta) = representation
        .get_mut("meta")
        .and_then(Value::as_object_mut)
    {
        meta.insert("version".into(), Value::String(v));
    }
}
