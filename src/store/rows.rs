//! The row machinery of the register's soft-deletable, versioned tables:
//! what a write expects of the current version, and the row operations
//! each such table shares ([`Rows`], implemented with `live_rows!`).

use crate::error::Error;
use crate::store::refs::Table;
use diesel::pg::PgConnection;
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

/// An empty JSON array: the value of a list member that journal entries
/// written before the member existed lack.
pub fn empty_list() -> serde_json::Value {
    serde_json::Value::Array(Vec::new())
}

/// The row operations of a soft-deletable, versioned table: its records
/// carry an id, a version that every change moves on, and `deleted_at`,
/// set on the tombstones deletes leave. Implemented with `live_rows!`.
pub trait Rows {
    /// A row of the table, tombstones included.
    type Record;
    /// The writable content of a record.
    type Data: PartialEq + 'static;
    /// The table.
    const TABLE: Table;

    /// The id of `record`.
    fn id(record: &Self::Record) -> Uuid;
    /// The version of `record`.
    fn version(record: &Self::Record) -> i64;
    /// The writable content of `record`.
    fn data(record: &Self::Record) -> Self::Data;
    /// The live record `id` (locked for update until the transaction ends
    /// when `lock` says so), or 404.
    fn live(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Self::Record, Error>;
    /// The live records among `ids` (for embedding), by id, in one query.
    fn live_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Self::Record>, Error>;
    /// Every live record, by id (for exports that hold the register).
    fn all_live(conn: &mut PgConnection) -> Result<Vec<Self::Record>, Error>;
    /// Inserts `data` under a new time-ordered (v7) id.
    fn insert(conn: &mut PgConnection, data: &Self::Data) -> Result<Self::Record, Error>;
    /// Inserts a new record for each of `data`, in one statement.
    fn insert_many(
        conn: &mut PgConnection,
        data: &[Self::Data],
    ) -> Result<Vec<Self::Record>, Error>;
    /// Writes `data` over record `id`, moving its version on.
    fn overwrite(
        conn: &mut PgConnection,
        id: Uuid,
        data: &Self::Data,
    ) -> Result<Self::Record, Error>;
    /// Marks record `id` deleted, keeping the row as a tombstone.
    fn mark_deleted(conn: &mut PgConnection, id: Uuid) -> Result<(), Error>;

    /// The live record `id`, or 404.
    fn find_live(conn: &mut PgConnection, id: Uuid) -> Result<Self::Record, Error> {
        Self::live(conn, id, false)
    }

    /// The live record `id`, locked for update until the transaction ends,
    /// or 404.
    fn lock_live(conn: &mut PgConnection, id: Uuid) -> Result<Self::Record, Error> {
        Self::live(conn, id, true)
    }

    /// The optimistic-concurrency update: replaces the content of live
    /// record `id` with what `change` makes of it (in the transaction),
    /// after `check` holds for its version (the row stays locked until the
    /// transaction ends).
    /// `verify` checks the new data against the database, given the content
    /// before, before it is written. A change that alters nothing keeps the
    /// version.
    fn update_live(
        conn: &mut PgConnection,
        id: Uuid,
        check: &VersionCheck,
        change: impl FnOnce(&mut PgConnection, &Self::Record) -> Result<Self::Data, Error>,
        verify: impl FnOnce(&mut PgConnection, &Self::Data, &Self::Data) -> Result<(), Error>,
    ) -> Result<Self::Record, Error> {
        let current = Self::lock_live(conn, id)?;
        check.verify(Self::version(&current))?;
        let before = Self::data(&current);
        let data = change(conn, &current)?;
        if data == before {
            return Ok(current);
        }
        verify(conn, &before, &data)?;
        Self::overwrite(conn, id, &data)
    }
}

/// Declares a soft-deletable, versioned table of the register: the unit
/// struct `$Rows` standing for diesel table `$table` (a module of
/// `crate::db::schema` in scope) and [`Table`] `$TABLE`; its content
/// `$Data`, the writable columns (insertable, and written whole on update:
/// `None` is NULL); and its row `$Record`, the content embedded (flattened
/// in the journal's JSON snapshots) between the columns every such table
/// has (`id`, `version`, `created_at`, `updated_at`, `deleted_at`) and
/// followed by the table's own read-only columns, if any.
///
/// Implements [`Rows`] for `$Rows` and
/// [`Created`](crate::store::sort::Created) for `$Record` (listings by
/// creation time); with `named by $name`, also
/// [`Named`](crate::store::sort::Named) (listings by name) for `$Record`,
/// named by the content's field `$name`; with `identified by
/// $identifiers`, [`Identified`](crate::store::identifiers::Identified)
/// for `$Data`, whose external identifiers are its field `$identifiers`.
macro_rules! live_rows {
    (
        $(#[$rows_meta:meta])*
        pub struct $Rows:ident for $table:ident as $TABLE:expr;

        $(#[$record_meta:meta])*
        pub struct $Record:ident {
            $(
                $(#[doc = $extra_doc:literal])*
                $(#[serde($($extra_serde:tt)*)])?
                pub $extra:ident: $ExtraTy:ty
            ),* $(,)?
        }

        $(#[$data_meta:meta])*
        pub struct $Data:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $FieldTy:ty ),+ $(,)?
        }
        $( named by $name:ident; )?
        $( identified by $identifiers:ident; )?
    ) => {
        $(#[$rows_meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $Rows;

        $(#[$record_meta])*
        #[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
        #[diesel(table_name = $table, check_for_backend(diesel::pg::Pg))]
        pub struct $Record {
            pub id: uuid::Uuid,
            /// The writable content.
            #[diesel(embed)]
            pub data: $Data,
            pub version: i64,
            pub created_at: chrono::DateTime<chrono::Utc>,
            pub updated_at: chrono::DateTime<chrono::Utc>,
            pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
            $( $(#[doc = $extra_doc])* pub $extra: $ExtraTy, )*
        }

        /// From the one flat object the journal stores a row as (serde's
        /// `flatten` would buffer every member before reading the content;
        /// the change feed reads a thousand records a page).
        impl<'de> serde::Deserialize<'de> for $Record {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                struct Flat {
                    id: uuid::Uuid,
                    $( $(#[$field_meta])* $field: $FieldTy, )+
                    version: i64,
                    created_at: chrono::DateTime<chrono::Utc>,
                    updated_at: chrono::DateTime<chrono::Utc>,
                    #[serde(default)]
                    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
                    $( $(#[serde($($extra_serde)*)])? $extra: $ExtraTy, )*
                }
                let flat = Flat::deserialize(deserializer)?;
                Ok(Self {
                    id: flat.id,
                    data: $Data { $( $field: flat.$field, )+ },
                    version: flat.version,
                    created_at: flat.created_at,
                    updated_at: flat.updated_at,
                    deleted_at: flat.deleted_at,
                    $( $extra: flat.$extra, )*
                })
            }
        }

        $(#[$data_meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            diesel::Queryable,
            diesel::Selectable,
            diesel::Insertable,
            diesel::AsChangeset,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[diesel(
            table_name = $table,
            check_for_backend(diesel::pg::Pg),
            treat_none_as_null = true,
            treat_none_as_default_value = false
        )]
        pub struct $Data {
            $( $(#[$field_meta])* pub $field: $FieldTy, )+
        }

        impl $crate::store::rows::Rows for $Rows {
            type Record = $Record;
            type Data = $Data;
            const TABLE: $crate::store::refs::Table = $TABLE;

            fn id(record: &$Record) -> uuid::Uuid {
                record.id
            }

            fn version(record: &$Record) -> i64 {
                record.version
            }

            fn data(record: &$Record) -> $Data {
                record.data.clone()
            }

            fn live(
                conn: &mut diesel::pg::PgConnection,
                id: uuid::Uuid,
                lock: bool,
            ) -> Result<$Record, $crate::error::Error> {
                use diesel::prelude::*;
                let query = $table::table
                    .find(id)
                    .filter($table::deleted_at.is_null())
                    .select(<$Record>::as_select());
                let found = if lock {
                    query.for_update().first(conn)
                } else {
                    query.first(conn)
                };
                found
                    .optional()?
                    .ok_or_else(|| $crate::error::Error::not_found(Self::TABLE.entity, id))
            }

            fn live_many(
                conn: &mut diesel::pg::PgConnection,
                ids: &[uuid::Uuid],
            ) -> Result<std::collections::HashMap<uuid::Uuid, $Record>, $crate::error::Error> {
                use diesel::prelude::*;
                if ids.is_empty() {
                    return Ok(std::collections::HashMap::new());
                }
                let rows: Vec<$Record> = $table::table
                    .filter($table::id.eq_any(ids))
                    .filter($table::deleted_at.is_null())
                    .select(<$Record>::as_select())
                    .load(conn)?;
                Ok(rows.into_iter().map(|row| (row.id, row)).collect())
            }

            fn all_live(
                conn: &mut diesel::pg::PgConnection,
            ) -> Result<Vec<$Record>, $crate::error::Error> {
                use diesel::prelude::*;
                Ok($table::table
                    .filter($table::deleted_at.is_null())
                    .order($table::id.asc())
                    .select(<$Record>::as_select())
                    .load(conn)?)
            }

            fn insert(
                conn: &mut diesel::pg::PgConnection,
                data: &$Data,
            ) -> Result<$Record, $crate::error::Error> {
                use diesel::prelude::*;
                Ok(diesel::insert_into($table::table)
                    .values(($table::id.eq(uuid::Uuid::now_v7()), data))
                    .returning(<$Record>::as_returning())
                    .get_result(conn)?)
            }

            fn insert_many(
                conn: &mut diesel::pg::PgConnection,
                data: &[$Data],
            ) -> Result<Vec<$Record>, $crate::error::Error> {
                use diesel::prelude::*;
                let rows: Vec<_> = data
                    .iter()
                    .map(|data| ($table::id.eq(uuid::Uuid::now_v7()), data))
                    .collect();
                Ok(diesel::insert_into($table::table)
                    .values(rows)
                    .returning(<$Record>::as_returning())
                    .get_results(conn)?)
            }

            fn overwrite(
                conn: &mut diesel::pg::PgConnection,
                id: uuid::Uuid,
                data: &$Data,
            ) -> Result<$Record, $crate::error::Error> {
                use diesel::prelude::*;
                Ok(diesel::update($table::table.find(id))
                    .set((
                        data,
                        $table::version.eq($table::version + 1),
                        $table::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(<$Record>::as_returning())
                    .get_result(conn)?)
            }

            fn mark_deleted(
                conn: &mut diesel::pg::PgConnection,
                id: uuid::Uuid,
            ) -> Result<(), $crate::error::Error> {
                use diesel::prelude::*;
                diesel::update($table::table.find(id))
                    .set((
                        $table::deleted_at.eq(diesel::dsl::now),
                        $table::version.eq($table::version + 1),
                        $table::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
                Ok(())
            }
        }

        impl $crate::store::sort::Created for $Record {
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.created_at
            }
        }

        $(
            impl $crate::store::sort::Named for $Record {
                fn name(&self) -> &str {
                    &self.data.$name
                }
            }
        )?

        $(
            impl $crate::store::identifiers::Identified for $Data {
                fn identifiers(&self) -> &serde_json::Value {
                    &self.$identifiers
                }
            }
        )?
    };
}
pub(crate) use live_rows;

/// Declares the filters of a listing made with [`listing!`]: the fields
/// given, then those every such listing takes (`updated_since`,
/// `identifier`, `include_deleted`). All given ones must hold.
macro_rules! list_filter {
    (
        $(#[$meta:meta])*
        pub struct $Filter:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $FieldTy:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $Filter {
            $( $(#[$field_meta])* pub $field: $FieldTy, )*
            /// The filters of every listing of records.
            pub records: $crate::store::rows::RecordFilter,
        }
    };
}
pub(crate) use list_filter;

/// The filters every listing of records takes (see [`list_filter!`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only records changed at or after this instant.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only records carrying this identifier (`scheme`, `value`).
    pub identifier: Option<(String, String)>,
    /// Also list deleted records (tombstones).
    pub include_deleted: bool,
}

/// Keeps, of boxed query `$query` over diesel table `$table`, the rows
/// whose column equals each of the named fields of `$filter` that is given.
macro_rules! equal {
    ($query:ident, $table:ident, $filter:expr, [$($column:ident),*]) => {
        $(
            if let Some(value) = $filter.$column.clone() {
                $query = $query.filter($table::$column.eq(value));
            }
        )*
    };
}
pub(crate) use equal;

/// The id that `$filter.$field` (an optional [`Reference`](crate::domain::Reference))
/// names among the records of `$table` (a [`Table`](crate::store::refs::Table)),
/// if given; when it is an identifier no live record carries, nothing
/// matches and the listing function returns no rows.
macro_rules! resolved {
    ($conn:expr, $table:expr, $filter:expr, $field:ident) => {
        match &$filter.$field {
            None => None,
            Some(reference) => {
                match $crate::store::identifiers::filter_id($conn, $table, reference)? {
                    Some(id) => Some(id),
                    None => return Ok(Vec::new()),
                }
            }
        }
    };
}
pub(crate) use resolved;

/// Keeps, of boxed query `$query` over diesel table `$table`, the rows
/// whose column refers to the record the named reference filter names
/// (see [`resolved!`]), for each one given.
macro_rules! referring {
    ($conn:expr, $query:ident, $table:ident, $filter:expr, [$($column:ident => $target:expr),*]) => {
        $(
            if let Some(id) = $crate::store::rows::resolved!($conn, $target, $filter, $column) {
                $query = $query.filter($table::$column.eq(id));
            }
        )*
    };
}
pub(crate) use referring;

/// The boxed listing of the `$Record`s of diesel table `$table` (a module
/// of `crate::db::schema` in scope, with tombstones and external
/// identifiers) that the filters every such listing takes keep (see
/// [`list_filter!`]): `$filter.include_deleted` (else only live records),
/// `$filter.identifier` (only the records carrying that `(scheme, value)`)
/// and `$filter.updated_since` (only the records whose column `$updated`,
/// by default `updated_at`, is at or after it); and the columns listed as
/// `equal`, [`equal!`].
macro_rules! listing {
    ($table:ident, $Record:ty, $filter:expr $(, equal $columns:tt)?) => {
        $crate::store::rows::listing!($table, $Record, $filter, updated_at $(, equal $columns)?)
    };
    ($table:ident, $Record:ty, $filter:expr, $updated:ident $(, equal $columns:tt)?) => {{
        use diesel::prelude::*;
        let mut query = $table::table.select(<$Record>::as_select()).into_boxed();
        $( $crate::store::rows::equal!(query, $table, $filter, $columns); )?
        let filter = &$filter.records;
        if !filter.include_deleted {
            query = query.filter($table::deleted_at.is_null());
        }
        if let Some((scheme, value)) = &filter.identifier {
            query = query.filter(
                $table::identifiers
                    .contains($crate::store::identifiers::containment(scheme, value)),
            );
        }
        if let Some(since) = filter.updated_since {
            query = query.filter($table::$updated.ge(since));
        }
        query
    }};
}
pub(crate) use listing;

#[cfg(test)]
mod tests {
    use super::*;

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
