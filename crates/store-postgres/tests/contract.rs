//! The `Store` contract suite against PostgreSQL: a fresh database per test on the
//! server named by `ROSTER_TEST_POSTGRES_URL` (see `roster_store_postgres::testing`).

use roster_store_postgres::testing::TestDb;

roster_store::store_contract_tests!(|| async {
    let db = TestDb::create().await;
    let store = db.store().await;
    (store, db)
});
