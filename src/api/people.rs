//! `/v1/people`: officials and members; one person often holds several
//! posts at once (see `/v1/people/{id}/roles`).

use crate::api::values::{Date, Instant};
use crate::store::api_keys::{Principal, Scope};
use crate::{
    api::{
        common::{self, ContactDetail, Identifier, OtherName, Source},
        extract::Query,
        pagination::{fetch_page, page_response},
        preconditions::IfNoneMatch,
        problems::ListErrors,
        resource::Resource,
        validation::{is_blank_url, search_param, Validator, MAX_SEARCH_CHARS},
    },
    db::PgPool,
    error::Error,
    page_type,
    store::{
        people::{self as store, PersonData, PersonFilter, PersonRecord},
        refs::{Table, PEOPLE},
        NameSort, VersionCheck,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A person of the register.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a80",
    "name": "Zhou Haiying",
    "given_name": "Haiying",
    "family_name": "Zhou",
    "other_names": [{"name": "周海鹰", "lang": "zh"}],
    "gender": null,
    "birth_date": null,
    "email": null,
    "phone": null,
    "biography": "Deputy Secretary of the Yangpu District Party Committee.",
    "image_url": null,
    "contact_details": [],
    "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
    "version": 1,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z"
}))]
pub struct Person {
    /// Server-assigned, time-ordered (UUID v7).
    pub id: Uuid,
    pub name: String,
    #[schema(required = true)]
    pub given_name: Option<String>,
    #[schema(required = true)]
    pub family_name: Option<String>,
    pub other_names: Vec<OtherName>,
    #[schema(required = true)]
    pub gender: Option<String>,
    /// Personal data: present only for keys with the `pii` scope.
    #[serde(skip_serializing_if = "Pii::is_hidden")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Pii<NaiveDate>,
    /// Personal data: present only for keys with the `pii` scope.
    #[serde(skip_serializing_if = "Pii::is_hidden")]
    #[schema(value_type = Option<String>)]
    pub email: Pii<String>,
    /// Personal data: present only for keys with the `pii` scope.
    #[serde(skip_serializing_if = "Pii::is_hidden")]
    #[schema(value_type = Option<String>)]
    pub phone: Pii<String>,
    #[schema(required = true)]
    pub biography: Option<String>,
    #[schema(required = true)]
    pub image_url: Option<String>,
    pub contact_details: Vec<ContactDetail>,
    pub sources: Vec<Source>,
    /// External identifiers, e.g. of district systems.
    pub identifiers: Vec<Identifier>,
    /// Incremented by every change; the ETag is this number in quotes.
    /// For keys without the `pii` scope, changes of personal data alone do
    /// not count (here, in `updated_at`, the ETag, the change feed and the
    /// audit trail): such keys cannot tell that personal data changed.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the record was deleted; only tombstones (`include_deleted`,
    /// the change feed) have one.
    #[schema(required = true)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Personal data of a person: shown (possibly empty) to keys with the
/// `pii` scope, left out of the representation for all others.
#[derive(Debug, Clone, PartialEq)]
pub enum Pii<T> {
    Hidden,
    Shown(Option<T>),
}

impl<T> Pii<T> {
    fn new(value: Option<T>, visible: bool) -> Self {
        if visible {
            Self::Shown(value)
        } else {
            Self::Hidden
        }
    }

    /// For `skip_serializing_if`.
    pub fn is_hidden(&self) -> bool {
        matches!(self, Self::Hidden)
    }
}

impl<T: Serialize> Serialize for Pii<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Shown(value) => value.serialize(serializer),
            Self::Hidden => serializer.serialize_none(),
        }
    }
}

pub use crate::store::people::PII_FIELDS;

impl Person {
    /// The representation of `r` for `viewer` (personal data only with the
    /// `pii` scope).
    pub fn present(r: PersonRecord, viewer: &Principal) -> Result<Self, Error> {
        let pii = viewer.has(Scope::Pii);
        Ok(Self {
            id: r.id,
            name: r.name,
            given_name: r.given_name,
            family_name: r.family_name,
            other_names: common::from_json(r.other_names)?,
            gender: r.gender,
            birth_date: Pii::new(r.birth_date, pii),
            email: Pii::new(r.email, pii),
            phone: Pii::new(r.phone, pii),
            biography: r.biography,
            image_url: r.image_url,
            contact_details: common::from_json(r.contact_details)?,
            sources: common::from_json(r.sources)?,
            identifiers: common::from_json(r.identifiers)?,
            version: if pii { r.version } else { r.public_version },
            created_at: r.created_at,
            updated_at: if pii {
                r.updated_at
            } else {
                r.public_updated_at
            },
            deleted_at: r.deleted_at,
        })
    }
}

/// The writable fields of a person, for create (POST) and full replace
/// (PUT). Optional fields left out are empty.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jiang Daorong",
    "other_names": [{"name": "姜道荣", "lang": "zh"}],
    "biography": "Member of the Standing Committee of the District Party Committee and Director of the Organization Department."
}))]
pub struct PersonInput {
    /// Full name, 1–500 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub given_name: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub family_name: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub other_names: Vec<OtherName>,
    #[serde(default)]
    #[schema(
        max_length = 50,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub gender: Option<String>,
    #[serde(default)]
    pub birth_date: Option<Date>,
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = r"^[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*([^@\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]{1,64}@[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+(\.[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+)+)?[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$"
    )]
    pub email: Option<String>,
    /// Personal data: writing it needs the `pii` scope.
    #[serde(default)]
    #[schema(
        max_length = 50,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub biography: Option<String>,
    /// Absolute http(s) URL of a portrait (blank means none).
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[ \t\r\n]*(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?)?[ \t\r\n]*$"
    )]
    pub image_url: Option<String>,
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

/// A JSON merge patch (RFC 7396) of a person: members present are set,
/// members set to `null` are cleared, absent members stay. (Describes the
/// body in the OpenAPI document; the patched whole is validated as a
/// [`PersonInput`].)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"biography": "Deputy District Chief.", "phone": null}))]
pub struct PersonPatch {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: Option<String>,
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub given_name: Option<String>,
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub family_name: Option<String>,
    #[schema(max_items = 100)]
    pub other_names: Option<Vec<OtherName>>,
    #[schema(
        max_length = 50,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub gender: Option<String>,
    pub birth_date: Option<Date>,
    #[schema(
        max_length = 254,
        pattern = r"^[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*([^@\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]{1,64}@[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+(\.[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+)+)?[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$"
    )]
    pub email: Option<String>,
    #[schema(
        max_length = 50,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub phone: Option<String>,
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub biography: Option<String>,
    #[schema(
        max_length = 2000,
        pattern = r"^[ \t\r\n]*(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?)?[ \t\r\n]*$"
    )]
    pub image_url: Option<String>,
    #[schema(max_items = 100)]
    pub contact_details: Option<Vec<ContactDetail>>,
    #[schema(max_items = 100)]
    pub sources: Option<Vec<Source>>,
    #[schema(max_items = 20)]
    pub identifiers: Option<Vec<Identifier>>,
}

page_type!(
    /// One page of people.
    PersonPage,
    Person
);

/// Filters and paging of `GET /v1/people`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPeopleParams {
    /// Case-insensitive substring of the name or of any other name (any
    /// script, e.g. `zhou` or `海鹰`).
    #[param(
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    q: Option<String>,
    /// Only people holding a (live) role in this organization.
    organization_id: Option<Uuid>,
    /// Only people holding a role active on this day (start ≤ day ≤ end,
    /// open ends included) — in `organization_id` when given.
    active_on: Option<Date>,
    /// Only people changed at or after this instant (RFC 3339; percent-encode
    /// a `+` offset as `%2B`).
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

/// People as a [`Resource`].
pub struct People;

impl Resource for People {
    type Scope = ();
    type Record = PersonRecord;
    type Input = PersonInput;
    type Data = PersonData;
    type Output = Person;

    const TABLE: Option<Table> = Some(PEOPLE);
    const REFERENCES: &'static [(&'static str, Table)] = &[];

    fn version(record: &PersonRecord) -> i64 {
        record.version
    }

    fn location(record: &PersonRecord) -> String {
        format!("/v1/people/{}", record.id)
    }

    fn input_of(r: &PersonRecord) -> Result<PersonInput, Error> {
        Ok(PersonInput {
            name: r.name.clone(),
            given_name: r.given_name.clone(),
            family_name: r.family_name.clone(),
            other_names: common::from_json(r.other_names.clone())?,
            gender: r.gender.clone(),
            birth_date: r.birth_date.map(Date),
            email: r.email.clone(),
            phone: r.phone.clone(),
            biography: r.biography.clone(),
            image_url: r.image_url.clone(),
            contact_details: common::from_json(r.contact_details.clone())?,
            sources: common::from_json(r.sources.clone())?,
            identifiers: common::from_json(r.identifiers.clone())?,
        })
    }

    fn hidden_fields(viewer: &Principal) -> &'static [&'static str] {
        if viewer.has(Scope::Pii) {
            &[]
        } else {
            PII_FIELDS
        }
    }

    fn visible_version(record: &PersonRecord, viewer: &Principal) -> i64 {
        if viewer.has(Scope::Pii) {
            record.version
        } else {
            record.public_version
        }
    }

    fn validate((): (), input: PersonInput) -> Result<PersonData, Error> {
        let mut v = Validator::default();
        let name = v.text("name", &input.name, common::MAX_NAME_CHARS);
        let given_name = v.optional_text(
            "given_name",
            input.given_name.as_deref(),
            common::MAX_NAME_CHARS,
        );
        let family_name = v.optional_text(
            "family_name",
            input.family_name.as_deref(),
            common::MAX_NAME_CHARS,
        );
        let other_names = common::other_names(&mut v, "other_names", &input.other_names);
        let gender = v.optional_text("gender", input.gender.as_deref(), 50);
        let email = v.optional_email("email", input.email.as_deref());
        let phone = v.optional_text("phone", input.phone.as_deref(), 50);
        let biography = v.optional_text(
            "biography",
            input.biography.as_deref(),
            common::MAX_DESCRIPTION_CHARS,
        );
        let image_url = input
            .image_url
            .as_deref()
            .filter(|u| !is_blank_url(u))
            .map(|u| v.http_url("image_url", u));
        let contact_details =
            common::contact_details(&mut v, "contact_details", &input.contact_details);
        let sources = common::sources(&mut v, "sources", &input.sources);
        let identifiers = common::identifiers(&mut v, "identifiers", &input.identifiers);
        v.finish()?;
        Ok(PersonData {
            name,
            given_name,
            family_name,
            other_names: common::to_json(other_names)?,
            gender,
            birth_date: input.birth_date.map(Into::into),
            email,
            phone,
            biography,
            image_url,
            contact_details: common::to_json(contact_details)?,
            sources: common::to_json(sources)?,
            identifiers: common::to_json(identifiers)?,
        })
    }

    fn present(record: PersonRecord, viewer: &Principal) -> Result<Person, Error> {
        Person::present(record, viewer)
    }

    fn find(conn: &mut PgConnection, (): (), id: Uuid) -> Result<PersonRecord, Error> {
        store::find(conn, id)
    }

    fn create(conn: &mut PgConnection, data: &PersonData) -> Result<PersonRecord, Error> {
        store::create(conn, data)
    }

    fn update(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
        _may_reparent: bool,
        change: impl FnOnce(&PersonRecord) -> Result<PersonData, Error>,
    ) -> Result<PersonRecord, Error> {
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

/// Lists people.
#[utoipa::path(
    get,
    path = "/v1/people",
    tag = "people",
    operation_id = "listPeople",
    params(ListPeopleParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of live people", body = PersonPage,
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
    viewer: Principal,
    params: Query<ListPeopleParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    let filter = PersonFilter {
        q: search_param("q", p.q, MAX_SEARCH_CHARS)?,
        organization_id: p.organization_id,
        active_on: p.active_on.map(Into::into),
        updated_since: p.updated_since.map(Into::into),
        with_pii: viewer.has(Scope::Pii),
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
        |record| Person::present(record, &viewer),
    )
    .await?;
    let page = PersonPage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

crate::standard_get!(
    resource = People,
    output = Person,
    tag = "people",
    item = "/v1/people/{id}",
    operation_id = "getPerson",
    summary = "Gets a person.",
);

crate::standard_handlers!(
    resource = People,
    input = PersonInput,
    patch = PersonPatch,
    output = Person,
    tag = "people",
    collection = "/v1/people",
    item = "/v1/people/{id}",
    by_identifier = "/v1/people/by-identifier/{scheme}/{value}",
    operation_ids = [
        "createPerson",
        "replacePerson",
        "updatePerson",
        "deletePerson",
        "upsertPersonByIdentifier"
    ],
    summaries = [
        "Creates a person.",
        "Replaces a person (every writable field; omitted optional fields are cleared, personal data only with the pii scope).",
        "Changes some fields of a person (JSON merge patch).",
        "Deletes a person (kept as a tombstone); refused while live roles or event participants refer to them.",
        "Creates or replaces the person carrying an external identifier."
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
}
