//! Small SQL helpers shared by the stores.

use crate::error::Error;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::{Bool, Text};
use diesel::{OptionalExtension, QueryResult, RunQueryDsl};
use uuid::Uuid;

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
