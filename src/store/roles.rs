//! Roles: who holds which post in which organization, from when to when;
//! and which organizations are members of another (e.g. of the alliance).
//! The member is exactly one of a person or an organization.

use crate::db::schema::roles::{self, dsl};
use crate::db::schema::{organizations, people};
use crate::domain::{Parse, PartialDate};
use crate::error::{ConflictingRecord, Error};
use crate::store::crud::Rules;
use crate::store::organizations::OrganizationRecord;
use crate::store::organizations::{and_below, Organizations};
use crate::store::people::People;
use crate::store::people::PersonRecord;
use crate::store::posts::{PostRecord, Posts};
use crate::store::refs::{self, RefColumn, Reference, ORGANIZATIONS, PEOPLE, POSTS, ROLES};
use crate::store::rows::{list_filter, listing, live_rows, referring, resolved, Rows};
use crate::store::sort::{keyset_page, CreatedSort, Keyset, Plan};
use crate::store::sql::{containing, lock_named};
use crate::store::tenure::active_on;
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date as SqlDate};
use serde_json::Value;
use uuid::Uuid;

live_rows! {
    /// The roles table.
    pub struct Roles for roles as ROLES;

    /// A role row, tombstones included.
    pub struct RoleRecord {}

    /// The writable content of a role, already validated (exactly one member).
    pub struct RoleData {
        pub organization_id: Uuid,
        pub person_id: Option<Uuid>,
        pub member_organization_id: Option<Uuid>,
        pub title: String,
        /// A partial date, read from its first day.
        pub start_date: Option<String>,
        /// A partial date, read through its last day.
        pub end_date: Option<String>,
        pub note: Option<String>,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
        /// The function the member fulfils, e.g. `member` or `convenor`
        /// (Popolo's membership `role`).
        pub role: Option<String>,
        /// The organization the member holds the role on behalf of.
        pub on_behalf_of_id: Option<Uuid>,
        /// The post the role is the holding of.
        pub post_id: Option<Uuid>,
        /// JSON array of `{url, note?}` (absent from journal entries written
        /// before links were kept).
        #[serde(default = "crate::store::rows::empty_list")]
        pub links: Value,
    }

    identified by identifiers;
}

/// The organization a role is held in.
const ORGANIZATION: RefColumn = RefColumn::new("organization_id", ORGANIZATIONS);
/// The person holding a role, if a person does.
const PERSON: RefColumn = RefColumn::new("person_id", PEOPLE);
/// The organization holding a role (a member), if an organization does.
const MEMBER_ORGANIZATION: RefColumn = RefColumn::new("member_organization_id", ORGANIZATIONS);
/// The organization a role is held on behalf of, if any.
const ON_BEHALF_OF: RefColumn = RefColumn::new("on_behalf_of_id", ORGANIZATIONS);
/// The post a role is the holding of, if any.
const POST: RefColumn = RefColumn::new("post_id", POSTS);

/// A role names a live organization and a live member, and its member
/// holds the same title there over one period at a time. (Ending a role is
/// setting its `end_date`; deleting is for roles entered by mistake.)
impl Rules for Roles {
    const REFERENCES: &'static [Reference<RoleData>] = &[
        (ORGANIZATION, |r| Some(r.organization_id)),
        (PERSON, |r| r.person_id),
        (MEMBER_ORGANIZATION, |r| r.member_organization_id),
        (ON_BEHALF_OF, |r| r.on_behalf_of_id),
        (POST, |r| r.post_id),
    ];

    /// A role whose organization, member, title or dates change (or a new
    /// one) must not overlap another of the member with the same title
    /// there (409); a role holding a post is held in the post's
    /// organization (422).
    fn check_rules(
        conn: &mut PgConnection,
        id: Option<Uuid>,
        data: &RoleData,
        before: Option<&RoleData>,
    ) -> Result<(), Error> {
        if let Some(post) = data.post_id {
            let post = Posts::find_live(conn, post)?;
            if post.data.organization_id != data.organization_id {
                return Err(Error::invalid(
                    "post_id",
                    "the post is one of another organization: a role holds a post of its own organization",
                ));
            }
        }
        if before.is_some_and(|before| !changes_tenure(before, data)) {
            return Ok(());
        }
        lock_holder(conn, data)?;
        refuse_overlapping(conn, data, id)
    }
}

/// Takes the transaction-scoped lock that serializes writes of the roles
/// the holder of `data` (person or member organization) has in its
/// organization, so that two of them cannot both pass
/// [`refuse_overlapping`]. Taken after the row locks of the write.
fn lock_holder(conn: &mut PgConnection, data: &RoleData) -> Result<(), Error> {
    let holder = match (data.person_id, data.member_organization_id) {
        (Some(person), _) => format!("person:{person}"),
        (None, Some(member)) => format!("organization:{member}"),
        (None, None) => "none".to_owned(),
    };
    lock_named(
        conn,
        &format!("role-holder:{}:{holder}", data.organization_id),
    )
}

/// A role's dates as text, e.g. `2020 to open end`.
fn period(start: Option<&str>, end: Option<&str>) -> String {
    format!(
        "{} to {}",
        start.unwrap_or("open start"),
        end.unwrap_or("open end"),
    )
}

/// The first or last day (`last`) of stored partial date `text`.
fn day_of(text: &str, last: bool) -> Result<NaiveDate, Error> {
    let date = PartialDate::parse(text).map_err(Error::internal)?;
    Ok(if last {
        date.last_day()
    } else {
        date.first_day()
    })
}

/// Fails with 409 naming the live roles (other than `id`) in which the
/// holder of `data` holds the same title in the same organization over a
/// period overlapping that of `data` (a missing start or end date is
/// open). The caller holds [`lock_holder`].
fn refuse_overlapping(
    conn: &mut PgConnection,
    data: &RoleData,
    id: Option<Uuid>,
) -> Result<(), Error> {
    let mut query = dsl::roles
        .inner_join(organizations::table.on(dsl::organization_id.eq(organizations::id)))
        .filter(dsl::deleted_at.is_null())
        .filter(dsl::organization_id.eq(data.organization_id))
        .filter(dsl::person_id.is_not_distinct_from(data.person_id))
        .filter(dsl::member_organization_id.is_not_distinct_from(data.member_organization_id))
        .filter(dsl::title.eq(&data.title))
        .select((dsl::id, dsl::start_date, dsl::end_date, organizations::name))
        .into_boxed();
    // Overlap: this start <= other end, and other start <= this end (each
    // partial date read as its span of days).
    if let Some(start) = &data.start_date {
        query = query.filter(
            sql::<Bool>("(roles.end_date IS NULL OR partial_date_last(roles.end_date) >= ")
                .bind::<SqlDate, _>(day_of(start, false)?)
                .sql(")"),
        );
    }
    if let Some(end) = &data.end_date {
        query = query.filter(
            sql::<Bool>("(roles.start_date IS NULL OR partial_date_first(roles.start_date) <= ")
                .bind::<SqlDate, _>(day_of(end, true)?)
                .sql(")"),
        );
    }
    if let Some(id) = id {
        query = query.filter(dsl::id.ne(id));
    }
    let overlapping: Vec<(Uuid, Option<String>, Option<String>, String)> = query
        .order((dsl::start_date.asc().nulls_first(), dsl::id.asc()))
        .limit(refs::MAX_CONFLICTS_LISTED)
        .load(conn)?;
    let Some((_, _, _, organization)) = overlapping.first() else {
        return Ok(());
    };
    let name = format!("{} of {organization}", data.title);
    let holder = if data.person_id.is_some() {
        "this person"
    } else {
        "this member organization"
    };
    let listed: Vec<String> = overlapping
        .iter()
        .map(|(id, start, end, _)| {
            format!("role {id} ({})", period(start.as_deref(), end.as_deref()))
        })
        .collect();
    Err(Error::Conflict {
        detail: format!(
            "{holder} already holds {name} over a period overlapping {}: {}; \
             change the dates or the existing role instead",
            period(data.start_date.as_deref(), data.end_date.as_deref()),
            listed.join(", ")
        ),
        conflicts: overlapping
            .into_iter()
            .map(|(id, _, _, _)| ConflictingRecord {
                entity_type: ROLES.entity.to_owned(),
                id,
                name: name.clone(),
            })
            .collect(),
    })
}

/// Whether `data` changes what makes two roles duplicates of each other:
/// organization, holder, title or dates.
fn changes_tenure(current: &RoleData, data: &RoleData) -> bool {
    current.organization_id != data.organization_id
        || current.person_id != data.person_id
        || current.member_organization_id != data.member_organization_id
        || current.title != data.title
        || current.start_date != data.start_date
        || current.end_date != data.end_date
}

/// The filters of the roles of one record and of every listing of roles:
/// all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct TenureFilter {
    /// Only roles active on this day.
    pub active_on: Option<NaiveDate>,
    /// Case-insensitive substring of the title.
    pub title: Option<String>,
    /// The role (function), exactly.
    pub role: Option<String>,
}

impl TenureFilter {
    /// How a listing of roles with these filters is planned: per value
    /// when it searches titles.
    fn plan(&self) -> Plan {
        Plan::searching(self.title.is_some())
    }
}

/// Keeps, of boxed query `$query` over roles, those `$tenure` (a
/// [`TenureFilter`]) keeps.
macro_rules! tenure_filter {
    ($query:ident, $tenure:expr) => {
        if let Some(day) = $tenure.active_on {
            $query = $query.filter(active_on(day));
        }
        if let Some(title) = &$tenure.title {
            $query = $query.filter(dsl::title.ilike(containing(title)));
        }
        if let Some(role) = &$tenure.role {
            $query = $query.filter(dsl::role.eq(role));
        }
    };
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct RoleFilter {
        pub organization_id: Option<crate::domain::Reference>,
        /// Whether the organizations below `organization_id` count as it.
        pub include_descendants: bool,
        pub person_id: Option<crate::domain::Reference>,
        pub member_organization_id: Option<crate::domain::Reference>,
        pub tenure: TenureFilter,
    }
}

/// One keyset page of live roles.
pub fn list(
    conn: &mut PgConnection,
    filter: &RoleFilter,
    page: Keyset<CreatedSort>,
) -> Result<Vec<RoleRecord>, Error> {
    let mut query = listing!(roles, RoleRecord, filter);
    referring!(conn, query, roles, filter, [
        person_id => PEOPLE,
        member_organization_id => ORGANIZATIONS
    ]);
    if let Some(organization) = resolved!(conn, ORGANIZATIONS, filter, organization_id) {
        query = match and_below(conn, organization, filter.include_descendants)?[..] {
            // One organization: its index gives the page in order.
            [one] => query.filter(dsl::organization_id.eq(one)),
            ref ids => query.filter(dsl::organization_id.eq_any(ids.to_vec())),
        };
    }
    tenure_filter!(query, filter.tenure);
    keyset_page(conn, query, "roles", page, filter.tenure.plan())
}

/// What a listing of roles embeds of the records each refers to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Embeds {
    pub person: bool,
    pub organization: bool,
    pub member_organization: bool,
    pub post: bool,
}

/// The records a role refers to that a listing embeds (each `None` when
/// not asked for, or when the role has none).
#[derive(Debug, Clone, Default)]
pub struct Referred {
    pub person: Option<PersonRecord>,
    pub organization: Option<OrganizationRecord>,
    pub member_organization: Option<OrganizationRecord>,
    pub post: Option<PostRecord>,
}

/// `roles`, each with the records `embeds` asks for: one query per kind
/// of record asked for.
pub fn with_referred(
    conn: &mut PgConnection,
    roles: Vec<RoleRecord>,
    embeds: Embeds,
) -> Result<Vec<(RoleRecord, Referred)>, Error> {
    let ids = |asked: bool, of: fn(&RoleData) -> Option<Uuid>| -> Vec<Uuid> {
        if asked {
            roles.iter().filter_map(|role| of(&role.data)).collect()
        } else {
            Vec::new()
        }
    };
    let people = People::live_many(conn, &ids(embeds.person, |r| r.person_id))?;
    let mut organization_ids = ids(embeds.organization, |r| Some(r.organization_id));
    organization_ids.extend(ids(embeds.member_organization, |r| {
        r.member_organization_id
    }));
    let organizations = Organizations::live_many(conn, &organization_ids)?;
    let posts = Posts::live_many(conn, &ids(embeds.post, |r| r.post_id))?;
    Ok(roles
        .into_iter()
        .map(|role| {
            let data = &role.data;
            let referred = Referred {
                person: data.person_id.and_then(|id| people.get(&id).cloned()),
                organization: Some(data.organization_id)
                    .filter(|_| embeds.organization)
                    .and_then(|id| organizations.get(&id).cloned()),
                member_organization: data
                    .member_organization_id
                    .filter(|_| embeds.member_organization)
                    .and_then(|id| organizations.get(&id).cloned()),
                post: data.post_id.and_then(|id| posts.get(&id).cloned()),
            };
            (role, referred)
        })
        .collect())
}

/// A view of the roles of one record (an organization's members, a
/// person's roles): one keyset page of them that the filter keeps.
pub type View<R> =
    fn(&mut PgConnection, Uuid, &TenureFilter, Keyset<CreatedSort>) -> Result<Vec<R>, Error>;

/// A role in an organization with its member: a person or an organization.
pub type MemberRow = (RoleRecord, Option<PersonRecord>, Option<OrganizationRecord>);

/// One keyset page of the live roles in organization `id` that `tenure`
/// keeps, each with its member — in one query.
pub fn members(
    conn: &mut PgConnection,
    id: Uuid,
    tenure: &TenureFilter,
    page: Keyset<CreatedSort>,
) -> Result<Vec<MemberRow>, Error> {
    let mut query = dsl::roles
        .left_join(people::table.on(dsl::person_id.eq(people::id.nullable())))
        .left_join(
            organizations::table.on(dsl::member_organization_id.eq(organizations::id.nullable())),
        )
        .filter(dsl::organization_id.eq(id))
        .filter(dsl::deleted_at.is_null())
        .select((
            RoleRecord::as_select(),
            Option::<PersonRecord>::as_select(),
            Option::<OrganizationRecord>::as_select(),
        ))
        .into_boxed();
    tenure_filter!(query, tenure);
    keyset_page(conn, query, "roles", page, tenure.plan())
}

/// A role of a person with the organization it is held in.
pub type HeldRole = (RoleRecord, OrganizationRecord);

/// One keyset page of the live roles person `id` holds that `tenure`
/// keeps, each with its organization — in one query.
pub fn held_by(
    conn: &mut PgConnection,
    id: Uuid,
    tenure: &TenureFilter,
    page: Keyset<CreatedSort>,
) -> Result<Vec<HeldRole>, Error> {
    let mut query = dsl::roles
        .inner_join(organizations::table.on(dsl::organization_id.eq(organizations::id)))
        .filter(dsl::person_id.eq(id))
        .filter(dsl::deleted_at.is_null())
        .select((RoleRecord::as_select(), OrganizationRecord::as_select()))
        .into_boxed();
    tenure_filter!(query, tenure);
    keyset_page(conn, query, "roles", page, tenure.plan())
}
