//! People: officials and members of the register's organizations.

use crate::db::schema::people;
use crate::domain::Reference;
use crate::error::Error;
use crate::store::crud::Rules;
use crate::store::refs::{ORGANIZATIONS, PEOPLE};
use crate::store::rows::RecordFilter;
use crate::store::rows::{list_filter, listing, live_rows, resolved, Rows};
use crate::store::sort::{keyset_page, Keyset, NameSort, Plan, SortOrder};
use crate::store::sql::names_containing;
use crate::store::tenure::{holders_page, person_holds_role};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

live_rows! {
    /// The people table.
    pub struct People for people as PEOPLE;

    /// A person row, tombstones included.
    pub struct PersonRecord {
        /// Moved only by changes to fields other than [`PII_FIELDS`]: the
        /// version keys without the `pii` scope see (see the migration
        /// `public_versions`).
        pub public_version: i64,
        /// When a field other than [`PII_FIELDS`] last changed.
        pub public_updated_at: DateTime<Utc>,
    }

    /// The writable content of a person, already validated.
    pub struct PersonData {
        pub name: String,
        pub given_name: Option<String>,
        pub family_name: Option<String>,
        /// JSON array of `{name, lang?, note?}`.
        pub other_names: Value,
        pub gender: Option<String>,
        /// A partial date.
        pub birth_date: Option<String>,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub biography: Option<String>,
        pub image_url: Option<String>,
        /// JSON array of `{type, value, label?}`.
        pub contact_details: Value,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
        pub sort_name: Option<String>,
        pub honorific_prefix: Option<String>,
        pub honorific_suffix: Option<String>,
        /// A partial date.
        pub death_date: Option<String>,
        /// JSON array of `{url, note?}` (absent from journal entries written
        /// before links were kept).
        #[serde(default = "crate::store::rows::empty_list")]
        pub links: Value,
    }

    named by name;
    identified by identifiers;
}

/// The fields holding personal data: visible, writable and traceable
/// (versions, the change feed, the audit trail) only with the `pii` scope.
pub const PII_FIELDS: &[&str] = &["birth_date", "email", "phone"];

/// People are not deleted while live roles or event participants still
/// refer to them.
impl Rules for People {
    const BATCHED: bool = true;
    const DEPENDENTS: Option<&'static str> = Some(
        "SELECT 'role' AS entity_type, r.id, r.title || ' of ' || o.name AS name \
           FROM roles r JOIN organizations o ON o.id = r.organization_id \
           WHERE r.person_id = $1 AND r.deleted_at IS NULL \
         UNION ALL \
         SELECT 'participant', p.id, p.role || ' at ' || e.title \
           FROM event_participants p JOIN events e ON e.id = p.event_id \
           WHERE p.person_id = $1 AND p.deleted_at IS NULL",
    );
}

/// The live person `id`, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<PersonRecord, Error> {
    People::find_live(conn, id)
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct PersonFilter {
        /// Case-insensitive substring of the name or any other name.
        pub q: Option<String>,
        /// Only people holding a live role in this organization.
        pub organization_id: Option<Reference>,
        /// Only people holding a live role active on this date (in
        /// `organization_id` when given).
        pub active_on: Option<NaiveDate>,
        /// Whether `updated_since` counts changes of personal data (for keys
        /// with the `pii` scope) or only the others.
        pub with_pii: bool,
    }
}

/// Whether `term` is one or two characters once lower-cased, none of them
/// white space (which `people_name_grams` does not list, nor does a
/// trimmed term of two characters hold any).
fn is_short(term: &str) -> bool {
    let lowered: Vec<char> = term.chars().flat_map(char::to_lowercase).take(3).collect();
    (1..=2).contains(&lowered.len()) && !lowered.iter().any(|c| c.is_whitespace())
}

/// The ids of one page, in name order, of the live people whose names
/// contain `term` (one or two characters), from `people_name_grams` (looked
/// up by PostgreSQL's `lower`, as the table was filled).
fn with_gram_page(
    conn: &mut PgConnection,
    term: &str,
    page: Keyset<NameSort>,
) -> Result<Vec<Uuid>, Error> {
    use crate::db::schema::people_name_grams::dsl;
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let query = dsl::people_name_grams
        .filter(
            sql::<Bool>("people_name_grams.gram = lower(")
                .bind::<Text, _>(term.to_owned())
                .sql(")"),
        )
        .select(dsl::id)
        .into_boxed();
    keyset_page(conn, query, "people_name_grams", page, Plan::Prepared)
}

/// One keyset page of live people.
pub fn list(
    conn: &mut PgConnection,
    filter: &PersonFilter,
    page: Keyset<NameSort>,
) -> Result<Vec<PersonRecord>, Error> {
    let mut query = if filter.with_pii {
        listing!(people, PersonRecord, filter)
    } else {
        listing!(people, PersonRecord, filter, public_updated_at)
    };
    let organization = resolved!(conn, ORGANIZATIONS, filter, organization_id);
    let alone = organization.is_none()
        && filter.active_on.is_none()
        && filter.records == RecordFilter::default();
    let mut searching = false;
    if let Some(q) = &filter.q {
        // One or two characters alone, in name order: the page's people
        // come from one walk of an index, however many names hold them.
        query = if alone && is_short(q) && page.sort.column().0 == "name" {
            let ids = with_gram_page(conn, q, page)?;
            query.filter(people::id.eq_any(ids))
        } else {
            searching = true;
            query.filter(names_containing("people", q))
        };
    }
    match organization {
        // By organization alone: the page's people come from one walk of
        // an index (with other filters, the page could not be cut there).
        Some(organization) if filter.q.is_none() && filter.records == RecordFilter::default() => {
            let ids = holders_page(conn, organization, filter.active_on, page)?;
            query = query.filter(people::id.eq_any(ids));
        }
        _ if organization.is_some() || filter.active_on.is_some() => {
            query = query.filter(person_holds_role(organization, filter.active_on));
        }
        _ => {}
    }
    keyset_page(conn, query, "people", page, Plan::searching(searching))
}

#[cfg(test)]
mod tests {
    use super::is_short;

    #[test]
    fn a_short_term_is_one_or_two_characters_once_lower_cased_with_no_white_space() {
        for short in ["王", "王伟", "W", "Le", "ß", "%_"] {
            assert!(is_short(short), "{short}");
        }
        // "İ" lower-cases to two characters; three, or white space, is not short.
        assert!(is_short("İ"));
        for long in ["", "王伟伟", "İİ", "a b", "a ", "\u{3000}"] {
            assert!(!is_short(long), "{long:?}");
        }
    }
}
