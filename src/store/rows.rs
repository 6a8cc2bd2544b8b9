//! The row machinery of the register's soft-deletable, versioned tables:
//! what a write expects of the current version, and the row operations
//! each such table shares.

use crate::error::Error;

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
            check: &$crate::store::rows::VersionCheck,
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
