//! External identifiers: `{scheme, value}` pairs by which district systems
//! name records. The `external_ids` table (kept by triggers) maps the
//! identifiers of live records to their owners, one owner per (entity
//! type, scheme, value).

use crate::db::schema::external_ids::dsl;
use crate::domain::Reference;
use crate::error::{ConflictingRecord, Error};
use crate::store::refs::Table;
use crate::store::sql::{lock_named, Prepared};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One external identifier of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    /// The naming system: letters, digits, `.`, `_` and `-` (no `:`).
    pub scheme: String,
    /// The record's identifier in that system.
    pub value: String,
}

/// Content carrying external identifiers.
pub trait Identified {
    /// The external identifiers (a JSON array of `{scheme, value}`).
    fn identifiers(&self) -> &Value;
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

/// The value of an identifier of scheme `scheme` that live record `id` of
/// `table` carries, if it carries one (the first, by value).
pub fn value_of(
    conn: &mut PgConnection,
    table: Table,
    id: Uuid,
    scheme: &str,
) -> Result<Option<String>, Error> {
    Ok(dsl::external_ids
        .filter(dsl::entity_type.eq(table.entity))
        .filter(dsl::entity_id.eq(id))
        .filter(dsl::scheme.eq(scheme))
        .select(dsl::value)
        .order(dsl::value.asc())
        .first(conn)
        .optional()?)
}

/// The id a list filter's `reference` names among the records of `table`:
/// the id as given, or the owner of the identifier (`None` when no live
/// record carries it).
pub fn filter_id(
    conn: &mut PgConnection,
    table: Table,
    reference: &Reference,
) -> Result<Option<Uuid>, Error> {
    match reference {
        Reference::Id(id) => Ok(Some(*id)),
        Reference::Identifier(identifier) => owner(
            conn,
            table,
            identifier.scheme.as_ref(),
            identifier.value.as_ref(),
        ),
    }
}

/// The live record of `table` carrying `identifier`; 404 naming it when
/// none does.
pub fn owner_of(
    conn: &mut PgConnection,
    table: Table,
    identifier: &crate::domain::Identifier,
) -> Result<Uuid, Error> {
    let (scheme, value) = (identifier.scheme.as_ref(), identifier.value.as_ref());
    owner(conn, table, scheme, value)?
        .ok_or_else(|| Error::NotFound(format!("no {} has identifier {identifier}", table.entity)))
}

/// The id of the live record of `table` that `reference` names — by its
/// id, or by one of its identifiers; 404 when no live record answers to it.
pub fn live_id(
    conn: &mut PgConnection,
    table: Table,
    reference: &Reference,
) -> Result<Uuid, Error> {
    let id = match reference {
        Reference::Id(id) => *id,
        Reference::Identifier(identifier) => return owner_of(conn, table, identifier),
    };
    // One statement per table: kept prepared.
    let live: Option<bool> = Prepared(
        diesel::sql_query(format!(
            "SELECT deleted_at IS NULL AS live FROM {} WHERE id = $1",
            table.name
        ))
        .bind::<diesel::sql_types::Uuid, _>(id),
    )
    .get_result::<Live>(conn)
    .optional()?
    .map(|row| row.live);
    match live {
        Some(true) => Ok(id),
        _ => Err(Error::not_found(table.entity, id)),
    }
}

#[derive(QueryableByName)]
struct Live {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    live: bool,
}

/// One identifier (`scheme:value`, the least) of each of the live records
/// `ids` of `table` that carry any, in one query.
pub fn names_of(
    conn: &mut PgConnection,
    table: Table,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, Error> {
    Ok(dsl::external_ids
        .filter(dsl::entity_type.eq(table.entity))
        .filter(dsl::entity_id.eq_any(ids))
        .order((dsl::entity_id, dsl::scheme, dsl::value))
        .select((dsl::entity_id, dsl::scheme, dsl::value))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .rev()
        .map(|(id, scheme, value)| (id, format!("{scheme}:{value}")))
        .collect())
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
    check_ids_unclaimed(conn, table, &list, owner_id)?;
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

/// The scheme of the identifiers that are records' Popolo ids: a Popolo
/// export names each record by the value of its identifier of this scheme,
/// else by its own id.
pub const ID_SCHEME: &str = "popolo";

/// Fails with 409 when one of `list` is an [`ID_SCHEME`] identifier whose
/// value is the id of another live record of `table` than `owner_id`: the
/// two would share one id in a Popolo export. One query, when any is a
/// UUID.
fn check_ids_unclaimed(
    conn: &mut PgConnection,
    table: Table,
    list: &[Identifier],
    owner_id: Option<Uuid>,
) -> Result<(), Error> {
    let claimed: Vec<Uuid> = list
        .iter()
        .filter(|i| i.scheme == ID_SCHEME)
        .filter_map(|i| i.value.parse::<Uuid>().ok())
        .filter(|id| Some(*id) != owner_id)
        .collect();
    let live = crate::store::refs::live_ids(conn, table, &claimed)?;
    let mut live: Vec<Uuid> = live.into_iter().collect();
    live.sort();
    if live.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = live.iter().map(|id| format!("{ID_SCHEME}:{id}")).collect();
    Err(Error::Conflict {
        detail: format!(
            "identifier {} is the id of another live {}: a {ID_SCHEME} identifier is the \
             record's id in a Popolo document, which names one {} by it",
            named.join(", "),
            table.entity,
            table.entity
        ),
        conflicts: live
            .into_iter()
            .map(|id| ConflictingRecord {
                entity_type: table.entity.to_owned(),
                id,
                name: format!("{ID_SCHEME}:{id}"),
            })
            .collect(),
    })
}

/// Which of `identifiers` live records of `table` carry, in one query.
pub fn owned(
    conn: &mut PgConnection,
    table: Table,
    identifiers: &[(&str, &str)],
) -> Result<std::collections::HashSet<(String, String)>, Error> {
    use diesel::sql_types::{Array, Bool, Text};
    let schemes: Vec<&str> = identifiers.iter().map(|i| i.0).collect();
    let values: Vec<&str> = identifiers.iter().map(|i| i.1).collect();
    Ok(dsl::external_ids
        .filter(dsl::entity_type.eq(table.entity))
        .filter(
            diesel::dsl::sql::<Bool>(
                "(external_ids.scheme, external_ids.value) IN (SELECT * FROM unnest(",
            )
            .bind::<Array<Text>, _>(&schemes)
            .sql(", ")
            .bind::<Array<Text>, _>(&values)
            .sql("))"),
        )
        .select((dsl::scheme, dsl::value))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Fails with 409 when one of the identifiers of new records (the JSON
/// arrays `listed`) is carried by a live record of `table` or listed twice;
/// one query for them all.
pub fn check_all_free(
    conn: &mut PgConnection,
    table: Table,
    listed: &[&Value],
) -> Result<(), Error> {
    let mut all: Vec<Identifier> = Vec::new();
    for list in listed {
        all.extend(
            serde_json::from_value::<Vec<Identifier>>((*list).clone()).map_err(Error::internal)?,
        );
    }
    check_ids_unclaimed(conn, table, &all, None)?;
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = all.iter().find(|i| !seen.insert((&i.scheme, &i.value))) {
        return Err(Error::Conflict {
            detail: format!("identifier {}:{} is given twice", twice.scheme, twice.value),
            conflicts: Vec::new(),
        });
    }
    let pairs: Vec<(&str, &str)> = all
        .iter()
        .map(|i| (i.scheme.as_str(), i.value.as_str()))
        .collect();
    let taken = owned(conn, table, &pairs)?;
    match taken.iter().next() {
        None => Ok(()),
        Some((scheme, value)) => Err(Error::Conflict {
            detail: format!(
                "identifier {scheme}:{value} is carried by another {}",
                table.entity
            ),
            conflicts: Vec::new(),
        }),
    }
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
