//! The journal: one row per change of a record, written by database
//! triggers in the same transaction as the change (see the migration
//! `api_keys_and_journal`). Here it is read as the audit trail and as the
//! change feed.
//!
//! The feed's order: each row gets a `feed_key` when it is written, the
//! larger of its transaction's id and the `xmax` of the snapshot of the
//! statement writing it (see the migration `feed_without_lock`). A change
//! made after another transaction committed (an update waiting on its row
//! lock, a record referring to one it created) has a key at least as large,
//! and comes after it in (`feed_key`, `seq`) order. A reader serves only the
//! rows whose key is below the `xmin` of its snapshot: every transaction
//! that could still add a row with such a key has ended, so that part of
//! the feed is final, and a consumer that moved past it never misses a
//! change that commits later. Writers take no lock for it; the feed's head
//! waits instead for the oldest writing transaction in flight in the
//! PostgreSQL cluster. Keys and that bound are both shifted by
//! `feed_shift.shift`, which a register restored on a server with smaller
//! transaction ids needs (see the migration `feed_shift` and
//! [`crate::db::migrate::run_migrations`]).

use crate::db::schema::journal::{self, dsl};
use crate::error::Error;
use crate::store::people::PII_FIELDS;
use crate::store::rows::equal;
use crate::store::sort::{After, Keyset, SortKey, SortOrder, SortValue};
use crate::store::sql::Prepared;
use crate::store::text::text_values;
use chrono::{DateTime, Utc};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// A journal row: one change of one record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = journal, check_for_backend(Pg))]
pub struct JournalRecord {
    pub seq: i64,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub op: String,
    pub version: i64,
    pub key_id: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
    /// The fields whose value changed (all fields on creation).
    pub changed: Vec<String>,
    /// The record before the change (null on creation).
    pub before: Option<Value>,
    /// The record after the change (null on deletion).
    pub after: Option<Value>,
}

impl JournalRecord {
    /// The version of a person after this change as keys without `pii`
    /// see it (see `PersonRecord::public_version`): from the snapshot
    /// after, or one past the one before for a deletion.
    pub fn public_version(&self) -> Option<i64> {
        let of = |doc: &Option<Value>| doc.as_ref()?.get("public_version")?.as_i64();
        of(&self.after).or_else(|| of(&self.before).map(|version| version + 1))
    }
}

/// Bookkeeping members of snapshots: not fields of the record.
pub const BOOKKEEPING: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "public_version",
    "public_updated_at",
];

text_values! {
    /// Orders of the audit trail (default: `-seq`, newest first).
    #[derive(Default)]
    pub enum JournalSort {
        /// Oldest change first.
        Seq => "seq",
        /// Newest change first (the default).
        #[default]
        SeqDesc => "-seq",
    }
}

impl SortOrder for JournalSort {
    fn accepts(self, value: &SortValue) -> bool {
        matches!(value, SortValue::Int(_))
    }
}

impl SortKey<JournalRecord> for JournalSort {
    fn key(self, record: &JournalRecord) -> After {
        After {
            value: SortValue::Int(record.seq),
            id: Uuid::nil(),
        }
    }
}

/// Audit filters; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub key_id: Option<Uuid>,
    /// Changes at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Changes before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Leave out changes of personal data alone (for keys without `pii`).
    pub without_private: bool,
}

/// The condition "not a change of a person's personal data alone".
fn not_private() -> Box<
    dyn diesel::expression::BoxableExpression<
        journal::table,
        Pg,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "NOT (journal.entity_type = 'person' AND journal.op = 'updated' AND journal.changed <@ ",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(PII_FIELDS)
    .sql(")"))
}

/// One keyset page of the journal.
pub fn list(
    conn: &mut PgConnection,
    filter: &JournalFilter,
    Keyset { sort, after, limit }: Keyset<JournalSort>,
) -> Result<Vec<JournalRecord>, Error> {
    let mut query = dsl::journal.select(JournalRecord::as_select()).into_boxed();
    equal!(query, journal, filter, [entity_type, entity_id, key_id]);
    if let Some(from) = filter.from {
        query = query.filter(dsl::changed_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(dsl::changed_at.lt(to));
    }
    if filter.without_private {
        query = query.filter(not_private());
    }
    if let Some(After {
        value: SortValue::Int(seq),
        ..
    }) = after
    {
        query = match sort {
            JournalSort::Seq => query.filter(dsl::seq.gt(*seq)),
            JournalSort::SeqDesc => query.filter(dsl::seq.lt(*seq)),
        };
    }
    query = match sort {
        JournalSort::Seq => query.order(dsl::seq.asc()),
        JournalSort::SeqDesc => query.order(dsl::seq.desc()),
    };
    Ok(query.limit(limit).load(conn)?)
}

/// A position in the change feed: after the journal row `seq`, whose
/// feed key is `key`. A cursor issued before the migration
/// `feed_without_lock` holds the row's `commit_seq` as its key, which that
/// migration made the row's feed key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedPosition {
    pub key: i64,
    pub seq: i64,
}

/// A journal row as the change feed reads it: no `before`, and the record
/// after the change as JSON text, to be read straight into its record type.
#[derive(Debug, Queryable)]
pub struct FeedRow {
    pub seq: i64,
    pub feed_key: i64,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub op: String,
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    /// The record after the change, as JSON (null on deletion).
    pub after: Option<String>,
    /// For the deletion of a person: the public version before it, as text
    /// (see `PersonRecord::public_version`).
    pub public_version_before: Option<String>,
}

impl FeedRow {
    /// The position of the feed just after this row.
    pub fn position(&self) -> FeedPosition {
        FeedPosition {
            key: self.feed_key,
            seq: self.seq,
        }
    }
}

/// The condition "after `position` in the feed".
fn feed_after(
    position: FeedPosition,
) -> Box<
    dyn diesel::expression::BoxableExpression<
        journal::table,
        Pg,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    use diesel::sql_types::BigInt;
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>("(journal.feed_key, journal.seq) > (")
            .bind::<BigInt, _>(position.key)
            .sql(", ")
            .bind::<BigInt, _>(position.seq)
            .sql(")"),
    )
}

/// The journal rows after `after` of the given entity types (without
/// changes of personal data alone, if `without_private`).
fn feed_rows<'a>(
    after: FeedPosition,
    types: &'a [&'a str],
    without_private: bool,
) -> journal::BoxedQuery<'a, Pg> {
    let mut query = dsl::journal
        .filter(feed_after(after))
        .filter(dsl::entity_type.eq_any(types))
        .into_boxed();
    if without_private {
        query = query.filter(not_private());
    }
    query
}

/// Rows no transaction in flight can precede any more: feed key below the
/// `xmin` of the statement's snapshot, shifted as keys are (migration
/// `feed_shift`; see the module docs).
fn settled() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql(
        "journal.feed_key < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         + shift FROM feed_shift)",
    )
}

/// Up to `limit` settled changes after `after`, in feed order, of the given
/// entity types (without changes of personal data alone, if
/// `without_private`). Settled: feed key below the `xmin` of this
/// statement's snapshot, so no transaction can add a row before the last
/// one returned any more (see the module docs).
pub fn feed(
    conn: &mut PgConnection,
    after: FeedPosition,
    types: &[&str],
    without_private: bool,
    limit: i64,
) -> Result<Vec<FeedRow>, Error> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Text};
    Ok(Prepared(
        feed_rows(after, types, without_private)
            .filter(settled())
            .order((dsl::feed_key.asc(), dsl::seq.asc()))
            .select((
                dsl::seq,
                dsl::feed_key,
                dsl::entity_type,
                dsl::entity_id,
                dsl::op,
                dsl::version,
                dsl::changed_at,
                sql::<Nullable<Text>>("journal.after::text"),
                sql::<Nullable<Text>>(
                    "CASE WHEN journal.entity_type = 'person' AND journal.op = 'deleted' \
                     THEN journal.before ->> 'public_version' END",
                ),
            ))
            .limit(limit),
    )
    .load(conn)?)
}

/// The feed key of the newest change a reader of the feed can see now
/// (settled, as in [`feed`]), if any.
pub fn head(conn: &mut PgConnection) -> Result<Option<i64>, Error> {
    use diesel::dsl::max;
    Ok(dsl::journal
        .filter(settled())
        .select(max(dsl::feed_key))
        .get_result(conn)?)
}

/// The feed key of the last committed change after `after` (of the given
/// types, without changes of personal data alone if `without_private`),
/// if any. Asked after [`feed`] returned a page that was not full and ended
/// at `after`: such a change is one that was not settled yet then, or one
/// committed since.
pub fn last_committed_key(
    conn: &mut PgConnection,
    after: FeedPosition,
    types: &[&str],
    without_private: bool,
) -> Result<Option<i64>, Error> {
    Ok(Prepared(
        feed_rows(after, types, without_private)
            .order((dsl::feed_key.desc(), dsl::seq.desc()))
            .select(dsl::feed_key)
            .limit(1),
    )
    .get_result(conn)
    .optional()?)
}
