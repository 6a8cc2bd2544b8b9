//! Plain synchronous diesel functions over `&mut PgConnection`: the register's
//! reads and writes, free of HTTP types. Callers wrap writes in a transaction.

pub mod organizations;

use crate::error::Error;
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    expression::BoxableExpression,
    pg::Pg,
    sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a write expects of the record's current version (from `If-Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VersionCheck {
    /// Write whatever the current version is.
    #[default]
    Any,
    /// Write only if the current version is one of these.
    OneOf(Vec<i64>),
}

impl VersionCheck {
    /// Fails with 412 unless `current` satisfies the expectation.
    pub fn verify(&self, current: i64) -> Result<(), Error> {
        match self {
            Self::OneOf(versions) if !versions.contains(&current) => {
                Err(Error::PreconditionFailed {
                    current_version: current,
                })
            }
            _ => Ok(()),
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
}

/// Where a keyset page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub value: SortValue,
    pub id: Uuid,
}

/// The condition "row comes after `after`" for a listing ordered by
/// `(column, id)`, ascending or descending. A row-value comparison, so
/// PostgreSQL walks the `(column, id)` index from that point: page 1,000
/// costs what page 1 costs.
///
/// `column` and `id_column` are trusted SQL (qualified column names).
pub fn keyset_condition<QS>(
    column: &'static str,
    id_column: &'static str,
    descending: bool,
    after: &After,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>
where
    QS: 'static,
{
    let op = if descending { "<" } else { ">" };
    let head = sql::<Bool>(&format!("({column}, {id_column}) {op} ("));
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
    }
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
    }

    #[test]
    fn version_checks() {
        assert!(VersionCheck::Any.verify(3).is_ok());
        assert!(VersionCheck::OneOf(vec![2, 3]).verify(3).is_ok());
        assert!(matches!(
            VersionCheck::OneOf(vec![2]).verify(3),
            Err(Error::PreconditionFailed { current_version: 3 })
        ));
    }
}
