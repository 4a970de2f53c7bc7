//! Erasure through PostgreSQL's tables (issue #17): after `Store::anonymise`, no
//! erased value is in any row of any table (each row read whole as text).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use roster_store::Store;
use roster_store::contract::erasure::{ERASED, erase_request, story};
use roster_store_postgres::testing::TestDb;
use sqlx::AssertSqlSafe;

/// Every row of every table of the schema, each as its text form (lower case).
async fn every_row(pool: &sqlx::PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(tables.len() > 15, "{tables:?}");
    let mut out = String::new();
    for t in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT t::text FROM \"{t}\" t")))
                .fetch_all(pool)
                .await
                .unwrap();
        for r in rows {
            out.push_str(&format!("{t}: {}\n", r.to_lowercase()));
        }
    }
    out
}

#[tokio::test]
async fn no_erased_value_is_left_in_any_table() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = store.ensure_account("acme").await.unwrap();
    let (q, _) = story(&store, a).await;
    let before = every_row(store.pool()).await;
    for v in ERASED {
        assert!(before.contains(&v.to_lowercase()), "the tables hold {v}");
    }
    store.anonymise(a, &erase_request(q.key)).await.unwrap();
    let after = every_row(store.pool()).await;
    for v in ERASED {
        let v = v.to_lowercase();
        let found: Vec<&str> = after.lines().filter(|l| l.contains(&v)).collect();
        assert!(found.is_empty(), "{v} is still stored: {found:#?}");
    }
    assert!(after.contains("former employee"));
}
