//! External identifiers: `{scheme, value}` pairs by which district systems
//! name records. The `external_ids` table (kept by triggers) maps the
//! identifiers of live records to their owners, one owner per (entity
//! type, scheme, value).

use crate::{
    db::schema::external_ids::dsl,
    error::{ConflictingRecord, Error},
    store::{refs::Table, sql::lock_named},
};
use diesel::{pg::PgConnection, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One external identifier of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scheme": "yangpu-party-org", "value": "310110-0042"}))]
pub struct Identifier {
    /// The naming system: letters, digits, `.`, `_` and `-` (no `:`).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub scheme: String,
    /// The record's identifier in that system.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub value: String,
}

/// The live record of `table` carrying identifier `scheme:value`, if any.
pub fn owner(
    conn: &mut PgConnection,
    table: Table,
    scheme: &str,
    value: &str,
) -> Result<Option<Uuid>, Error> {
    Ok(dsl::external_ids
        .filter(dsl::entity_type.eq(table.entity))
        .filter(dsl::scheme.eq(scheme))
        .filter(dsl::value.eq(value))
        .select(dsl::entity_id)
        .first(conn)
        .optional()?)
}

/// Fails with 409 when another live record of `table` already carries one
/// of `identifiers` (a JSON array of `{scheme, value}`); one query. The
/// unique key of `external_ids` enforces the same under concurrent writes.
pub fn check_free(
    conn: &mut PgConnection,
    table: Table,
    identifiers: &Value,
    owner_id: Option<Uuid>,
) -> Result<(), Error> {
    let list: Vec<Identifier> =
        serde_json::from_value(identifiers.clone()).map_err(Error::internal)?;
    if list.is_empty() {
        return Ok(());
    }
    let schemes: Vec<&str> = list.iter().map(|i| i.scheme.as_str()).collect();
    let values: Vec<&str> = list.iter().map(|i| i.value.as_str()).collect();
    // A superset of the pairs asked for; the exact pairs are picked below.
    let owners: Vec<(String, String, Uuid)> = dsl::external_ids
        .filter(dsl::entity_type.eq(table.entity))
        .filter(dsl::scheme.eq_any(&schemes))
        .filter(dsl::value.eq_any(&values))
        .select((dsl::scheme, dsl::value, dsl::entity_id))
        .load(conn)?;
    let conflicts: Vec<ConflictingRecord> = owners
        .into_iter()
        .filter(|(scheme, value, other)| {
            Some(*other) != owner_id
                && list
                    .iter()
                    .any(|i| &i.scheme == scheme && &i.value == value)
        })
        .map(|(scheme, value, other)| ConflictingRecord {
            entity_type: table.entity.to_owned(),
            id: other,
            name: format!("{scheme}:{value}"),
        })
        .collect();
    if conflicts.is_empty() {
        return Ok(());
    }
    let taken: Vec<&str> = conflicts.iter().map(|c| c.name.as_str()).collect();
    Err(Error::Conflict {
        detail: format!(
            "identifier {} already belongs to another {}",
            taken.join(", "),
            table.entity
        ),
        conflicts,
    })
}

/// Serializes upserts of one identifier: concurrent `PUT …/by-identifier`
/// requests for the same new identifier create one record, not two.
pub fn lock(conn: &mut PgConnection, table: Table, scheme: &str, value: &str) -> Result<(), Error> {
    lock_named(conn, &format!("{}:{scheme}:{value}", table.entity))
}

/// Records of `table` carrying `scheme:value` (for list filters; tombstones
/// included, as they keep their identifiers).
pub fn containment(scheme: &str, value: &str) -> Value {
    serde_json::json!([{ "scheme": scheme, "value": value }])
}
