//! An incremental fetch resolves managers outside it from the directory (issue #15):
//! which rows tell their member's work email, over the real SQLite store.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::date;
use roster_core::member::SourceMember;
use roster_engine::testing::{apply, person};
use roster_engine::{Cipher, Engine, FixedClock, SyncOptions};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};

/// Gives its members whole; on an incremental fetch, first asks what the directory
/// knows of the source ids in `ask` and keeps the answer.
struct Asking {
    members: Vec<SourceMember>,
    ask: Vec<String>,
    known: Mutex<Option<HashMap<String, Option<String>>>>,
}

#[async_trait]
impl Source for Asking {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(roster_engine::testing::acme())
    }
    async fn fetch(&self, request: FetchRequest) -> Result<Snapshot, SourceError> {
        if let Some(known) = &request.known {
            let answer = known.work_emails(&self.ask).await?;
            *self.known.lock().unwrap() = Some(answer);
        }
        Ok(Snapshot {
            members: self.members.clone(),
            complete: request.known.is_none(),
            ..Snapshot::default()
        })
    }
}

/// What the directory tells of `ask` on an incremental sync after a full one of
/// four members (both emails; the work email only; the personal email only; an
/// email an admin then edited), with the fallback to the personal email as given
/// from the start.
async fn known_after_import(fallback: bool, ask: &[&str]) -> Vec<(String, Option<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = roster_store_sqlite::SqliteStore::open(path.to_str().unwrap())
        .await
        .unwrap();
    let engine = Engine::open(
        Arc::new(store),
        Arc::new(FixedClock::on(date(2026, 11, 23))),
        Cipher::from_base64(&Cipher::generate_base64()).unwrap(),
        "t",
    )
    .await
    .unwrap();
    let i = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            "test",
            serde_json::json!({}),
            Some(b"secret"),
        )
        .await
        .unwrap();
    engine
        .update_settings(i.id, |s| {
            s.email_fallback_personal = fallback;
            Ok(())
        })
        .await
        .unwrap();
    let mut both = person("m1", "Ada", "ada@acme.example");
    both.personal_email = Some("ada@home.example".into());
    let work_only = person("m2", "Grace", "grace@acme.example");
    let mut personal_only = person("m3", "Alan", "x@acme.example");
    personal_only.work_email = None;
    personal_only.personal_email = Some("alan@home.example".into());
    let mut edited = person("m4", "Edsger", "edsger@acme.example");
    edited.personal_email = Some("edsger@home.example".into());
    let asking = |ask: &[&str]| Asking {
        members: vec![
            both.clone(),
            work_only.clone(),
            personal_only.clone(),
            edited.clone(),
        ],
        ask: ask.iter().map(|s| s.to_string()).collect(),
        known: Mutex::new(None),
    };
    engine.sync(i.id, &asking(&[]), apply()).await.unwrap();
    engine.set_email("m4", "e.d@acme.example").await.unwrap();
    let source = asking(ask);
    let incremental = SyncOptions {
        incremental: true,
        ..SyncOptions::default()
    };
    engine.sync(i.id, &source, incremental).await.unwrap();
    let mut known: Vec<(String, Option<String>)> = source
        .known
        .lock()
        .unwrap()
        .take()
        .expect("asked on the incremental fetch")
        .into_iter()
        .collect();
    known.sort();
    known
}

/// A row tells its member's work email when its email came from the source and
/// cannot be a personal one standing in for a missing work email: a secondary
/// email is kept beside it, or the fallback to the personal email is off. An
/// email an admin edited, a row without an email and an unknown id tell nothing.
#[tokio::test]
async fn a_row_tells_a_work_email_only_when_it_cannot_be_another() {
    let all = ["m1", "m2", "m3", "m4", "nobody"];
    let email = |id: &str, e: &str| (id.to_string(), Some(e.to_string()));
    assert_eq!(
        known_after_import(true, &all).await,
        [email("m1", "ada@acme.example")],
        "with the fallback on, only a row with a secondary email tells"
    );
    assert_eq!(
        known_after_import(false, &all).await,
        [
            email("m1", "ada@acme.example"),
            email("m2", "grace@acme.example")
        ],
        "with the fallback off, a row whose email came from the source tells"
    );
}
