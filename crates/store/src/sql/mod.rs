//! The SQL layer both adapters share: everything that is not execution.
//!
//! The statements (one spelling both SQLite and PostgreSQL accept, `$N`
//! placeholders), the select lists, the codecs between Rust values and columns, the
//! row decoders and the operations built from them live here, once; there is no
//! sqlx in this crate. An adapter implements three small traits:
//!
//! - [`Columns`] for its row type: read column `i` as an integer, text, boolean or
//!   bytes;
//! - [`Executor`] (and [`Transaction`]) for its pool and its transactions: bind a
//!   [`Query`]'s arguments and run it. That is the adapter's single query entry
//!   point, where SQLite rewrites the placeholders (`$N` → `?N`, see
//!   [`placeholders`]);
//! - [`Adapter`]: how it begins a transaction, and the few operations that truly
//!   differ between the engines (the bulk write of a changeset, claiming due jobs and
//!   messages, closing).
//!
//! Every type implementing [`Adapter`] is a [`Store`](crate::Store) (with
//! [`JobStore`](crate::JobStore) and [`AccessStore`](crate::AccessStore)): the
//! blanket implementations in `store`, `jobs` and `access` run the shared
//! statements on it. A schema or query change is one edit here (and a migration
//! per backend); the contract suite proves that both adapters agree.
//!
//! Where the engines differ and no one spelling serves (the employee select list,
//! a list parameter, substring search, row locks), [`Dialect`] names the variant.

mod access;
mod adapter;
pub mod codec;
mod dialect;
pub mod employee;
mod erasure;
pub mod feed;
mod history;
pub use history::employee_history_sql;
mod integrations;
mod jobs;
mod locks;
pub mod migrations;
pub mod part;
pub mod placeholders;
mod privacy;
mod query;
mod reads;
pub mod selection;
mod store;
mod subscriptions;
pub mod write;

pub use adapter::{Adapter, Begin};
pub use codec::{action, corrupt, integration_kind, trigger};
pub use dialect::{Dialect, ident};
pub use jobs::{JOB_SELECT, MESSAGE_SELECT, job_from_row, message_from_row, pending_from_row};
pub use query::{Arg, Columns, Executor, OnRow, Query, Transaction, each_row};
