//! What the API reaches the store through: [`Crud`], the find, create,
//! update (optimistic concurrency) and soft delete of a resource's records.
//! Top-level tables get it from their [`Rules`] over the shared [`Rows`]
//! machinery; event participants, scoped by their event, implement it
//! themselves.

use crate::error::Error;
use crate::store::identifiers::{self, Identified};
use crate::store::refs::{self, Reference, Table, Tree};
use crate::store::rows::{Rows, VersionCheck};
use diesel::pg::PgConnection;
use uuid::Uuid;

/// The operations on the records of one resource.
pub trait Crud {
    /// What records are scoped by: `()` for top-level records, the event
    /// for event participants.
    type Scope: Copy;
    /// A record as read.
    type Record;
    /// The writable content of a record, already validated.
    type Data;
    /// The table, when its records carry external identifiers (and can be
    /// found by one).
    const IDENTIFIED: Option<Table> = None;
    /// Whether [`Crud::create_many`] writes many records in a few
    /// statements (else it creates them one by one).
    const BATCHED: bool = false;

    /// The id of `record`.
    fn id(record: &Self::Record) -> Uuid;
    /// The version of `record`.
    fn version(record: &Self::Record) -> i64;
    /// The writable content of `record`.
    fn data(record: &Self::Record) -> Self::Data;

    /// The live record `id` in `scope`, or 404.
    fn find(conn: &mut PgConnection, scope: Self::Scope, id: Uuid) -> Result<Self::Record, Error>;

    /// Creates a record after checking `data` against the database: its
    /// references must name live records (else [`Error::Columns`] names
    /// them), its identifiers must be free and the table's own rules must
    /// hold (409).
    fn create(conn: &mut PgConnection, data: &Self::Data) -> Result<Self::Record, Error>;

    /// Creates a record for each of `data`, checked as [`Crud::create`]
    /// checks one: all or none of them (a refusal names no record; creating
    /// them one by one then tells which).
    fn create_many(
        conn: &mut PgConnection,
        data: &[Self::Data],
    ) -> Result<Vec<Self::Record>, Error> {
        data.iter().map(|data| Self::create(conn, data)).collect()
    }

    /// Replaces the content of live record `id` in `scope` with what
    /// `change` makes of it (in the transaction), after `check` holds for
    /// its version; the new content is checked as on create (unchanged
    /// references and identifiers are not checked again). A change that
    /// alters nothing keeps the version. `may_move` says whether the change
    /// may give the record a new parent in its tree: such changes take the
    /// tree lock first (see [`refs`]).
    fn update(
        conn: &mut PgConnection,
        scope: Self::Scope,
        id: Uuid,
        check: &VersionCheck,
        may_move: bool,
        change: impl FnOnce(&mut PgConnection, &Self::Record) -> Result<Self::Data, Error>,
    ) -> Result<Self::Record, Error>;

    /// Soft-deletes live record `id` in `scope` after `check` holds for its
    /// version: the row stays as a tombstone. Refused (409) while live
    /// records still refer to it.
    fn delete(
        conn: &mut PgConnection,
        scope: Self::Scope,
        id: Uuid,
        check: &VersionCheck,
    ) -> Result<(), Error>;
}

/// What writes to a top-level table must respect beyond its columns. A
/// table with rules is a [`Crud`] scoped by nothing; the checks run in
/// this order: the tree parent (on create), references, identifiers, the
/// table's own rules, the tree move (on update). The external identifiers
/// of its content are each carried by one live record of the table at most.
pub trait Rules: Rows<Data: Identified> {
    /// The tree the records form through a parent column, if they do.
    const TREE: Option<Tree> = None;
    /// The columns referring to other records, each with how to read it
    /// from the content: a new or changed reference must name a live record.
    const REFERENCES: &'static [Reference<Self::Data>] = &[];
    /// SQL listing the live records that still refer to record `$1`, for
    /// [`refs::refuse_if_referenced`]: while there are any, it cannot be
    /// deleted.
    const DEPENDENTS: Option<&'static str> = None;
    /// Whether new records may be checked and written many at a time: the
    /// table has no tree (a record of the batch could be another's parent)
    /// and no rule comparing a record with the others of the table (the
    /// batch would not see its own records).
    const BATCHED: bool = false;

    /// The parent `data` names in [`Self::TREE`].
    fn parent(_data: &Self::Data) -> Option<Uuid> {
        None
    }

    /// Checks the table's own rules for `data`, the new content of record
    /// `id` (none when new) that held `before`.
    fn check_rules(
        _conn: &mut PgConnection,
        _id: Option<Uuid>,
        _data: &Self::Data,
        _before: Option<&Self::Data>,
    ) -> Result<(), Error> {
        Ok(())
    }

    /// Runs when record `id` is deleted, before it is marked: e.g. deletes
    /// what belongs to it.
    fn on_delete(_conn: &mut PgConnection, _id: Uuid) -> Result<(), Error> {
        Ok(())
    }
}

impl<T: Rules> Crud for T {
    type Scope = ();
    type Record = T::Record;
    type Data = T::Data;
    const IDENTIFIED: Option<Table> = Some(T::TABLE);
    const BATCHED: bool = T::BATCHED;

    fn id(record: &T::Record) -> Uuid {
        T::id(record)
    }

    fn version(record: &T::Record) -> i64 {
        T::version(record)
    }

    fn data(record: &T::Record) -> T::Data {
        T::data(record)
    }

    fn find(conn: &mut PgConnection, (): (), id: Uuid) -> Result<T::Record, Error> {
        T::find_live(conn, id)
    }

    fn create(conn: &mut PgConnection, data: &T::Data) -> Result<T::Record, Error> {
        if let Some(tree) = T::TREE {
            refs::require_live(conn, &[(tree.parent, T::parent(data))])?;
        }
        refs::require_live_changed(conn, data, None, T::REFERENCES)?;
        identifiers::check_free(conn, T::TABLE, data.identifiers(), None)?;
        T::check_rules(conn, None, data, None)?;
        T::insert(conn, data)
    }

    fn create_many(conn: &mut PgConnection, data: &[T::Data]) -> Result<Vec<T::Record>, Error> {
        if !T::BATCHED {
            return data.iter().map(|data| Self::create(conn, data)).collect();
        }
        for one in data {
            refs::require_live_changed(conn, one, None, T::REFERENCES)?;
        }
        let listed: Vec<&serde_json::Value> = data.iter().map(Identified::identifiers).collect();
        identifiers::check_all_free(conn, T::TABLE, &listed)?;
        T::insert_many(conn, data)
    }

    fn update(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
        may_move: bool,
        change: impl FnOnce(&mut PgConnection, &T::Record) -> Result<T::Data, Error>,
    ) -> Result<T::Record, Error> {
        if let (Some(tree), true) = (T::TREE, may_move) {
            refs::lock_tree(conn, tree)?;
        }
        T::update_live(conn, id, check, change, |conn, before, data| {
            refs::require_live_changed(conn, data, Some(before), T::REFERENCES)?;
            if data.identifiers() != before.identifiers() {
                identifiers::check_free(conn, T::TABLE, data.identifiers(), Some(id))?;
            }
            T::check_rules(conn, Some(id), data, Some(before))?;
            match T::TREE {
                Some(tree) => {
                    refs::check_move(conn, tree, id, T::parent(before), T::parent(data), may_move)
                }
                None => Ok(()),
            }
        })
    }

    fn delete(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
    ) -> Result<(), Error> {
        let current = T::lock_live(conn, id)?;
        check.verify(T::version(&current))?;
        if let Some(dependents) = T::DEPENDENTS {
            refs::refuse_if_referenced(conn, T::TABLE, id, dependents)?;
        }
        T::on_delete(conn, id)?;
        T::mark_deleted(conn, id)
    }
}
