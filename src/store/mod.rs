//! Plain synchronous diesel functions over `&mut PgConnection`: the register's
//! reads and writes, free of HTTP types. Callers wrap writes in a transaction.

pub mod api_keys;
pub mod events;
pub mod idempotency;
pub mod identifiers;
pub mod journal;
pub mod organizations;
pub mod participants;
pub mod people;
pub mod refs;
pub mod roles;
pub mod secrets;

use crate::error::Error;
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    expression::BoxableExpression,
    expression::SqlLiteral,
    pg::Pg,
    sql_types::{BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a write expects of the record's current version (from `If-Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VersionCheck {
    /// Write whatever the current version is, or create the record when
    /// a write may (no `If-Match`).
    #[default]
    Any,
    /// Write only if the record exists, whatever its version
    /// (`If-Match: *`): never create it.
    Exists,
    /// Write only if the current version is one of these.
    OneOf(Vec<i64>),
}

impl VersionCheck {
    /// Whether the write needs a current record: with none, it fails with
    /// 412 instead of creating one (RFC 9110, `If-Match`).
    pub fn requires_record(&self) -> bool {
        !matches!(self, Self::Any)
    }

    /// Fails with 412 unless `current` satisfies the expectation.
    pub fn verify(&self, current: i64) -> Result<(), Error> {
        match self {
            Self::OneOf(versions) if !versions.contains(&current) => {
                Err(Error::PreconditionFailed {
                    current_version: Some(current),
                })
            }
            _ => Ok(()),
        }
    }
}

/// An order a listing can take, with what keyset pagination needs.
pub trait SortOrder: Copy + Send + 'static {
    /// Name of the order in the `sort` parameter and in cursors.
    fn tag(self) -> &'static str;
    /// The (unqualified) sort column and whether the order is descending.
    fn column(self) -> (&'static str, bool);
    /// Whether `value` can be a position in this order.
    fn accepts(self, value: &SortValue) -> bool;
}

/// A [`SortOrder`] of listings of `R`.
pub trait SortKey<R>: SortOrder {
    /// The sort value of `record`, from which the next page starts.
    fn key(self, record: &R) -> After;
}

/// A record with a name, listed by name or by creation time.
pub trait Named {
    fn id(&self) -> Uuid;
    fn name(&self) -> &str;
    fn created_at(&self) -> DateTime<Utc>;
}

/// Orders of a listing of named records; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum NameSort {
    /// By name, A to Z (the default).
    #[default]
    #[serde(rename = "name")]
    Name,
    /// By name, Z to A.
    #[serde(rename = "-name")]
    NameDesc,
    /// Oldest first.
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl SortOrder for NameSort {
    fn tag(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NameDesc => "-name",
            Self::CreatedAt => "created_at",
            Self::CreatedAtDesc => "-created_at",
        }
    }

    fn column(self) -> (&'static str, bool) {
        match self {
            Self::Name => ("name", false),
            Self::NameDesc => ("name", true),
            Self::CreatedAt => ("created_at", false),
            Self::CreatedAtDesc => ("created_at", true),
        }
    }

    fn accepts(self, value: &SortValue) -> bool {
        matches!(
            (self, value),
            (Self::Name | Self::NameDesc, SortValue::Text(_))
                | (Self::CreatedAt | Self::CreatedAtDesc, SortValue::Time(_))
        )
    }
}

impl<R: Named> SortKey<R> for NameSort {
    fn key(self, record: &R) -> After {
        let value = match self {
            Self::Name | Self::NameDesc => SortValue::Text(record.name().to_owned()),
            Self::CreatedAt | Self::CreatedAtDesc => SortValue::Time(record.created_at()),
        };
        After {
            value,
            id: record.id(),
        }
    }
}

/// Orders of a listing by creation time; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum CreatedSort {
    /// Oldest first (the default).
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

/// A record listed by creation time.
pub trait Created {
    fn id(&self) -> Uuid;
    fn created_at(&self) -> DateTime<Utc>;
}

/// A joined row is ordered by the record it starts with.
impl<A: Created, B> Created for (A, B) {
    fn id(&self) -> Uuid {
        self.0.id()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at()
    }
}

/// A joined row is ordered by the record it starts with.
impl<A: Created, B, C> Created for (A, B, C) {
    fn id(&self) -> Uuid {
        self.0.id()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at()
    }
}

impl SortOrder for CreatedSort {
    fn tag(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::CreatedAtDesc => "-created_at",
        }
    }

    fn column(self) -> (&'static str, bool) {
        ("created_at", self == Self::CreatedAtDesc)
    }

    fn accepts(self, value: &SortValue) -> bool {
        matches!(value, SortValue::Time(_))
    }
}

impl<R: Created> SortKey<R> for CreatedSort {
    fn key(self, record: &R) -> After {
        After {
            value: SortValue::Time(record.created_at()),
            id: record.id(),
        }
    }
}

/// The sort-column value of the last row of a keyset page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortValue {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "ts")]
    Time(DateTime<Utc>),
    #[serde(rename = "i")]
    Int(i64),
}

/// Where a keyset page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub value: SortValue,
    pub id: Uuid,
}

/// The condition "row comes after `after`" for a listing of `table` in
/// `sort` order (ties broken by id). A row-value comparison, so PostgreSQL
/// walks the `(column, id)` index from that point: page 1,000 costs what
/// page 1 costs.
pub fn keyset_after<QS, S: SortOrder>(
    table: &str,
    sort: S,
    after: &After,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>
where
    QS: 'static,
{
    let (column, descending) = sort.column();
    let op = if descending { "<" } else { ">" };
    let head = sql::<Bool>(&format!("({table}.{column}, {table}.id) {op} ("));
    match &after.value {
        SortValue::Text(text) => Box::new(
            head.bind::<Text, _>(text.clone())
                .sql(", ")
                .bind::<SqlUuid, _>(after.id)
                .sql(")"),
        ),
        SortValue::Time(time) => Box::new(
            head.bind::<Timestamptz, _>(*time)
                .sql(", ")
                .bind::<SqlUuid, _>(after.id)
                .sql(")"),
        ),
        SortValue::Int(number) => Box::new(
            head.bind::<BigInt, _>(*number)
                .sql(", ")
                .bind::<SqlUuid, _>(after.id)
                .sql(")"),
        ),
    }
}

/// The ORDER BY of a listing of `table` in `sort` order, ties broken by id.
/// (The expression type is immaterial to ORDER BY; it is typed `Bool` only
/// because diesel wants a type.)
pub fn keyset_order<S: SortOrder>(table: &str, sort: S) -> SqlLiteral<Bool> {
    let (column, descending) = sort.column();
    let direction = if descending { "DESC" } else { "ASC" };
    sql::<Bool>(&format!(
        "{table}.{column} {direction}, {table}.id {direction}"
    ))
}

/// Generates the row operations every soft-deletable table shares, inside
/// the module of that table: `find` (the live record, or 404), `lock_live`
/// (the same, locked for update), `insert` (with a new time-ordered id),
/// `update_live` (the optimistic-concurrency update: lock, check the
/// version, apply the change, keep the version when nothing changes, else
/// increment it) and `mark_deleted` (the soft delete). `$Record` must have
/// `data()` returning the `$Data` it was written from.
#[macro_export]
macro_rules! live_rows {
    ($table:ident, $Record:ty, $Data:ty, $entity:expr) => {
        /// The live record `id`, or 404.
        pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<$Record, Error> {
            $table::table
                .find(id)
                .filter($table::deleted_at.is_null())
                .select(<$Record>::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::not_found($entity, id))
        }

        /// The live record `id`, locked for update until the transaction ends.
        fn lock_live(conn: &mut PgConnection, id: Uuid) -> Result<$Record, Error> {
            $table::table
                .find(id)
                .filter($table::deleted_at.is_null())
                .select(<$Record>::as_select())
                .for_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::not_found($entity, id))
        }

        /// Inserts `data` under a new time-ordered (v7) id.
        fn insert(conn: &mut PgConnection, data: &$Data) -> Result<$Record, Error> {
            Ok(diesel::insert_into($table::table)
                .values(($table::id.eq(Uuid::now_v7()), data))
                .returning(<$Record>::as_returning())
                .get_result(conn)?)
        }

        /// Replaces the content of record `id` with what `change` makes of
        /// it, after `check` holds for its version. `verify` checks the new
        /// data against the database (references) before it is written. A
        /// change that alters nothing keeps the version.
        fn update_live(
            conn: &mut PgConnection,
            id: Uuid,
            check: &$crate::store::VersionCheck,
            change: impl FnOnce(&mut PgConnection, &$Record) -> Result<$Data, Error>,
            verify: impl FnOnce(&mut PgConnection, &$Record, &$Data) -> Result<(), Error>,
        ) -> Result<$Record, Error> {
            let current = lock_live(conn, id)?;
            check.verify(current.version)?;
            let data = change(conn, &current)?;
            if data == current.data() {
                return Ok(current);
            }
            verify(conn, &current, &data)?;
            Ok(diesel::update($table::table.find(id))
                .set((
                    &data,
                    $table::version.eq($table::version + 1),
                    $table::updated_at.eq(diesel::dsl::now),
                ))
                .returning(<$Record>::as_returning())
                .get_result(conn)?)
        }

        /// Marks record `id` deleted, keeping the row as a tombstone.
        fn mark_deleted(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
            diesel::update($table::table.find(id))
                .set((
                    $table::deleted_at.eq(diesel::dsl::now),
                    $table::version.eq($table::version + 1),
                    $table::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
            Ok(())
        }
    };
}

/// Takes the transaction-scoped advisory lock named `key` (hashed to 64
/// bits). Keys are namespaced by their text, e.g. `identifier:person:yp:P1`.
pub fn lock_named(conn: &mut diesel::pg::PgConnection, key: &str) -> Result<(), Error> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(key)
        .execute(conn)?;
    Ok(())
}

/// Escapes `%`, `_` and `\` so `text` matches literally inside a LIKE pattern.
pub fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn version_checks() {
        assert!(VersionCheck::Any.verify(3).is_ok());
        assert!(VersionCheck::Exists.verify(3).is_ok());
        assert!(!VersionCheck::Any.requires_record());
        assert!(VersionCheck::Exists.requires_record());
        assert!(VersionCheck::OneOf(vec![3]).requires_record());
        assert!(VersionCheck::OneOf(vec![2, 3]).verify(3).is_ok());
        assert!(matches!(
            VersionCheck::OneOf(vec![2]).verify(3),
            Err(Error::PreconditionFailed {
                current_version: Some(3)
            })
        ));
    }
}
