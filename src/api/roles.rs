//! `/v1/roles`: who holds which post in which organization, from when to
//! when; and which organizations are members of another. Also the two views
//! over roles: the members of an organization and the roles of a person.

use crate::api::values::{Date, Instant};
use crate::store::api_keys::Principal;
use crate::{
    api::{
        common::{self, Identifier, Reference, Source},
        extract::Query,
        organizations::Organization,
        pagination::{fetch_page, page_response},
        people::Person,
        preconditions::IfNoneMatch,
        problems::{ListErrors, ReadErrors},
        resource::Resource,
        validation::{search_param, Validator, MAX_SEARCH_CHARS},
    },
    db::PgPool,
    error::Error,
    page_type,
    store::{
        organizations, people,
        refs::{Table, ORGANIZATIONS, PEOPLE, ROLES},
        roles::{self as store, RoleData, RoleFilter, RoleRecord},
        CreatedSort, VersionCheck,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A post held in an organization: by a person (an official's post), or by
/// an organization (a member unit of the alliance).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a90",
    "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
    "person_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a80",
    "member_organization_id": null,
    "title": "Deputy Secretary",
    "start_date": null,
    "end_date": null,
    "note": null,
    "sources": [],
    "version": 1,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z"
}))]
pub struct Role {
    /// Server-assigned, time-ordered (UUID v7).
    pub id: Uuid,
    /// The organization the post is in.
    pub organization_id: Uuid,
    /// The person holding the post (exactly one of `person_id` and
    /// `member_organization_id` is set).
    #[schema(required = true)]
    pub person_id: Option<Uuid>,
    /// The organization holding the post, e.g. a member unit.
    #[schema(required = true)]
    pub member_organization_id: Option<Uuid>,
    pub title: String,
    #[schema(required = true)]
    pub start_date: Option<NaiveDate>,
    /// The last day of the role; a role with an end date is over after it
    /// but stays on record.
    #[schema(required = true)]
    pub end_date: Option<NaiveDate>,
    #[schema(required = true)]
    pub note: Option<String>,
    pub sources: Vec<Source>,
    /// External identifiers, e.g. of district systems.
    pub identifiers: Vec<Identifier>,
    /// Incremented by every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the record was deleted; only tombstones (`include_deleted`,
    /// the change feed) have one.
    #[schema(required = true)]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<RoleRecord> for Role {
    type Error = Error;

    fn try_from(r: RoleRecord) -> Result<Self, Error> {
        Ok(Self {
            id: r.id,
            organization_id: r.organization_id,
            person_id: r.person_id,
            member_organization_id: r.member_organization_id,
            title: r.title,
            start_date: r.start_date,
            end_date: r.end_date,
            note: r.note,
            sources: common::from_json(r.sources)?,
            identifiers: common::from_json(r.identifiers)?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

/// The writable fields of a role, for create (POST) and full replace (PUT).
/// Exactly one of `person_id` and `member_organization_id` must be given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
    "member_organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
    "title": "Member unit",
    "start_date": "2023-05-23",
    "note": "First batch"
}))]
pub struct RoleInput {
    /// A live organization (id or `scheme:value`).
    pub organization_id: Reference,
    /// A live person.
    #[serde(default)]
    pub person_id: Option<Reference>,
    /// A live organization other than `organization_id`.
    #[serde(default)]
    pub member_organization_id: Option<Reference>,
    /// The post, e.g. "Deputy Secretary" or "Member unit".
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub title: String,
    #[serde(default)]
    pub start_date: Option<Date>,
    /// Not before `start_date`.
    #[serde(default)]
    pub end_date: Option<Date>,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sources: Vec<Source>,
    /// External identifiers; each (resource, scheme, value) belongs to one
    /// live record.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub identifiers: Vec<Identifier>,
}

/// A JSON merge patch (RFC 7396) of a role. (Describes the body in the
/// OpenAPI document; the patched whole is validated as a [`RoleInput`].)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"end_date": "2025-12-31"}))]
pub struct RolePatch {
    #[schema(nullable = false)]
    pub organization_id: Option<Reference>,
    pub person_id: Option<Reference>,
    pub member_organization_id: Option<Reference>,
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub title: Option<String>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
    #[schema(max_items = 100)]
    pub sources: Option<Vec<Source>>,
    #[schema(max_items = 20)]
    pub identifiers: Option<Vec<Identifier>>,
}

page_type!(
    /// One page of roles.
    RolePage,
    Role
);

/// A role in an organization with its holder.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub role: Role,
    /// The person holding the role, or `null` when an organization holds it.
    #[schema(required = true)]
    pub person: Option<Person>,
    /// The organization holding the role, or `null` when a person holds it.
    #[schema(required = true)]
    pub member_organization: Option<Organization>,
}

page_type!(
    /// One page of the members of an organization.
    MemberPage,
    Member
);

/// A role of a person with the organization it is held in.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldRole {
    pub role: Role,
    pub organization: Organization,
}

page_type!(
    /// One page of the roles of a person.
    HeldRolePage,
    HeldRole
);

/// Filters and paging of `GET /v1/roles`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRolesParams {
    /// Only roles in this organization.
    organization_id: Option<Uuid>,
    /// Only roles held by this person.
    person_id: Option<Uuid>,
    /// Only roles held by this organization.
    member_organization_id: Option<Uuid>,
    /// Only roles active on this day: start ≤ day (or no start) and
    /// end ≥ day (or no end).
    active_on: Option<Date>,
    /// Case-insensitive substring of the title.
    #[param(
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    title: Option<String>,
    /// Only roles changed at or after this instant (RFC 3339).
    updated_since: Option<Instant>,
    /// Only records carrying this external identifier, as `scheme:value`.
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$")]
    identifier: Option<String>,
    /// Also list deleted records (tombstones, with `deleted_at`).
    include_deleted: Option<bool>,
    /// Order of the listing.
    sort: Option<CreatedSort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

/// Filters and paging of the role views.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoleViewParams {
    /// Only roles active on this day: start ≤ day (or no start) and
    /// end ≥ day (or no end). Without it, every live role, past ones too.
    active_on: Option<Date>,
    /// Order of the listing.
    sort: Option<CreatedSort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

/// Roles as a [`Resource`].
pub struct Roles;

impl Resource for Roles {
    type Scope = ();
    type Record = RoleRecord;
    type Input = RoleInput;
    type Data = RoleData;
    type Output = Role;

    const TABLE: Option<Table> = Some(ROLES);
    const REFERENCES: &'static [(&'static str, Table)] = &[
        ("organization_id", ORGANIZATIONS),
        ("person_id", PEOPLE),
        ("member_organization_id", ORGANIZATIONS),
    ];

    fn version(record: &RoleRecord) -> i64 {
        record.version
    }

    fn location(record: &RoleRecord) -> String {
        format!("/v1/roles/{}", record.id)
    }

    fn input_of(record: &RoleRecord) -> Result<RoleInput, Error> {
        let r = Role::try_from(record.clone())?;
        Ok(RoleInput {
            organization_id: r.organization_id.into(),
            person_id: r.person_id.map(Reference::from),
            member_organization_id: r.member_organization_id.map(Reference::from),
            title: r.title,
            start_date: r.start_date.map(Date),
            end_date: r.end_date.map(Date),
            note: r.note,
            sources: r.sources,
            identifiers: r.identifiers,
        })
    }

    fn validate((): (), input: RoleInput) -> Result<RoleData, Error> {
        let mut v = Validator::default();
        let title = v.text("title", &input.title, common::MAX_NAME_CHARS);
        v.exactly_one(&[
            ("person_id", input.person_id.is_some()),
            (
                "member_organization_id",
                input.member_organization_id.is_some(),
            ),
        ]);
        let organization_id = input.organization_id.id()?;
        let person_id = input.person_id.as_ref().map(Reference::id).transpose()?;
        let member_organization_id = input
            .member_organization_id
            .as_ref()
            .map(Reference::id)
            .transpose()?;
        if member_organization_id == Some(organization_id) {
            v.error(
                "member_organization_id",
                "an organization cannot hold a role in itself",
            );
        }
        v.not_before("end_date", input.end_date, "start_date", input.start_date);
        let note = v.optional_text("note", input.note.as_deref(), common::MAX_NOTE_CHARS);
        let sources = common::sources(&mut v, "sources", &input.sources);
        let identifiers = common::identifiers(&mut v, "identifiers", &input.identifiers);
        v.finish()?;
        Ok(RoleData {
            organization_id,
            person_id,
            member_organization_id,
            title,
            start_date: input.start_date.map(Into::into),
            end_date: input.end_date.map(Into::into),
            note,
            sources: common::to_json(sources)?,
            identifiers: common::to_json(identifiers)?,
        })
    }

    fn present(record: RoleRecord, _viewer: &Principal) -> Result<Role, Error> {
        Role::try_from(record)
    }

    fn find(conn: &mut PgConnection, (): (), id: Uuid) -> Result<RoleRecord, Error> {
        store::find(conn, id)
    }

    fn create(conn: &mut PgConnection, data: &RoleData) -> Result<RoleRecord, Error> {
        store::create(conn, data)
    }

    fn update(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
        _may_reparent: bool,
        change: impl FnOnce(&RoleRecord) -> Result<RoleData, Error>,
    ) -> Result<RoleRecord, Error> {
        store::update(conn, id, check, change)
    }

    fn delete(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
    ) -> Result<(), Error> {
        store::delete(conn, id, check)
    }
}

/// Lists roles.
#[utoipa::path(
    get,
    path = "/v1/roles",
    tag = "roles",
    operation_id = "listRoles",
    params(ListRolesParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of live roles", body = RolePage,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "Weak entity tag of this page"))),
        (status = 304, description = "The client's copy of this page (If-None-Match) is current"),
        ListErrors,
    )
)]
pub async fn list(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    params: Query<ListRolesParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let filter = RoleFilter {
        organization_id: p.organization_id,
        person_id: p.person_id,
        member_organization_id: p.member_organization_id,
        active_on: p.active_on.map(Into::into),
        title: search_param("title", p.title, MAX_SEARCH_CHARS)?,
        updated_since: p.updated_since.map(Into::into),
        identifier: p
            .identifier
            .as_deref()
            .map(|text| common::parse_identifier("identifier", text).map(|i| (i.scheme, i.value)))
            .transpose()?,
        include_deleted: p.include_deleted.unwrap_or(false),
    };
    let sort = p.sort.unwrap_or_default();
    let (items, next_cursor) = fetch_page(
        &req,
        &pool,
        sort,
        p.limit,
        p.cursor,
        move |conn, after, limit| store::list(conn, &filter, sort, after, limit),
        Role::try_from,
    )
    .await?;
    let page = RolePage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

/// Lists the members of an organization: its live roles with the person or
/// organization holding each (e.g. the member units of the alliance, or the
/// officials of a party committee). One database query per page.
#[utoipa::path(
    get,
    path = "/v1/organizations/{id}/members",
    tag = "roles",
    operation_id = "listOrganizationMembers",
    params(("id" = Uuid, Path, description = "Organization id"), RoleViewParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of roles in the organization with their holders", body = MemberPage,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "Weak entity tag of this page"))),
        (status = 304, description = "The client's copy of this page (If-None-Match) is current"),
        ReadErrors,
    )
)]
pub async fn members(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    viewer: Principal,
    id: web::Path<Uuid>,
    params: Query<RoleViewParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let id = *id;
    let sort = p.sort.unwrap_or_default();
    let (items, next_cursor) = fetch_page(
        &req,
        &pool,
        sort,
        p.limit,
        p.cursor,
        move |conn, after, limit| {
            organizations::find(conn, id)?;
            store::members(conn, id, p.active_on.map(Into::into), sort, after, limit)
        },
        |(role, person, organization)| {
            Ok(Member {
                role: Role::try_from(role)?,
                person: person.map(|p| Person::present(p, &viewer)).transpose()?,
                member_organization: organization.map(Organization::try_from).transpose()?,
            })
        },
    )
    .await?;
    let page = MemberPage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

/// Lists the roles a person holds, each with its organization (which posts
/// does this official hold, or held on a day). One database query per page.
#[utoipa::path(
    get,
    path = "/v1/people/{id}/roles",
    tag = "roles",
    operation_id = "listPersonRoles",
    params(("id" = Uuid, Path, description = "Person id"), RoleViewParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of the person's roles with their organizations", body = HeldRolePage,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "Weak entity tag of this page"))),
        (status = 304, description = "The client's copy of this page (If-None-Match) is current"),
        ReadErrors,
    )
)]
pub async fn held_by(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    params: Query<RoleViewParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let id = *id;
    let sort = p.sort.unwrap_or_default();
    let (items, next_cursor) = fetch_page(
        &req,
        &pool,
        sort,
        p.limit,
        p.cursor,
        move |conn, after, limit| {
            people::find(conn, id)?;
            store::held_by(conn, id, p.active_on.map(Into::into), sort, after, limit)
        },
        |(role, organization)| {
            Ok(HeldRole {
                role: Role::try_from(role)?,
                organization: Organization::try_from(organization)?,
            })
        },
    )
    .await?;
    let page = HeldRolePage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

crate::standard_get!(
    resource = Roles,
    output = Role,
    tag = "roles",
    item = "/v1/roles/{id}",
    operation_id = "getRole",
    summary = "Gets a role.",
);

crate::standard_handlers!(
    resource = Roles,
    input = RoleInput,
    patch = RolePatch,
    output = Role,
    tag = "roles",
    collection = "/v1/roles",
    item = "/v1/roles/{id}",
    by_identifier = "/v1/roles/by-identifier/{scheme}/{value}",
    operation_ids = [
        "createRole",
        "replaceRole",
        "updateRole",
        "deleteRole",
        "upsertRoleByIdentifier"
    ],
    summaries = [
        "Creates a role.",
        "Replaces a role (every writable field; omitted optional fields are cleared).",
        "Changes some fields of a role (JSON merge patch), e.g. sets end_date to end it.",
        "Deletes a role entered by mistake (kept as a tombstone); to end a role, set its end_date instead.",
        "Creates or replaces the role carrying an external identifier."
    ],
);

crate::routes! {
    Read => members,
    Read => held_by,
    Read => list,
    Write => create,
    Write => upsert,
    Read => get,
    Write => replace,
    Write => update,
    Write => delete,
}
