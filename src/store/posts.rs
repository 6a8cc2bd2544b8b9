//! Posts: positions in an organization that exist whoever holds them (the
//! director of a department, the secretary of a committee), optionally for
//! an area, from when to when. A role may be the holding of a post (see
//! [`crate::store::holders`]).

use crate::db::schema::posts::{self, dsl};
use crate::db::schema::roles;
use crate::domain::Reference;
use crate::error::{ConflictingRecord, Error};
use crate::store::crud::Rules;
use crate::store::refs::{
    RefColumn, Reference as RefRule, AREAS, MAX_CONFLICTS_LISTED, ORGANIZATIONS, POSTS, ROLES,
};
use crate::store::rows::{list_filter, listing, live_rows, referring};
use crate::store::sort::{keyset_page, After, Keyset, Plan, SortKey, SortOrder, SortValue};
use crate::store::sql::containing;
use crate::store::text::text_values;
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date};
use serde_json::Value;
use uuid::Uuid;

live_rows! {
    /// The posts table.
    pub struct Posts for posts as POSTS;

    /// A post row, tombstones included.
    pub struct PostRecord {}

    /// The writable content of a post, already validated.
    pub struct PostData {
        pub label: String,
        /// The function, e.g. `director`.
        pub role: Option<String>,
        pub organization_id: Uuid,
        pub area_id: Option<Uuid>,
        /// A partial date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
        pub start_date: Option<String>,
        /// A partial date, ending no earlier than `start_date` starts.
        pub end_date: Option<String>,
        /// JSON array of `{name, lang?, note?, start_date?, end_date?}`.
        pub other_labels: Value,
        /// JSON array of `{type, value, label?}`.
        pub contact_details: Value,
        /// JSON array of `{url, note?}`.
        pub links: Value,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
    }

    identified by identifiers;
}

/// The organization a post is in.
const ORGANIZATION: RefColumn = RefColumn::new("organization_id", ORGANIZATIONS);
/// The area a post serves, if it serves one.
const AREA: RefColumn = RefColumn::new("area_id", AREAS);

/// A post names a live organization and, when it serves one, a live area;
/// it is not deleted while live roles hold it, nor moved to another
/// organization (a role holds a post of its own organization).
impl Rules for Posts {
    const REFERENCES: &'static [RefRule<PostData>] = &[
        (ORGANIZATION, |p| Some(p.organization_id)),
        (AREA, |p| p.area_id),
    ];
    const DEPENDENTS: Option<&'static str> = Some(
        "SELECT 'role' AS entity_type, id, title AS name FROM roles \
           WHERE post_id = $1 AND deleted_at IS NULL",
    );

    /// A post that live roles hold keeps its organization (409 naming
    /// them): the roles are held in it.
    fn check_rules(
        conn: &mut PgConnection,
        id: Option<Uuid>,
        data: &PostData,
        before: Option<&PostData>,
    ) -> Result<(), Error> {
        let (Some(id), Some(before)) = (id, before) else {
            return Ok(());
        };
        if before.organization_id == data.organization_id {
            return Ok(());
        }
        let holding: Vec<(Uuid, String)> = roles::table
            .filter(roles::post_id.eq(id))
            .filter(roles::deleted_at.is_null())
            .select((roles::id, roles::title))
            .order((roles::title.asc(), roles::id.asc()))
            .limit(MAX_CONFLICTS_LISTED)
            .load(conn)?;
        if holding.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = holding
            .iter()
            .map(|(id, title)| format!("role {title} ({id})"))
            .collect();
        Err(Error::Conflict {
            detail: format!(
                "post {id} is held by live roles of organization {}: {}; a role holds a post \
                 of its own organization, so end or move them first",
                before.organization_id,
                listed.join(", ")
            ),
            conflicts: holding
                .into_iter()
                .map(|(id, name)| ConflictingRecord {
                    entity_type: ROLES.entity.to_owned(),
                    id,
                    name,
                })
                .collect(),
        })
    }
}

text_values! {
    /// Orders of a listing of posts; ties are broken by id.
    #[derive(Default)]
    pub enum LabelSort {
        /// By label, A to Z (the default).
        #[default]
        Label => "label",
        /// By label, Z to A.
        LabelDesc => "-label",
        /// Oldest first.
        CreatedAt => "created_at",
        /// Newest first.
        CreatedAtDesc => "-created_at",
    }
}

impl SortOrder for LabelSort {
    fn accepts(self, value: &SortValue) -> bool {
        matches!(
            (self, value),
            (Self::Label | Self::LabelDesc, SortValue::Text(_))
                | (Self::CreatedAt | Self::CreatedAtDesc, SortValue::Time(_))
        )
    }
}

impl SortKey<PostRecord> for LabelSort {
    fn key(self, record: &PostRecord) -> After {
        let value = match self {
            Self::Label | Self::LabelDesc => SortValue::Text(record.data.label.clone()),
            Self::CreatedAt | Self::CreatedAtDesc => SortValue::Time(record.created_at),
        };
        After {
            value,
            id: record.id,
        }
    }
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct PostFilter {
        pub organization_id: Option<Reference>,
        pub area_id: Option<Reference>,
        /// Only posts of this function (exact).
        pub role: Option<String>,
        /// Only posts existing on this day: started on or before it (a
        /// partial date from its first day, or no start) and not ended
        /// before it (through its last day, or no end).
        pub active_on: Option<NaiveDate>,
        /// Case-insensitive substring of the label or any other label.
        pub q: Option<String>,
    }
}

/// One keyset page of live posts.
pub fn list(
    conn: &mut PgConnection,
    filter: &PostFilter,
    page: Keyset<LabelSort>,
) -> Result<Vec<PostRecord>, Error> {
    let mut query = listing!(posts, PostRecord, filter, equal[role]);
    referring!(conn, query, posts, filter, [
        organization_id => ORGANIZATIONS,
        area_id => AREAS
    ]);
    if let Some(day) = filter.active_on {
        query = query.filter(
            sql::<Bool>("(posts.start_date IS NULL OR partial_date_first(posts.start_date) <= ")
                .bind::<Date, _>(day)
                .sql(") AND (posts.end_date IS NULL OR partial_date_last(posts.end_date) >= ")
                .bind::<Date, _>(day)
                .sql(")"),
        );
    }
    if let Some(q) = &filter.q {
        query = query.filter(dsl::search_text.ilike(containing(q)));
    }
    keyset_page(
        conn,
        query,
        "posts",
        page,
        Plan::searching(filter.q.is_some()),
    )
}
