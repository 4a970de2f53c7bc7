//! The API's wire types (and their OpenAPI schemas). Request bodies refuse unknown
//! fields, so a typo is an error naming the field rather than silently ignored.
//!
//! One module per resource, as `api/*` is; everything is re-exported here.

mod access;
mod csv;
mod events;
mod imports;
mod integrations;
mod privacy;
mod reviews;
mod shared;
mod users;

pub use access::*;
pub use csv::*;
pub use events::*;
pub use imports::*;
pub use integrations::*;
pub use privacy::*;
pub use reviews::*;
pub use shared::*;
pub use users::*;
