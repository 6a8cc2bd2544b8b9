//! Small SQL helpers shared by the stores.

use crate::error::Error;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use diesel::{OptionalExtension, QueryResult, RunQueryDsl};
use uuid::Uuid;

/// A query that each connection prepares once and then only executes,
/// keyed by its SQL text — as diesel does by itself for queries built
/// wholly from its DSL. diesel will not for a query holding a literal
/// fragment (`sql`, `sql_query`), since such text could carry values;
/// wrap only queries whose text comes from a bounded set (table, column
/// and order names, never a value: values are bound). Parsing and
/// analysing a listing's 60-column join cost PostgreSQL as much as running
/// it. PostgreSQL may then settle on one plan for all values (after five
/// executions, when that plan seems no dearer): do not prepare a query
/// whose best plan hangs on its values (see `sort::Plan`).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the statement cache keys it by its SQL text and the types
/// of its binds.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}

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
        sql::<Bool>(&format!(
            "(search_grams({table}.search_text) @> search_term_grams("
        ))
        .bind::<Text, _>(term.to_owned())
        .sql(&format!(") AND {table}.search_text ILIKE "))
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
