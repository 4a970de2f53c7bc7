//! The contract every [`Store`](crate::Store) adapter passes.
//!
//! Compiled with the `contract` feature only (an adapter turns it on from its
//! dev-dependencies). Each test is a public async function taking a fresh, empty
//! store and panicking with a clear message when the store breaks the contract. An
//! adapter runs all of them, each as its own `#[tokio::test]`, with
//! [`store_contract_tests!`](crate::store_contract_tests):
//!
//! ```text
//! roster_store::store_contract_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SqliteStore::open(dir.path().join("t.db").to_str().unwrap()).await.unwrap();
//!     (store, dir) // the second value is kept alive for the test's duration
//! });
//! ```
//!
//! What the suite pins down beyond the trait's signatures:
//! - `directory` and `employees` return employees in key order; creates get keys in
//!   entry order.
//! - An empty `Employee::email` means "no email": any number of employees may have
//!   none, and `find_employee("")` finds nobody.
//! - Uniqueness of employee ID and (case-insensitive) email is per account, checked
//!   after the whole changeset is applied (two employees may swap them).
//! - Operations naming another account's rows see nothing: reads are empty,
//!   `save_integration`, `lock_sync`, `mark_delivered` and writes touching them fail
//!   with `NotFound`, `delete_integration` returns `false`, `unlock_sync` does nothing.
//! - `outbox` lists undelivered messages oldest first; a message's `created_at` is the
//!   `finished_at` of the changeset that queued it.
//! - `IntegrationUpdate` fields that are `None` leave the stored value as it is.
//! - `import` returns, for applied entries, `after` as the employee is now in the
//!   directory (exactly what was written while nothing changed it since); for entries
//!   that were not applied, `after` as recorded.
//!
//! The tests are grouped by section, one file each; a section lists its tests next
//! to them (its `__contract_<section>!` macro), and [`store_contract_tests!`](crate::store_contract_tests) runs
//! every section. A test left out of its section's list fails the store crate's own
//! check (`every_contract_test_is_listed`), so none silently never runs.

// The contract is a test suite compiled into the library (the adapters' tests call it):
// like any test, it panics with `unwrap()` on what must not fail.
#![allow(clippy::unwrap_used)]

mod fixtures;
pub mod migrations;

pub mod access;
pub mod accounts;
pub mod counts;
pub mod directory;
pub mod erasure;
pub mod feed;
pub mod fleet;
pub mod history;
pub mod imports;
pub mod integrations;
pub mod jobs;
pub mod locks;
pub mod privacy;
pub mod reviews;
pub mod selection;
pub mod writes;

pub use fixtures::*;

/// Expands to one `#[tokio::test]` per contract test. `$make` is a closure returning
/// a future of `(store, guard)`: the store under test, fresh and empty, and anything
/// that must live as long as the test (a temporary directory; `()` if nothing).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::__contract_fleet! { $make }
        $crate::__contract_accounts! { $make }
        $crate::__contract_integrations! { $make }
        $crate::__contract_directory! { $make }
        $crate::__contract_selection! { $make }
        $crate::__contract_writes! { $make }
        $crate::__contract_counts! { $make }
        $crate::__contract_history! { $make }
        $crate::__contract_privacy! { $make }
        $crate::__contract_feed! { $make }
        $crate::__contract_erasure! { $make }
        $crate::__contract_locks! { $make }
        $crate::__contract_imports! { $make }
        $crate::__contract_access! { $make }
        $crate::__contract_reviews! { $make }
        $crate::__contract_jobs! { $make }
    };
}

/// One section's tests: as `#[tokio::test]`s on `$make`'s stores, or (`@names`) as
/// the list of their names.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_section {
    ($module:ident [$($name:ident),+ $(,)?] @names) => {
        &[$(stringify!($name)),+]
    };
    ($module:ident [$($name:ident),+ $(,)?] $make:expr) => {
        $(
            #[::tokio::test]
            async fn $name() {
                let (store, _guard) = ($make)().await;
                $crate::contract::$module::$name(&store).await;
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The section files, their text and their lists.
    fn sections() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
        vec![
            (
                "fleet",
                include_str!("fleet.rs"),
                crate::__contract_fleet!(@names),
            ),
            (
                "accounts",
                include_str!("accounts.rs"),
                crate::__contract_accounts!(@names),
            ),
            (
                "integrations",
                include_str!("integrations.rs"),
                crate::__contract_integrations!(@names),
            ),
            (
                "directory",
                include_str!("directory.rs"),
                crate::__contract_directory!(@names),
            ),
            (
                "selection",
                include_str!("selection.rs"),
                crate::__contract_selection!(@names),
            ),
            (
                "erasure",
                include_str!("erasure.rs"),
                crate::__contract_erasure!(@names),
            ),
            (
                "writes",
                include_str!("writes.rs"),
                crate::__contract_writes!(@names),
            ),
            (
                "counts",
                include_str!("counts.rs"),
                crate::__contract_counts!(@names),
            ),
            (
                "history",
                include_str!("history.rs"),
                crate::__contract_history!(@names),
            ),
            (
                "feed",
                include_str!("feed.rs"),
                crate::__contract_feed!(@names),
            ),
            (
                "privacy",
                include_str!("privacy.rs"),
                crate::__contract_privacy!(@names),
            ),
            (
                "locks",
                include_str!("locks.rs"),
                crate::__contract_locks!(@names),
            ),
            (
                "imports",
                include_str!("imports.rs"),
                crate::__contract_imports!(@names),
            ),
            (
                "access",
                include_str!("access.rs"),
                crate::__contract_access!(@names),
            ),
            (
                "reviews",
                include_str!("reviews.rs"),
                crate::__contract_reviews!(@names),
            ),
            (
                "jobs",
                include_str!("jobs.rs"),
                crate::__contract_jobs!(@names),
            ),
        ]
    }

    /// Every `pub async fn NAME(store: &dyn Store)` of a section is in its list (and
    /// only those), every section runs from [`store_contract_tests!`](crate::store_contract_tests), and every file
    /// of the folder is a section (or the fixtures, or the migration fixtures).
    #[test]
    fn every_contract_test_is_listed() {
        let top = include_str!("mod.rs");
        let mut known = BTreeSet::from(
            ["mod.rs", "fixtures.rs", "migrations.rs", "migrations"].map(str::to_string),
        );
        for (section, text, listed) in sections() {
            let defined: BTreeSet<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("pub async fn "))
                .filter(|l| l.contains("(store: &dyn Store)"))
                .filter_map(|l| l.split('(').next())
                .collect();
            let listed: BTreeSet<&str> = listed.iter().copied().collect();
            assert_eq!(
                defined, listed,
                "the tests of {section}.rs and its list differ"
            );
            assert!(
                top.contains(&format!("$crate::__contract_{section}! {{ $make }}")),
                "store_contract_tests! does not run {section}"
            );
            known.insert(format!("{section}.rs"));
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/contract");
        let files: BTreeSet<String> = std::fs::read_dir(dir)
            .expect("the contract folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            files, known,
            "a file of src/contract is not a listed section"
        );
    }
}
