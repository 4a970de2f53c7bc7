//! The worker's source factory builds every Justworks source on one shared HTTP
//! client (one TLS setup and connection pool), and those sources read members.

use std::sync::Arc;

use roster_engine::worker::SourceFactory;
use roster_engine::{Cipher, Engine, SystemClock};
use roster_source::FetchRequest;
use roster_wiring::{JustworksSources, StoredConfig, static_secrets};
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_share_one_http_client_and_fetch() {
    let sandbox = roster_sandbox::start(
        roster_sandbox::SandboxConfig {
            members: 25,
            ..roster_sandbox::SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().expect("utf-8"))
            .await
            .expect("store");
    let engine = Arc::new(
        Engine::open(
            Arc::new(store),
            Arc::new(SystemClock),
            Cipher::from_base64(&Cipher::generate_base64()).expect("key"),
            "default",
        )
        .await
        .expect("engine"),
    );
    let config = StoredConfig {
        base_url: sandbox.base_url(),
        authorize_url: None,
        token_url: None,
        client_id: String::new(),
        redirect_uri: None,
        scopes: Vec::new(),
        requests_per_second: None,
        mode: "static".into(),
    };
    let token = SecretString::from(sandbox.mint_token(&roster_sandbox::all_scopes()));
    let mut integrations = Vec::new();
    for name in ["first", "second"] {
        integrations.push(
            engine
                .connect(
                    roster_store::IntegrationKind::Justworks,
                    name,
                    serde_json::to_value(&config).expect("json"),
                    Some(&static_secrets(&token)),
                )
                .await
                .expect("connect"),
        );
    }

    let factory = JustworksSources::default();
    assert!(factory.http().is_empty());
    for i in &integrations {
        let source = factory.source(&engine, i).await.expect("source");
        let snapshot = source.fetch(FetchRequest::default()).await.expect("fetch");
        assert_eq!(snapshot.members.len(), 25);
    }
    assert_eq!(factory.http().len(), 1, "one client for both integrations");
}
