//! The record of each import: who sent it, when, in which format, how many
//! records, and what it did to each resource (the records themselves are
//! written by the resources' own stores).

use crate::db::schema::imports::{self, dsl};
use crate::error::Error;
use crate::store::sql::found;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// An import as recorded.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct ImportRecord {
    pub id: Uuid,
    pub key_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub dry_run: bool,
    /// `json`, `ndjson` or `csv`.
    pub format: String,
    pub records: i32,
    /// What the import did, per resource (`{created, updated, unchanged}`).
    pub counts: Value,
}

/// Records `import`.
pub fn insert(conn: &mut PgConnection, import: &ImportRecord) -> Result<ImportRecord, Error> {
    Ok(diesel::insert_into(dsl::imports)
        .values(import)
        .returning(ImportRecord::as_returning())
        .get_result(conn)?)
}

/// Import `id`, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<ImportRecord, Error> {
    let row = dsl::imports.find(id).select(ImportRecord::as_select());
    found(row.first(conn), "import", id)
}
