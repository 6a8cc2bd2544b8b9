//! Small SQL helpers shared by the stores.

use crate::error::Error;
use diesel::expression::{is_aggregate, AppearsOnTable, AsExpression, BoxableExpression};
use diesel::expression::{Expression, SelectableExpression, TypedExpressionType, ValidGrouping};
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, HasSqlType, SqlType, Text};
use diesel::{OptionalExtension, QueryResult, RunQueryDsl};
use std::marker::PhantomData;
use uuid::Uuid;

/// A piece of SQL with bound parameters, typed `ST` — what diesel's
/// `sql()` literal is, except that a query holding it keeps diesel's
/// prepared-statement cache: PostgreSQL parses and plans a listing once per
/// connection instead of once per request (half a millisecond a page on a
/// register of a million people). Diesel refuses to cache its literals
/// because their text could carry values; a fragment's text is only ever
/// this crate's own (table and column names, operators) — every value is
/// a bound parameter — so the statements it makes are few.
pub struct Fragment<ST> {
    parts: Vec<Part>,
    _type: PhantomData<ST>,
}

enum Part {
    Sql(String),
    Bind(Box<dyn QueryFragment<Pg> + Send>),
}

/// A fragment starting with the SQL text `text` (never a value: bind
/// those with [`Fragment::bind`]).
pub fn fragment<ST>(text: impl Into<String>) -> Fragment<ST> {
    Fragment {
        parts: vec![Part::Sql(text.into())],
        _type: PhantomData,
    }
}

impl<ST> Fragment<ST> {
    /// Appends `value` as a parameter of SQL type `BT`.
    pub fn bind<BT, U>(mut self, value: U) -> Self
    where
        BT: SqlType + diesel::sql_types::SingleValue,
        Pg: HasSqlType<BT>,
        U: AsExpression<BT>,
        U::Expression: QueryFragment<Pg> + Send + 'static,
    {
        self.parts
            .push(Part::Bind(Box::new(AsExpression::<BT>::as_expression(
                value,
            ))));
        self
    }

    /// Appends the SQL text `text` (never a value).
    pub fn sql(mut self, text: impl Into<String>) -> Self {
        self.parts.push(Part::Sql(text.into()));
        self
    }
}

impl<ST: TypedExpressionType> Expression for Fragment<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fragment<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Bind(value) => value.walk_ast(out.reborrow())?,
            }
        }
        Ok(())
    }
}

impl<ST> QueryId for Fragment<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: TypedExpressionType, QS> SelectableExpression<QS> for Fragment<ST> {}

impl<ST: TypedExpressionType, QS> AppearsOnTable<QS> for Fragment<ST> {}

impl<ST, GB> ValidGrouping<GB> for Fragment<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// Takes the transaction-scoped advisory lock named `key` (hashed to 64
/// bits). Keys are namespaced by their text, e.g. `identifier:person:yp:P1`.
pub fn lock_named(conn: &mut PgConnection, key: &str) -> Result<(), Error> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(key)
        .execute(conn)?;
    Ok(())
}

/// The row a lookup by primary key found, or 404 naming `entity` and `id`.
pub fn found<T>(row: QueryResult<T>, entity: &str, id: Uuid) -> Result<T, Error> {
    row.optional()?.ok_or_else(|| Error::not_found(entity, id))
}

/// Rows of `table` (people or organizations: indexed by the grams of their
/// names, see the migration `short_search`) whose names contain `term`,
/// case-insensitively: the index finds the rows with the term's grams (so
/// a term of one or two characters is found as fast as a longer one), the
/// substring is checked on those.
pub fn names_containing<QS: 'static>(
    table: &str,
    term: &str,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    Box::new(
        fragment::<Bool>(format!(
            "(search_grams({table}.search_text) @> search_term_grams("
        ))
        .bind::<Text, _>(term.to_owned())
        .sql(format!(") AND {table}.search_text ILIKE "))
        .bind::<Text, _>(containing(term))
        .sql(")"),
    )
}

/// The LIKE pattern matching values that contain `text` anywhere.
pub fn containing(text: &str) -> String {
    format!("%{}%", like_escape(text))
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
        assert_eq!(containing("5%"), r"%5\%%");
    }
}
