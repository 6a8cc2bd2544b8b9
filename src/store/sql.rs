//! Small SQL helpers shared by the stores.

use crate::error::Error;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
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
