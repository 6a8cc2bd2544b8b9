//! `/v1/organizations`: the alliance, its member units, their party
//! organizations and the bodies around them.

use crate::{
    api::{
        common::{self, ContactDetail, OtherName, Source},
        extract::{JsonBody, Query},
        merge_patch::MergePatch,
        pagination::{self, decode_cursor, page_response, split_page},
        preconditions::{etag, IfMatch, IfNoneMatch},
        problems::{CreateErrors, DeleteErrors, ListErrors, ReadErrors, UpdateErrors},
        validation::Validator,
    },
    db::{self, PgPool},
    error::Error,
    page_type,
    store::organizations::{
        self as store, OrganizationData, OrganizationFilter, OrganizationKind, OrganizationRecord,
        OrganizationSort,
    },
};
use actix_web::{
    http::header::{self, CacheControl, CacheDirective, ETag},
    web, HttpRequest, HttpResponse,
};
use chrono::{DateTime, NaiveDate, Utc};
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
    /// Incremented by every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OrganizationRecord> for Organization {
    type Error = Error;

    fn try_from(r: OrganizationRecord) -> Result<Self, Error> {
        Ok(Self {
            id: r.id,
            name: r.name,
            kind: r.kind,
            parent_id: r.parent_id,
            other_names: serde_json::from_value(r.other_names).map_err(Error::internal)?,
            founding_date: r.founding_date,
            dissolution_date: r.dissolution_date,
            description: r.description,
            contact_details: serde_json::from_value(r.contact_details).map_err(Error::internal)?,
            sources: serde_json::from_value(r.sources).map_err(Error::internal)?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
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
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    )]
    pub name: String,
    pub kind: OrganizationKind,
    /// A live organization; the tree must stay free of cycles.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub other_names: Vec<OtherName>,
    #[serde(default)]
    pub founding_date: Option<NaiveDate>,
    /// Not before `founding_date`.
    #[serde(default)]
    pub dissolution_date: Option<NaiveDate>,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contact_details: Vec<ContactDetail>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sources: Vec<Source>,
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
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    )]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub kind: Option<OrganizationKind>,
    pub parent_id: Option<Uuid>,
    #[schema(max_items = 100)]
    pub other_names: Option<Vec<OtherName>>,
    pub founding_date: Option<NaiveDate>,
    pub dissolution_date: Option<NaiveDate>,
    #[schema(max_length = 20000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    #[schema(max_items = 100)]
    pub contact_details: Option<Vec<ContactDetail>>,
    #[schema(max_items = 100)]
    pub sources: Option<Vec<Source>>,
}

impl OrganizationInput {
    /// The input as it would recreate `record`.
    fn from_record(record: &OrganizationRecord) -> Result<Self, Error> {
        let o = Organization::try_from(record.clone())?;
        Ok(Self {
            name: o.name,
            kind: o.kind,
            parent_id: o.parent_id,
            other_names: o.other_names,
            founding_date: o.founding_date,
            dissolution_date: o.dissolution_date,
            description: o.description,
            contact_details: o.contact_details,
            sources: o.sources,
        })
    }

    /// Validates and normalizes the input into storable data.
    fn validate(self) -> Result<OrganizationData, Error> {
        let mut v = Validator::default();
        let name = v.text("name", &self.name, common::MAX_NAME_CHARS);
        let other_names = common::other_names(&mut v, "other_names", &self.other_names);
        let description = v.optional_text(
            "description",
            self.description.as_deref(),
            common::MAX_DESCRIPTION_CHARS,
        );
        let contact_details =
            common::contact_details(&mut v, "contact_details", &self.contact_details);
        let sources = common::sources(&mut v, "sources", &self.sources);
        if let (Some(founded), Some(dissolved)) = (self.founding_date, self.dissolution_date) {
            if dissolved < founded {
                v.error("dissolution_date", "must not be before founding_date");
            }
        }
        v.finish()?;
        Ok(OrganizationData {
            name,
            kind: self.kind,
            parent_id: self.parent_id,
            other_names: serde_json::to_value(other_names).map_err(Error::internal)?,
            founding_date: self.founding_date,
            dissolution_date: self.dissolution_date,
            description,
            contact_details: serde_json::to_value(contact_details).map_err(Error::internal)?,
            sources: serde_json::to_value(sources).map_err(Error::internal)?,
        })
    }
}

page_type!(
    /// One page of organizations.
    OrganizationPage,
    Organization
);

/// Orders of an organization listing; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum OrganizationOrder {
    /// By name, A to Z (the default).
    #[default]
    #[serde(rename = "name")]
    Name,
    /// By name, Z to A.
    #[serde(rename = "-name")]
    NameDesc,
    /// Oldest first.
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl OrganizationOrder {
    fn tag(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NameDesc => "-name",
            Self::CreatedAt => "created_at",
            Self::CreatedAtDesc => "-created_at",
        }
    }

    fn store(self) -> OrganizationSort {
        match self {
            Self::Name => OrganizationSort::Name,
            Self::NameDesc => OrganizationSort::NameDesc,
            Self::CreatedAt => OrganizationSort::CreatedAt,
            Self::CreatedAtDesc => OrganizationSort::CreatedAtDesc,
        }
    }
}

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
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    q: Option<String>,
    /// Only organizations changed at or after this instant (RFC 3339;
    /// percent-encode a `+` offset as `%2B`).
    updated_since: Option<DateTime<Utc>>,
    /// Order of the listing.
    sort: Option<OrganizationOrder>,
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
    sort: Option<OrganizationOrder>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, org: &Organization) -> HttpResponse {
    response
        .insert_header(ETag(etag(org.version)))
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .json(org)
}

/// Lists organizations.
#[utoipa::path(
    get,
    path = "/v1/organizations",
    tag = "organizations",
    operation_id = "listOrganizations",
    params(ListOrganizationsParams),
    responses(
        (status = 200, description = "One page of live organizations", body = OrganizationPage,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"))),
        ListErrors,
    )
)]
pub async fn list(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    params: Query<ListOrganizationsParams>,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let q = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 200 || q.contains('\0')) {
        return Err(Error::bad_parameter(
            "q",
            "must be at most 200 characters, without NUL",
        ));
    }
    let filter = OrganizationFilter {
        kind: p.kind,
        parent_id: p.parent_id,
        q: q.map(str::to_owned),
        updated_since: p.updated_since,
    };
    let order = p.sort.unwrap_or_default();
    let (items, next) = fetch_page(&pool, filter, order, p.limit, p.cursor, None).await?;
    Ok(page_response(
        &req,
        &OrganizationPage {
            items,
            next_cursor: next.clone(),
        },
        next.as_deref(),
    ))
}

/// Lists the live direct children of an organization.
#[utoipa::path(
    get,
    path = "/v1/organizations/{id}/children",
    tag = "organizations",
    operation_id = "listOrganizationChildren",
    params(("id" = Uuid, Path, description = "Organization id"), ListChildrenParams),
    responses(
        (status = 200, description = "One page of child organizations", body = OrganizationPage,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"))),
        ReadErrors,
    )
)]
pub async fn list_children(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    params: Query<ListChildrenParams>,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let filter = OrganizationFilter {
        parent_id: Some(*id),
        ..Default::default()
    };
    let order = p.sort.unwrap_or_default();
    let (items, next) = fetch_page(&pool, filter, order, p.limit, p.cursor, Some(*id)).await?;
    Ok(page_response(
        &req,
        &OrganizationPage {
            items,
            next_cursor: next.clone(),
        },
        next.as_deref(),
    ))
}

/// One page of organizations; when `must_exist` is given, that organization
/// must be live (checked in the same database call).
async fn fetch_page(
    pool: &PgPool,
    filter: OrganizationFilter,
    order: OrganizationOrder,
    limit: Option<i64>,
    cursor: Option<String>,
    must_exist: Option<Uuid>,
) -> Result<(Vec<Organization>, Option<String>), Error> {
    let limit = pagination::limit(limit)?;
    let sort = order.store();
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(&c, order.tag(), |v| sort.accepts(v)))
        .transpose()?;
    let rows = db::run(pool, move |conn| {
        if let Some(id) = must_exist {
            store::find(conn, id)?;
        }
        store::list(conn, &filter, sort, after.as_ref(), limit + 1)
    })
    .await?;
    let (rows, next) = split_page(rows, limit, order.tag(), |r| sort.key(r));
    let items = rows
        .into_iter()
        .map(Organization::try_from)
        .collect::<Result<_, _>>()?;
    Ok((items, next))
}

/// Creates an organization.
#[utoipa::path(
    post,
    path = "/v1/organizations",
    tag = "organizations",
    operation_id = "createOrganization",
    request_body(content = OrganizationInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Organization, headers(
            ("Location" = String, description = "URL of the new organization"),
            ("ETag" = String, description = "Entity tag of the new version"))),
        CreateErrors,
    )
)]
pub async fn create(
    pool: web::Data<PgPool>,
    body: JsonBody<OrganizationInput>,
) -> Result<HttpResponse, Error> {
    let data = body.0.validate()?;
    let record = db::transaction(&pool, move |conn| store::create(conn, &data)).await?;
    let org = Organization::try_from(record)?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/organizations/{}", org.id)));
    Ok(with_etag(response, &org))
}

/// Gets an organization.
#[utoipa::path(
    get,
    path = "/v1/organizations/{id}",
    tag = "organizations",
    operation_id = "getOrganization",
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The organization", body = Organization,
            headers(("ETag" = String, description = "Entity tag of this version"))),
        (status = 304, description = "The client's copy (If-None-Match) is current",
            headers(("ETag" = String, description = "Entity tag of this version"))),
        ReadErrors,
    )
)]
pub async fn get(
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let id = *id;
    let record = db::run(&pool, move |conn| store::find(conn, id)).await?;
    if if_none_match.matches(record.version) {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(etag(record.version)))
            .finish());
    }
    Ok(with_etag(
        HttpResponse::Ok(),
        &Organization::try_from(record)?,
    ))
}

/// Replaces an organization (every writable field; omitted optional fields
/// are cleared).
#[utoipa::path(
    put,
    path = "/v1/organizations/{id}",
    tag = "organizations",
    operation_id = "replaceOrganization",
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        IfMatch,
    ),
    request_body(content = OrganizationInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = Organization,
            headers(("ETag" = String, description = "Entity tag of the new version"))),
        UpdateErrors,
    )
)]
pub async fn replace(
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    IfMatch(check): IfMatch,
    body: JsonBody<OrganizationInput>,
) -> Result<HttpResponse, Error> {
    let data = body.0.validate()?;
    let id = *id;
    let may_reparent = data.parent_id.is_some();
    let record = db::transaction(&pool, move |conn| {
        store::update(conn, id, &check, may_reparent, |_| Ok(data))
    })
    .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        &Organization::try_from(record)?,
    ))
}

/// Changes some fields of an organization (JSON merge patch).
#[utoipa::path(
    patch,
    path = "/v1/organizations/{id}",
    tag = "organizations",
    operation_id = "updateOrganization",
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        IfMatch,
    ),
    request_body(content = OrganizationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated (a patch that changes nothing keeps the version)", body = Organization,
            headers(("ETag" = String, description = "Entity tag of the new version"))),
        UpdateErrors,
    )
)]
pub async fn update(
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    IfMatch(check): IfMatch,
    patch: MergePatch,
) -> Result<HttpResponse, Error> {
    let id = *id;
    let may_reparent = patch.sets("parent_id");
    let record = db::transaction(&pool, move |conn| {
        store::update(conn, id, &check, may_reparent, |current| {
            patch
                .apply(&OrganizationInput::from_record(current)?)?
                .validate()
        })
    })
    .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        &Organization::try_from(record)?,
    ))
}

/// Deletes an organization. The record is kept as a tombstone for syncing
/// systems; it is gone from every read.
#[utoipa::path(
    delete,
    path = "/v1/organizations/{id}",
    tag = "organizations",
    operation_id = "deleteOrganization",
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        IfMatch,
    ),
    responses(
        (status = 204, description = "Deleted"),
        DeleteErrors,
    )
)]
pub async fn delete(
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    IfMatch(check): IfMatch,
) -> Result<HttpResponse, Error> {
    let id = *id;
    db::transaction(&pool, move |conn| store::delete(conn, id, &check)).await?;
    Ok(HttpResponse::NoContent().finish())
}
