//! Roles: who holds which post in which organization, from when to when;
//! and which organizations are members of another (e.g. of the alliance).
//! The member is exactly one of a person or an organization.

use crate::db::schema::roles::{self, dsl};
use crate::db::schema::{organizations, people};
use crate::error::{ConflictingRecord, Error};
use crate::store::crud::Rules;
use crate::store::organizations::OrganizationRecord;
use crate::store::people::PersonRecord;
use crate::store::refs::{self, RefColumn, Reference, ORGANIZATIONS, PEOPLE, ROLES};
use crate::store::rows::{list_filter, listing, live_rows, referring};
use crate::store::sort::{keyset_page, CreatedSort, Keyset};
use crate::store::sql::{containing, lock_named};
use crate::store::tenure::active_on;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
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
        pub start_date: Option<NaiveDate>,
        pub end_date: Option<NaiveDate>,
        pub note: Option<String>,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
    }

    identified by identifiers;
}

/// The organization a role is held in.
const ORGANIZATION: RefColumn = RefColumn::new("organization_id", ORGANIZATIONS);
/// The person holding a role, if a person does.
const PERSON: RefColumn = RefColumn::new("person_id", PEOPLE);
/// The organization holding a role (a member), if an organization does.
const MEMBER_ORGANIZATION: RefColumn = RefColumn::new("member_organization_id", ORGANIZATIONS);

/// A role names a live organization and a live member, and its member
/// holds the same title there over one period at a time. (Ending a role is
/// setting its `end_date`; deleting is for roles entered by mistake.)
impl Rules for Roles {
    const REFERENCES: &'static [Reference<RoleData>] = &[
        (ORGANIZATION, |r| Some(r.organization_id)),
        (PERSON, |r| r.person_id),
        (MEMBER_ORGANIZATION, |r| r.member_organization_id),
    ];

    /// A role whose organization, member, title or dates change (or a new
    /// one) must not overlap another of the member with the same title
    /// there (409).
    fn check_rules(
        conn: &mut PgConnection,
        id: Option<Uuid>,
        data: &RoleData,
        before: Option<&RoleData>,
    ) -> Result<(), Error> {
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

/// A role's dates as text, e.g. `2020-01-01 to open end`.
fn period(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    format!(
        "{} to {}",
        start.map_or_else(|| "open start".to_owned(), |day| day.to_string()),
        end.map_or_else(|| "open end".to_owned(), |day| day.to_string()),
    )
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
    // Overlap: this start <= other end, and other start <= this end.
    if let Some(start) = data.start_date {
        query = query.filter(dsl::end_date.is_null().or(dsl::end_date.ge(start)));
    }
    if let Some(end) = data.end_date {
        query = query.filter(dsl::start_date.is_null().or(dsl::start_date.le(end)));
    }
    if let Some(id) = id {
        query = query.filter(dsl::id.ne(id));
    }
    let overlapping: Vec<(Uuid, Option<NaiveDate>, Option<NaiveDate>, String)> = query
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
        .map(|(id, start, end, _)| format!("role {id} ({})", period(*start, *end)))
        .collect();
    Err(Error::Conflict {
        detail: format!(
            "{holder} already holds {name} over a period overlapping {}: {}; \
             change the dates or the existing role instead",
            period(data.start_date, data.end_date),
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

list_filter! {
    /// List filters; all given ones must hold.
    pub struct RoleFilter {
        pub organization_id: Option<crate::domain::Reference>,
        pub person_id: Option<crate::domain::Reference>,
        pub member_organization_id: Option<crate::domain::Reference>,
        pub active_on: Option<NaiveDate>,
        /// Case-insensitive substring of the title.
        pub title: Option<String>,
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
        organization_id => ORGANIZATIONS,
        person_id => PEOPLE,
        member_organization_id => ORGANIZATIONS
    ]);
    if let Some(day) = filter.active_on {
        query = query.filter(active_on(day));
    }
    if let Some(title) = &filter.title {
        query = query.filter(dsl::title.ilike(containing(title)));
    }
    keyset_page(conn, query, "roles", page)
}

/// A view of the roles of one record (an organization's members, a
/// person's roles): one keyset page of them, optionally only those active
/// on a day.
pub type View<R> =
    fn(&mut PgConnection, Uuid, Option<NaiveDate>, Keyset<CreatedSort>) -> Result<Vec<R>, Error>;

/// A role in an organization with its member: a person or an organization.
pub type MemberRow = (RoleRecord, Option<PersonRecord>, Option<OrganizationRecord>);

/// One keyset page of the live roles in organization `id` (optionally only
/// those active on `day`), each with its member — in one query.
pub fn members(
    conn: &mut PgConnection,
    id: Uuid,
    day: Option<NaiveDate>,
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
    if let Some(day) = day {
        query = query.filter(active_on(day));
    }
    keyset_page(conn, query, "roles", page)
}

/// A role of a person with the organization it is held in.
pub type HeldRole = (RoleRecord, OrganizationRecord);

/// One keyset page of the live roles person `id` holds (optionally only
/// those active on `day`), each with its organization — in one query.
pub fn held_by(
    conn: &mut PgConnection,
    id: Uuid,
    day: Option<NaiveDate>,
    page: Keyset<CreatedSort>,
) -> Result<Vec<HeldRole>, Error> {
    let mut query = dsl::roles
        .inner_join(organizations::table.on(dsl::organization_id.eq(organizations::id)))
        .filter(dsl::person_id.eq(id))
        .filter(dsl::deleted_at.is_null())
        .select((RoleRecord::as_select(), OrganizationRecord::as_select()))
        .into_boxed();
    if let Some(day) = day {
        query = query.filter(active_on(day));
    }
    keyset_page(conn, query, "roles", page)
}
