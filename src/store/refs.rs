//! Referential rules between records: references must point at live
//! records, records that others still reference cannot be deleted, and
//! trees (organizations, events, areas) stay free of cycles.
//!
//! Locking: a write that references a record takes a share lock on it; a
//! delete takes an update lock on the record before looking for live
//! references. The two conflict, so a reference and a delete cannot both
//! succeed. Moves within a tree take a transaction-scoped advisory lock per
//! tree *before* any row lock, so concurrent moves are serialized (and
//! cannot together close a cycle) without deadlocking.

use crate::error::{ColumnError, ConflictingRecord, Error};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, RunQueryDsl};
use uuid::Uuid;

/// A table of soft-deletable records.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// SQL name (trusted).
    pub name: &'static str,
    /// Singular name of its records in messages, e.g. `organization`.
    pub entity: &'static str,
}

impl Table {
    pub const fn new(name: &'static str, entity: &'static str) -> Self {
        Self { name, entity }
    }
}

pub const ORGANIZATIONS: Table = Table::new("organizations", "organization");
pub const PEOPLE: Table = Table::new("people", "person");
pub const ROLES: Table = Table::new("roles", "role");
pub const EVENTS: Table = Table::new("events", "event");
pub const PARTICIPANTS: Table = Table::new("event_participants", "participant");
pub const AREAS: Table = Table::new("areas", "area");
pub const POSTS: Table = Table::new("posts", "post");

/// Those of `ids` that name live records of `table`, in one query.
pub fn live_ids(
    conn: &mut PgConnection,
    table: Table,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, Error> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let rows: Vec<Id> = diesel::sql_query(format!(
        "SELECT id FROM {} WHERE id = ANY($1) AND deleted_at IS NULL",
        table.name
    ))
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// A column of a table that refers to records of another.
#[derive(Debug, Clone, Copy)]
pub struct RefColumn {
    /// SQL name of the column.
    pub name: &'static str,
    /// The table it refers to.
    pub to: Table,
}

impl RefColumn {
    pub const fn new(name: &'static str, to: Table) -> Self {
        Self { name, to }
    }
}

/// A reference column of content `D`, with how to read its value from it.
pub type Reference<D> = (RefColumn, fn(&D) -> Option<Uuid>);

/// How many blocking records a conflict names at most.
pub const MAX_CONFLICTS_LISTED: i64 = 20;

#[derive(QueryableByName)]
struct Live {
    #[diesel(sql_type = Bool)]
    live: bool,
}

/// Checks that the id given for each column (if any) names a live record,
/// share-locking each until the transaction ends. Every dangling reference
/// is reported, naming its column ([`Error::Columns`]).
pub fn require_live(
    conn: &mut PgConnection,
    references: &[(RefColumn, Option<Uuid>)],
) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (column, id) in references {
        let Some(id) = id else { continue };
        let rows: Vec<Live> = diesel::sql_query(format!(
            "SELECT deleted_at IS NULL AS live FROM {} WHERE id = $1 FOR SHARE",
            column.to.name
        ))
        .bind::<SqlUuid, _>(*id)
        .load(conn)?;
        if !matches!(rows.first(), Some(Live { live: true })) {
            errors.push(ColumnError {
                column: column.name,
                message: format!("no {} has id {id}", column.to.entity),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Columns(errors))
    }
}

/// Checks with [`require_live`] the references of `data` that differ from
/// those of `before` (all of them for new content), each read from `data`
/// by the function beside its column. A reference that an update leaves as
/// it was needs no check: the record it names cannot have been deleted
/// while this one referred to it.
pub fn require_live_changed<D>(
    conn: &mut PgConnection,
    data: &D,
    before: Option<&D>,
    columns: &[Reference<D>],
) -> Result<(), Error> {
    let references: Vec<(RefColumn, Option<Uuid>)> = columns
        .iter()
        .map(|&(column, value)| {
            let unchanged = before.is_some_and(|before| value(before) == value(data));
            (column, if unchanged { None } else { value(data) })
        })
        .collect();
    require_live(conn, &references)
}

#[derive(QueryableByName)]
struct Dependent {
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Fails with 409 naming the live records found by `query` — an SQL query
/// with one parameter (`$1`, the id of the record to delete) returning
/// `entity_type`, `id` and `name` of each record that still refers to it.
pub fn refuse_if_referenced(
    conn: &mut PgConnection,
    table: Table,
    id: Uuid,
    query: &str,
) -> Result<(), Error> {
    let dependents: Vec<Dependent> = diesel::sql_query(format!(
        "SELECT * FROM ({query}) AS d ORDER BY entity_type, name, id LIMIT {MAX_CONFLICTS_LISTED}"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    if dependents.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = dependents
        .iter()
        .map(|d| format!("{} {} ({})", d.entity_type, d.name, d.id))
        .collect();
    Err(Error::Conflict {
        detail: format!(
            "{} {id} is still referenced by live records: {}; delete or change them first",
            table.entity,
            listed.join(", ")
        ),
        conflicts: dependents
            .into_iter()
            .map(|d| ConflictingRecord {
                entity_type: d.entity_type,
                id: d.id,
                name: d.name,
            })
            .collect(),
    })
}

/// A tree of records through a parent column (which refers to its own
/// table).
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    /// The parent column (SQL name trusted).
    pub parent: RefColumn,
    /// Advisory lock key serializing moves within this tree.
    pub lock_key: i64,
}

/// Takes the transaction-scoped lock that serializes moves within `tree`.
/// Take it before locking any row.
pub fn lock_tree(conn: &mut PgConnection, tree: Tree) -> Result<(), Error> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(tree.lock_key)
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Checks a move of record `id` within `tree` from parent `before` to
/// parent `after`: nothing when the parent stays; else the new parent must
/// be live and must not lie inside the record (a cycle), or
/// [`Error::Columns`] names the parent column. `locked` says whether the
/// caller holds [`lock_tree`], which a move to a new parent needs.
pub fn check_move(
    conn: &mut PgConnection,
    tree: Tree,
    id: Uuid,
    before: Option<Uuid>,
    after: Option<Uuid>,
    locked: bool,
) -> Result<(), Error> {
    if after == before {
        return Ok(());
    }
    require_live(conn, &[(tree.parent, after)])?;
    match after {
        Some(_) if !locked => Err(Error::internal("move without the tree lock")),
        Some(parent) => check_no_cycle(conn, tree, id, parent),
        None => Ok(()),
    }
}

/// `noun` with its indefinite article, to start a message ("An event").
fn a(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "An"
    } else {
        "A"
    };
    format!("{article} {noun}")
}

/// Checks that making `parent` the parent of `child` keeps `tree` free of
/// cycles. The caller holds [`lock_tree`].
fn check_no_cycle(
    conn: &mut PgConnection,
    tree: Tree,
    child: Uuid,
    parent: Uuid,
) -> Result<(), Error> {
    let RefColumn { name: column, to } = tree.parent;
    let refused = |message: String| Error::Columns(vec![ColumnError { column, message }]);
    if child == parent {
        return Err(refused(format!(
            "{} cannot be its own parent",
            a(to.entity)
        )));
    }
    let row: Exists = diesel::sql_query(format!(
        "WITH RECURSIVE chain (id, parent) AS ( \
             SELECT id, {parent_column} FROM {table} WHERE id = $1 \
           UNION \
             SELECT t.id, t.{parent_column} FROM {table} t JOIN chain c ON t.id = c.parent \
         ) SELECT EXISTS (SELECT 1 FROM chain WHERE id = $2) AS exists",
        parent_column = column,
        table = to.name,
    ))
    .bind::<SqlUuid, _>(parent)
    .bind::<SqlUuid, _>(child)
    .get_result(conn)?;
    if row.exists {
        return Err(refused(format!(
            "{} {parent} is inside {} {child}; the move would create a cycle",
            to.entity, to.entity
        )));
    }
    Ok(())
}
