//! Plain synchronous diesel functions over `&mut PgConnection`: the register's
//! reads and writes, free of HTTP types. Callers wrap writes in a transaction.
//!
//! The modules depend on each other in one direction only: the shared
//! machinery ([`sql`], [`text`], [`sort`], [`rows`], [`refs`],
//! [`identifiers`], [`tenure`], [`crud`]) depends on no table's module,
//! and this module only declares and re-exports, so no module here imports
//! one that imports it back.

pub mod api_keys;
pub mod areas;
pub mod crud;
pub mod events;
pub mod generate;
pub mod holders;
pub mod idempotency;
pub mod identifiers;
pub mod imports;
pub mod journal;
pub mod organizations;
pub mod participants;
pub mod people;
pub mod posts;
pub mod rate_limits;
pub mod refs;
pub mod roles;
pub mod rows;
pub mod secrets;
pub mod sort;
pub mod sql;
pub mod tenure;
pub mod text;

pub use rows::VersionCheck;
pub use sort::{After, CreatedSort, Keyset, NameSort, SortKey, SortOrder, SortValue};
