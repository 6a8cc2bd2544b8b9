//! `/v1/organizations`: the alliance, its member units, their party
//! organizations and the bodies around them.

use crate::api::values::{Date, Instant};
use crate::store::api_keys::Principal;
use crate::{
    api::{
        common::{self, ContactDetail, Identifier, OtherName, Reference, Source},
        extract::Query,
        pagination::{fetch_page, page_response},
        preconditions::IfNoneMatch,
        problems::{ListErrors, ReadErrors},
        resource::Resource,
        validation::{search_param, Validator, MAX_SEARCH_CHARS},
    },
    db::PgPool,
    error::Error,
    page_type,
    store::{
        organizations::{
            self as store, OrganizationData, OrganizationFilter, OrganizationKind,
            OrganizationRecord,
        },
        refs::{Table, ORGANIZATIONS},
        NameSort, VersionCheck,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An organization of the register.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
    "name": "Yangpu District Digital Economy Industry Cluster Party Building Alliance",
    "kind": "alliance",
    "parent_id": null,
    "other_names": [{"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}],
    "founding_date": "2023-05-23",
    "dissolution_date": null,
    "description": "Links the party organizations of leading digital-economy enterprises and science parks in Yangpu.",
    "contact_details": [],
    "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
    "version": 1,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z"
}))]
pub struct Organization {
    /// Server-assigned, time-ordered (UUID v7).
    pub id: Uuid,
    pub name: String,
    pub kind: OrganizationKind,
    /// The organization this one belongs to, e.g. the company of a party branch.
    #[schema(required = true)]
    pub parent_id: Option<Uuid>,
    pub other_names: Vec<OtherName>,
    #[schema(required = true)]
    pub founding_date: Option<NaiveDate>,
    #[schema(required = true)]
    pub dissolution_date: Option<NaiveDate>,
    #[schema(required = true)]
    pub description: Option<String>,
    pub contact_details: Vec<ContactDetail>,
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

impl TryFrom<OrganizationRecord> for Organization {
    type Error = Error;

    fn try_from(r: OrganizationRecord) -> Result<Self, Error> {
        Ok(Self {
            id: r.id,
            name: r.name,
            kind: r.kind,
            parent_id: r.parent_id,
            other_names: common::from_json(r.other_names)?,
            founding_date: r.founding_date,
            dissolution_date: r.dissolution_date,
            description: r.description,
            contact_details: common::from_json(r.contact_details)?,
            sources: common::from_json(r.sources)?,
            identifiers: common::from_json(r.identifiers)?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

/// The writable fields of an organization, for create (POST) and full
/// replace (PUT). Optional fields left out are empty.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Party Committee of Oujian Network",
    "kind": "party_committee",
    "parent_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
    "other_names": [{"name": "欧简网络党委", "lang": "zh"}]
}))]
pub struct OrganizationInput {
    /// 1–500 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: String,
    pub kind: OrganizationKind,
    /// A live organization (id or `scheme:value`); the tree must stay free
    /// of cycles.
    #[serde(default)]
    pub parent_id: Option<Reference>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub other_names: Vec<OtherName>,
    #[serde(default)]
    pub founding_date: Option<Date>,
    /// Not before `founding_date`.
    #[serde(default)]
    pub dissolution_date: Option<Date>,
    #[serde(default)]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contact_details: Vec<ContactDetail>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sources: Vec<Source>,
    /// External identifiers; each (resource, scheme, value) belongs to one
    /// live record.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub identifiers: Vec<Identifier>,
}

/// A JSON merge patch (RFC 7396) of an organization: members present are
/// set, members set to `null` are cleared, absent members stay. (Describes
/// the body in the OpenAPI document; handlers apply the patch as JSON and
/// validate the patched whole as an [`OrganizationInput`].)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Convened by the Organization Department.", "dissolution_date": null}))]
pub struct OrganizationPatch {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub kind: Option<OrganizationKind>,
    pub parent_id: Option<Reference>,
    #[schema(max_items = 100)]
    pub other_names: Option<Vec<OtherName>>,
    pub founding_date: Option<Date>,
    pub dissolution_date: Option<Date>,
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub description: Option<String>,
    #[schema(max_items = 100)]
    pub contact_details: Option<Vec<ContactDetail>>,
    #[schema(max_items = 100)]
    pub sources: Option<Vec<Source>>,
    #[schema(max_items = 20)]
    pub identifiers: Option<Vec<Identifier>>,
}

page_type!(
    /// One page of organizations.
    OrganizationPage,
    Organization
);

/// Filters and paging of `GET /v1/organizations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOrganizationsParams {
    /// Only organizations of this kind.
    kind: Option<OrganizationKind>,
    /// Only direct children of this organization.
    parent_id: Option<Uuid>,
    /// Case-insensitive substring of the name or of any other name (any
    /// script, e.g. `bilibili` or `哔哩`).
    #[param(
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    q: Option<String>,
    /// Only organizations changed at or after this instant (RFC 3339;
    /// percent-encode a `+` offset as `%2B`).
    updated_since: Option<Instant>,
    /// Only records carrying this external identifier, as `scheme:value`.
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$")]
    identifier: Option<String>,
    /// Also list deleted records (tombstones, with `deleted_at`).
    include_deleted: Option<bool>,
    /// Order of the listing.
    sort: Option<NameSort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

/// Paging of `GET /v1/organizations/{id}/children`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListChildrenParams {
    /// Order of the listing.
    sort: Option<NameSort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

/// Organizations as a [`Resource`].
pub struct Organizations;

impl Resource for Organizations {
    type Scope = ();
    type Record = OrganizationRecord;
    type Input = OrganizationInput;
    type Data = OrganizationData;
    type Output = Organization;

    const TABLE: Option<Table> = Some(ORGANIZATIONS);
    const REFERENCES: &'static [(&'static str, Table)] = &[("parent_id", ORGANIZATIONS)];

    const PARENT_FIELD: Option<&'static str> = Some("parent_id");

    fn version(record: &OrganizationRecord) -> i64 {
        record.version
    }

    fn location(record: &OrganizationRecord) -> String {
        format!("/v1/organizations/{}", record.id)
    }

    fn input_of(record: &OrganizationRecord) -> Result<OrganizationInput, Error> {
        let o = Organization::try_from(record.clone())?;
        Ok(OrganizationInput {
            name: o.name,
            kind: o.kind,
            parent_id: o.parent_id.map(Reference::from),
            other_names: o.other_names,
            founding_date: o.founding_date.map(Date),
            dissolution_date: o.dissolution_date.map(Date),
            description: o.description,
            contact_details: o.contact_details,
            sources: o.sources,
            identifiers: o.identifiers,
        })
    }

    fn validate((): (), input: OrganizationInput) -> Result<OrganizationData, Error> {
        let mut v = Validator::default();
        let name = v.text("name", &input.name, common::MAX_NAME_CHARS);
        let other_names = common::other_names(&mut v, "other_names", &input.other_names);
        let description = v.optional_text(
            "description",
            input.description.as_deref(),
            common::MAX_DESCRIPTION_CHARS,
        );
        let contact_details =
            common::contact_details(&mut v, "contact_details", &input.contact_details);
        let sources = common::sources(&mut v, "sources", &input.sources);
        let identifiers = common::identifiers(&mut v, "identifiers", &input.identifiers);
        v.not_before(
            "dissolution_date",
            input.dissolution_date,
            "founding_date",
            input.founding_date,
        );
        v.finish()?;
        Ok(OrganizationData {
            name,
            kind: input.kind,
            parent_id: input.parent_id.as_ref().map(Reference::id).transpose()?,
            other_names: common::to_json(other_names)?,
            founding_date: input.founding_date.map(Into::into),
            dissolution_date: input.dissolution_date.map(Into::into),
            description,
            contact_details: common::to_json(contact_details)?,
            sources: common::to_json(sources)?,
            identifiers: common::to_json(identifiers)?,
        })
    }

    fn reparents(input: &OrganizationInput) -> bool {
        input.parent_id.is_some()
    }

    fn present(record: OrganizationRecord, _viewer: &Principal) -> Result<Organization, Error> {
        Organization::try_from(record)
    }

    fn find(conn: &mut PgConnection, (): (), id: Uuid) -> Result<OrganizationRecord, Error> {
        store::find(conn, id)
    }

    fn create(
        conn: &mut PgConnection,
        data: &OrganizationData,
    ) -> Result<OrganizationRecord, Error> {
        store::create(conn, data)
    }

    fn update(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
        may_reparent: bool,
        change: impl FnOnce(&OrganizationRecord) -> Result<OrganizationData, Error>,
    ) -> Result<OrganizationRecord, Error> {
        store::update(conn, id, check, may_reparent, change)
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

/// Lists organizations.
#[utoipa::path(
    get,
    path = "/v1/organizations",
    tag = "organizations",
    operation_id = "listOrganizations",
    params(ListOrganizationsParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of live organizations", body = OrganizationPage,
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
    params: Query<ListOrganizationsParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let filter = OrganizationFilter {
        kind: p.kind,
        parent_id: p.parent_id,
        q: search_param("q", p.q, MAX_SEARCH_CHARS)?,
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
        Organization::try_from,
    )
    .await?;
    let page = OrganizationPage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

/// Lists the live direct children of an organization.
#[utoipa::path(
    get,
    path = "/v1/organizations/{id}/children",
    tag = "organizations",
    operation_id = "listOrganizationChildren",
    params(("id" = Uuid, Path, description = "Organization id"), ListChildrenParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of child organizations", body = OrganizationPage,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "Weak entity tag of this page"))),
        (status = 304, description = "The client's copy of this page (If-None-Match) is current"),
        ReadErrors,
    )
)]
pub async fn list_children(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    params: Query<ListChildrenParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let id = *id;
    let filter = OrganizationFilter {
        parent_id: Some(id),
        ..Default::default()
    };
    let sort = p.sort.unwrap_or_default();
    let (items, next_cursor) = fetch_page(
        &req,
        &pool,
        sort,
        p.limit,
        p.cursor,
        move |conn, after, limit| {
            store::find(conn, id)?;
            store::list(conn, &filter, sort, after, limit)
        },
        Organization::try_from,
    )
    .await?;
    let page = OrganizationPage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

crate::standard_get!(
    resource = Organizations,
    output = Organization,
    tag = "organizations",
    item = "/v1/organizations/{id}",
    operation_id = "getOrganization",
    summary = "Gets an organization.",
);

crate::standard_handlers!(
    resource = Organizations,
    input = OrganizationInput,
    patch = OrganizationPatch,
    output = Organization,
    tag = "organizations",
    collection = "/v1/organizations",
    item = "/v1/organizations/{id}",
    by_identifier = "/v1/organizations/by-identifier/{scheme}/{value}",
    operation_ids = [
        "createOrganization",
        "replaceOrganization",
        "updateOrganization",
        "deleteOrganization",
        "upsertOrganizationByIdentifier"
    ],
    summaries = [
        "Creates an organization.",
        "Replaces an organization (every writable field; omitted optional fields are cleared).",
        "Changes some fields of an organization (JSON merge patch).",
        "Deletes an organization (kept as a tombstone); refused while live child organizations, roles or event participants refer to it.",
        "Creates or replaces the organization carrying an external identifier."
    ],
);

crate::routes! {
    Read => list,
    Write => create,
    Write => upsert,
    Read => get,
    Write => replace,
    Write => update,
    Write => delete,
    Read => list_children,
}
