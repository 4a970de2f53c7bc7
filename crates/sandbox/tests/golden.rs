//! The generator pinned by a golden digest: the company, its members (hidden ones too)
//! and every member's custom-field values for a fixed seed, size and day hash to the
//! value below. A change to the generator that moves any byte fails here, so it is a
//! decision (update the digest, say why in the commit), never an accident that shifts
//! every benchmark and fixture built on the sandbox.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::config;
use roster_sandbox::SandboxHandle;
use sha2::{Digest, Sha256};

const GOLDEN: &str = "0136a5e678afb374d6befa48f59ddc4297b39ee55947ca0cff388f122311f805";

#[test]
fn the_generator_is_pinned_by_a_golden_digest() {
    let h = SandboxHandle::new(config(500)).unwrap();
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(&h.company()).unwrap());
    for m in h.members(true) {
        hash.update([u8::from(m.hidden)]);
        hash.update(serde_json::to_vec(&m.member).unwrap());
        let id = m.member["id"].as_str().unwrap().to_owned();
        hash.update(serde_json::to_vec(&h.custom_field_values(&id).unwrap()).unwrap());
    }
    let digest = format!("{:x}", hash.finalize());
    assert_eq!(
        digest, GOLDEN,
        "the sandbox generator's output changed; if on purpose, pin the new digest"
    );
}
