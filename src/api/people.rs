//! `/v1/people`: officials and members; one person often holds several
//! posts at once (see `/v1/people/{id}/roles`).

use crate::api::common;
use crate::api::input::{other_name_periods, period_rule};
use crate::api::problems::ListErrors;
use crate::api::resource::Resource;
use crate::api::withheld::Without;
use crate::domain::Search;
use crate::domain::{
    ContactDetail, Date, Email, HttpUrl, Identifiers, Link, List, Name, Optional, OtherName,
    PartialDate, Phone, Reference, Source, Text,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::{Principal, Scope};
use crate::store::people::{self as store, PersonData, PersonFilter, PersonRecord, PII_FIELDS};
use crate::store::NameSort;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// A person of the register: the record's id, the members of
/// [`PersonInput`] as stored — personal data only for keys with the `pii`
/// scope — and its version and times.
#[derive(Debug, Serialize)]
pub struct Person {
    pub id: Uuid,
    #[serde(flatten)]
    pub content: PersonContent,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl utoipa::PartialSchema for Person {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        common::representation_schema(
            "A person of the register.",
            <PersonInput as utoipa::PartialSchema>::schema(),
            (
                PII_FIELDS,
                "Personal data: present only for keys with the `pii` scope.",
            ),
            "Incremented by every change; the ETag is this number in quotes.\n\
             For keys without the `pii` scope, changes of personal data alone do\n\
             not count (here, in `updated_at`, the ETag, the change feed and the\n\
             audit trail): such keys cannot tell that personal data changed.",
            json!({
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
                "links": [],
                "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
                "identifiers": [],
                "sort_name": "Zhou Haiying",
                "honorific_prefix": null,
                "honorific_suffix": null,
                "death_date": null,
                "version": 1,
                "created_at": "2026-11-26T08:00:00Z",
                "updated_at": "2026-11-26T08:00:00Z",
                "deleted_at": null
            }),
        )
    }
}

impl ToSchema for Person {
    fn schemas(
        out: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <PersonInput as ToSchema>::schemas(out);
    }
}

impl Person {
    /// The representation of `r` for `viewer` (personal data only with the
    /// `pii` scope).
    pub fn present(r: PersonRecord, viewer: &Principal) -> Result<Self, Error> {
        let pii = viewer.has(Scope::Pii);
        Ok(Self {
            id: r.id,
            content: PersonContent {
                data: r.data,
                with_pii: pii,
            },
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

/// A person's stored content as its viewer may see it: without
/// [`PII_FIELDS`] unless the viewer has the `pii` scope.
#[derive(Debug)]
pub struct PersonContent {
    data: PersonData,
    with_pii: bool,
}

impl Serialize for PersonContent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.with_pii {
            true => self.data.serialize(serializer),
            false => Without {
                value: &self.data,
                fields: PII_FIELDS,
            }
            .serialize(serializer),
        }
    }
}

crate::input! {
    /// The writable fields of a person, for create (POST) and full replace
    /// (PUT). Optional fields left out are empty.
    #[example = json!({
        "name": "Jiang Daorong",
        "other_names": [{"name": "姜道荣", "lang": "zh"}],
        "biography": "Member of the Standing Committee of the District Party Committee and Director of the Organization Department."
    })]
    pub struct PersonInput => PersonData;
    /// A JSON merge patch (RFC 7396) of a person: members present are set,
    /// members set to `null` are cleared, absent members stay.
    #[example = json!({"biography": "Deputy District Chief.", "phone": null})]
    pub struct PersonPatch;
    {
        /// Full name, 1–500 characters after trimming.
        name: Name<500>,
        given_name: Optional<Text<500>>,
        family_name: Optional<Text<500>>,
        other_names: List<OtherName, 100>,
        gender: Optional<Text<50>>,
        /// A partial date (YYYY, YYYY-MM or YYYY-MM-DD). Personal data:
        /// writing it needs the `pii` scope.
        birth_date: Option<PartialDate>,
        /// Personal data: writing it needs the `pii` scope.
        email: Optional<Email>,
        /// Personal data: writing it needs the `pii` scope.
        phone: Optional<Phone>,
        biography: Optional<Text<20000>>,
        /// Absolute http(s) URL of a portrait (blank means none).
        image_url: Optional<HttpUrl>,
        contact_details: List<ContactDetail, 100>,
        /// Web pages about the person, e.g. an official profile.
        links: List<Link, 100>,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
        /// The name to sort by, e.g. `Zhou Haiying` or `周海鹰`.
        sort_name: Optional<Name<500>>,
        /// Written before the name, e.g. `Comrade`.
        honorific_prefix: Optional<Name<100>>,
        /// Written after the name.
        honorific_suffix: Optional<Name<100>>,
        /// The date of death, a partial date (public, unlike `birth_date`); not
        /// before `birth_date`.
        death_date: Option<PartialDate>,
    }
}

page_type!(
    /// One page of people.
    PersonPage,
    Person
);

crate::list_params! {
    /// Filters and paging of `GET /v1/people`.
    pub struct ListPeopleParams of records sorted by NameSort {
        /// Case-insensitive substring of the name or of any other name (any
        /// script, e.g. `zhou` or `海鹰`).
        #[param(inline)]
        q: Option<Search<200>>,
        /// Only people holding a (live) role in this organization.
        organization_id: Option<Reference>,
        /// Only people holding a role active on this day (start ≤ day ≤ end,
        /// open ends included) — in `organization_id` when given.
        active_on: Option<Date>,
    }
}

impl Resource for People {
    fn rules(input: &PersonInput) -> Vec<FieldError> {
        let mut faults = period_rule(
            ("death_date", input.death_date.as_ref()),
            ("birth_date", input.birth_date.as_ref()),
        );
        faults.extend(other_name_periods("other_names", &input.other_names));
        faults
    }

    fn visible_version(record: &PersonRecord, viewer: &Principal) -> i64 {
        if viewer.has(Scope::Pii) {
            record.version
        } else {
            record.public_version
        }
    }

    fn hides(viewer: &Principal) -> bool {
        !viewer.has(Scope::Pii)
    }

    fn sets_hidden(input: &PersonInput) -> bool {
        input.birth_date.is_some() || input.email.0.is_some() || input.phone.0.is_some()
    }

    fn patch_names_hidden(patch: &PersonPatch) -> bool {
        patch.birth_date.is_named() || patch.email.is_named() || patch.phone.is_named()
    }

    fn is_hidden(field: &str) -> bool {
        PII_FIELDS.contains(&field)
    }

    fn keep_hidden(data: &mut PersonData, current: &PersonRecord) {
        data.birth_date.clone_from(&current.data.birth_date);
        data.email.clone_from(&current.data.email);
        data.phone.clone_from(&current.data.phone);
    }

    fn present(record: PersonRecord, viewer: &Principal) -> Result<Person, Error> {
        Person::present(record, viewer)
    }
}

crate::list_operation! {
    get "/v1/people" in "people" as "listPeople", params(ListPeopleParams),
    "One page of live people" => PersonPage, ListErrors;
    /// Lists people.
    pub async fn list: store::list, Person::present, |p, viewer| PersonFilter {
        q: p.q.as_ref().and_then(Search::term),
        organization_id: p.organization_id.clone(),
        active_on: p.active_on.map(Into::into),
        with_pii: viewer.has(Scope::Pii),
        records: p.records()?,
    }
}

crate::handlers! {
    /// People as a [`Resource`].
    pub struct People: PersonInput, PersonPatch => Person in store::People,
    "people" at "/v1/people" for "Person" ("a person", "the person"),
    routes [Read => list from replica],
    replace "Replaces a person (every writable field; omitted optional fields are cleared, personal data only with the pii scope).",
    delete "Deletes a person (kept as a tombstone); refused while live roles or event participants refer to them.",
}
