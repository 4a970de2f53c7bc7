//! What the notify integration tests share: an engine on a fresh SQLite file with a
//! fixed clock, and a worker factory that has no sources.
#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use async_trait::async_trait;
use roster_engine::worker::SourceFactory;
use roster_engine::{Cipher, Engine, FixedClock};
use roster_source::Source;
use roster_store::{Integration, Store};

pub struct NoSources;

#[async_trait]
impl SourceFactory for NoSources {
    async fn source(&self, _: &Arc<Engine>, _: &Integration) -> Result<Box<dyn Source>, String> {
        Err("no sources in this test".into())
    }
}

pub struct World {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub clock: Arc<FixedClock>,
    pub cipher: Cipher,
    _dir: tempfile::TempDir,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap(),
    );
    let clock = Arc::new(FixedClock::new("2026-03-02T10:00:00Z".parse().unwrap()));
    let cipher = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
    let engine = Engine::open(store.clone(), clock.clone(), cipher.clone(), "acme")
        .await
        .unwrap();
    World {
        engine,
        store,
        clock,
        cipher,
        _dir: dir,
    }
}
