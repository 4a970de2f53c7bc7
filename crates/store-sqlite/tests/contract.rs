//! The `Store` contract suite against SQLite: a fresh temporary database file per test.

use roster_store_sqlite::SqliteStore;

roster_store::store_contract_tests!(|| async {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("roster.db");
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"))
        .await
        .expect("open");
    (store, dir)
});
