//! The journal: one row per change of a record, written by database
//! triggers in the same transaction as the change (see the migration
//! `api_keys_and_journal`). Here it is read as the audit trail.

use crate::db::schema::journal::{self, dsl};
use crate::error::Error;
use crate::store::people::PII_FIELDS;
use crate::store::rows::equal;
use crate::store::sort::{After, Keyset, SortKey, SortOrder, SortValue};
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
    /// Position in commit order (set when the change's transaction commits).
    pub commit_seq: Option<i64>,
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

/// A position in the change feed: after the journal row `seq` of the
/// transaction that committed at `commit_seq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedPosition {
    pub commit_seq: i64,
    pub seq: i64,
}

/// Up to `limit` committed changes after `after`, in commit order (and in
/// statement order within a transaction), of the given entity types
/// (without changes of personal data alone, if `without_private`).
///
/// Positions are handed out at commit under a lock (see the migration
/// `sync`), so a position is visible only after every lower one: this
/// never skips a change that commits late, and never shows one twice.
pub fn feed(
    conn: &mut PgConnection,
    after: FeedPosition,
    types: &[&str],
    without_private: bool,
    limit: i64,
) -> Result<Vec<JournalRecord>, Error> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool};
    let mut query = dsl::journal.into_boxed();
    if without_private {
        query = query.filter(not_private());
    }
    Ok(query
        .filter(dsl::commit_seq.is_not_null())
        .filter(
            sql::<Bool>("(journal.commit_seq, journal.seq) > (")
                .bind::<BigInt, _>(after.commit_seq)
                .sql(", ")
                .bind::<BigInt, _>(after.seq)
                .sql(")"),
        )
        .filter(dsl::entity_type.eq_any(types))
        .order((dsl::commit_seq.asc(), dsl::seq.asc()))
        .select(JournalRecord::as_select())
        .limit(limit)
        .load(conn)?)
}
