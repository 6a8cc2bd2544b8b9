//! Orders of listings and keyset pagination: a page starts after the sort
//! value and id of the last row of the one before.

use crate::error::Error;
use crate::store::sql::Prepared;
use crate::store::text::text_values;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::{BoxableExpression, SqlLiteral};
use diesel::pg::{Pg, PgConnection};
use diesel::query_dsl::{methods, LoadQuery};
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An order a listing can take, with what keyset pagination needs. Its
/// text (a [`text_values!`] enum's) is its tag: the sort column, after a
/// `-` when the order is descending.
pub trait SortOrder: Copy + Send + Into<&'static str> + 'static {
    /// Name of the order in the `sort` parameter and in cursors.
    fn tag(self) -> &'static str {
        self.into()
    }

    /// The (unqualified) sort column and whether the order is descending.
    fn column(self) -> (&'static str, bool) {
        let tag = self.tag();
        match tag.strip_prefix('-') {
            Some(column) => (column, true),
            None => (tag, false),
        }
    }

    /// Whether `value` can be a position in this order.
    fn accepts(self, value: &SortValue) -> bool;
}

/// A [`SortOrder`] of listings of `R`.
pub trait SortKey<R>: SortOrder {
    /// The sort value of `record`, from which the next page starts.
    fn key(self, record: &R) -> After;
}

/// A record with a name, listed by name or by creation time.
pub trait Named: Created {
    fn name(&self) -> &str;
}

text_values! {
    /// Orders of a listing of named records; ties are broken by id.
    #[derive(Default)]
    pub enum NameSort {
        /// By name, A to Z (the default).
        #[default]
        Name => "name",
        /// By name, Z to A.
        NameDesc => "-name",
        /// Oldest first.
        CreatedAt => "created_at",
        /// Newest first.
        CreatedAtDesc => "-created_at",
    }
}

impl SortOrder for NameSort {
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

text_values! {
    /// Orders of a listing by creation time; ties are broken by id.
    #[derive(Default)]
    pub enum CreatedSort {
        /// Oldest first (the default).
        #[default]
        CreatedAt => "created_at",
        /// Newest first.
        CreatedAtDesc => "-created_at",
    }
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

/// Which rows of a listing one page reads: at most `limit`, after `after`
/// (when given) in `sort` order.
#[derive(Debug, Clone, Copy)]
pub struct Keyset<'a, S> {
    pub sort: S,
    pub after: Option<&'a After>,
    pub limit: i64,
}

impl<S> Keyset<'static, S> {
    /// The first `limit` rows in `sort` order.
    pub fn first(sort: S, limit: i64) -> Self {
        Self {
            sort,
            after: None,
            limit,
        }
    }
}

/// How PostgreSQL is to plan a listing's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Kept prepared on the connection (see [`Prepared`]): parsed once,
    /// and PostgreSQL may settle on one plan for every value — for
    /// listings whose best plan does not hang on their values.
    Prepared,
    /// Parsed and planned for each execution's values: a text search,
    /// whose best plan hangs on how many rows its term matches (a plan
    /// made for any term walked a million names for a rare one).
    PerValue,
}

impl Plan {
    /// [`Plan::PerValue`] for a listing that searches text, else prepared.
    pub fn searching(search: bool) -> Self {
        match search {
            true => Self::PerValue,
            false => Self::Prepared,
        }
    }
}

/// The rows of `query` (a boxed listing of `table`) that `page` reads,
/// planned as `plan` says (a prepared statement's text varies only with
/// the table, the filters given, the order and whether the page has a
/// start).
pub fn keyset_page<'a, Q, QS, R, S>(
    conn: &mut PgConnection,
    query: Q,
    table: &str,
    Keyset { sort, after, limit }: Keyset<'_, S>,
    plan: Plan,
) -> Result<Vec<R>, Error>
where
    QS: 'static,
    S: SortOrder,
    Q: methods::FilterDsl<Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>, Output = Q>
        + methods::OrderDsl<SqlLiteral<Bool>, Output = Q>
        + methods::LimitDsl<Output = Q>
        + LoadQuery<'a, PgConnection, R>,
    Prepared<Q>: LoadQuery<'a, PgConnection, R>,
{
    let query = match after {
        Some(after) => query.filter(keyset_after(table, sort, after)),
        None => query,
    };
    let query = query.order(keyset_order(table, sort)).limit(limit);
    Ok(match plan {
        Plan::Prepared => Prepared(query).load(conn)?,
        Plan::PerValue => query.load(conn)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{events::EventSort, journal::JournalSort};

    fn columns<S: SortOrder>(orders: &[S]) -> Vec<(&'static str, bool)> {
        orders.iter().map(|order| order.column()).collect()
    }

    #[test]
    fn orders_read_their_column_from_their_tag() {
        let by_name = [("name", false), ("name", true)];
        let by_creation = [("created_at", false), ("created_at", true)];
        // Events by start are ordered by their derived `begins_at`.
        let by_start = [("begins_at", false), ("begins_at", true)];
        assert_eq!(columns(NameSort::ALL), [by_name, by_creation].concat());
        assert_eq!(columns(CreatedSort::ALL), by_creation);
        assert_eq!(columns(EventSort::ALL), [by_start, by_creation].concat());
        assert_eq!(columns(JournalSort::ALL), [("seq", false), ("seq", true)]);
        assert_eq!(EventSort::StartsAtDesc.tag(), "-starts_at");
    }
}
