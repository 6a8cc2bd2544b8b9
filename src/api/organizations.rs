//! `/v1/organizations`: the alliance, its member units, their party
//! organizations and the bodies around them.

use crate::api::areas::Areas;
use crate::api::common::PathRef;
use crate::api::input::{other_name_periods, period_rule, Patch, Ref};
use crate::api::pagination::Listing;
use crate::api::problems::{ListErrors, ReadErrors};
use crate::api::resource::Resource;
use crate::domain::Reference;
use crate::domain::Search;
use crate::domain::{
    ContactDetail, Identifiers, Link, List, Name, Optional, OtherName, PartialDate, Source, Text,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::organizations::{
    self as store, OrganizationData, OrganizationFilter, OrganizationKind, OrganizationRecord,
};
use crate::store::NameSort;
use actix_web::HttpResponse;
use serde_json::json;

crate::representation! {
    /// An organization of the register.
    pub struct Organization of OrganizationInput from OrganizationRecord(OrganizationData);
    example = json!({
        "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
        "name": "Yangpu District Digital Economy Industry Cluster Party Building Alliance",
        "kind": "alliance",
        "classification": "party building alliance",
        "parent_id": null,
        "area_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6b01",
        "other_names": [{"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}],
        "founding_date": "2023-05-23",
        "dissolution_date": null,
        "description": "Links the party organizations of leading digital-economy enterprises and science parks in Yangpu.",
        "contact_details": [],
        "links": [],
        "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
        "identifiers": [],
        "version": 1,
        "created_at": "2026-11-26T08:00:00Z",
        "updated_at": "2026-11-26T08:00:00Z",
        "deleted_at": null
    });
}

crate::input! {
    /// The writable fields of an organization, for create (POST) and full
    /// replace (PUT). Optional fields left out are empty.
    #[example = json!({
        "name": "Party Committee of Oujian Network",
        "kind": "party_committee",
        "parent_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
        "other_names": [{"name": "欧简网络党委", "lang": "zh"}]
    })]
    pub struct OrganizationInput => OrganizationData;
    /// A JSON merge patch (RFC 7396) of an organization: members present are
    /// set, members set to `null` are cleared, absent members stay.
    #[example = json!({"description": "Convened by the Organization Department.", "dissolution_date": null})]
    pub struct OrganizationPatch;
    {
        /// 1–500 characters after trimming.
        name: Name<500>,
        kind: OrganizationKind,
        /// An open classification beside `kind`, e.g. "district party committee
        /// department" (Popolo's `classification`).
        classification: Optional<Name<200>>,
        /// A live organization (id or `scheme:value`); the tree must stay free
        /// of cycles.
        parent_id: Option<Ref<Organizations>>,
        /// The area the organization serves, e.g. Yangpu District: a live area
        /// (id or `scheme:value`).
        area_id: Option<Ref<Areas>>,
        other_names: List<OtherName, 100>,
        /// A partial date: YYYY, YYYY-MM or YYYY-MM-DD.
        founding_date: Option<PartialDate>,
        /// A partial date, not ending before `founding_date` begins.
        dissolution_date: Option<PartialDate>,
        description: Optional<Text<20000>>,
        contact_details: List<ContactDetail, 100>,
        /// Web pages about the organization, e.g. its website.
        links: List<Link, 100>,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
    }
}

page_type!(
    /// One page of organizations.
    OrganizationPage,
    Organization
);

crate::list_params! {
    /// Filters and paging of `GET /v1/organizations`.
    pub struct ListOrganizationsParams of records sorted by NameSort {
        /// Only organizations of this kind.
        kind: Option<OrganizationKind>,
        /// Only direct children of this organization.
        parent_id: Option<Reference>,
        /// Only organizations serving this area.
        area_id: Option<Reference>,
        /// Case-insensitive substring of the name or of any other name (any
        /// script, e.g. `bilibili` or `哔哩`).
        #[param(inline)]
        q: Option<Search<200>>,
    }
}

crate::list_params! {
    /// Paging of `GET /v1/organizations/{id}/children`.
    pub struct ListChildrenParams sorted by NameSort {}
}

crate::enum_field!(OrganizationKind);

impl Resource for Organizations {
    fn rules(input: &OrganizationInput) -> Vec<FieldError> {
        let mut faults = period_rule(
            ("dissolution_date", input.dissolution_date.as_ref()),
            ("founding_date", input.founding_date.as_ref()),
        );
        faults.extend(other_name_periods("other_names", &input.other_names));
        faults
    }

    fn moves(input: &OrganizationInput) -> bool {
        input.parent_id.is_some()
    }

    fn patch_moves(patch: &OrganizationPatch) -> bool {
        matches!(patch.parent_id, Patch::Set(Some(_)))
    }

    fn present(record: OrganizationRecord, _viewer: &Principal) -> Result<Organization, Error> {
        Organization::try_from(record)
    }
}

crate::list_operation! {
    get "/v1/organizations" in "organizations" as "listOrganizations", params(ListOrganizationsParams),
    "One page of live organizations" => OrganizationPage, ListErrors;
    /// Lists organizations.
    pub async fn list: store::list, Organizations::present, |p, _| OrganizationFilter {
        kind: p.kind,
        parent_id: p.parent_id.clone(),
        area_id: p.area_id.clone(),
        q: p.q.as_ref().and_then(Search::term),
        records: p.records()?,
    }
}

crate::list_operation! {
    get "/v1/organizations/{id}/children" in "organizations" as "listOrganizationChildren", params(("id" = Reference, Path, description = "The organization: its id, or one of its identifiers as `scheme:value`"), ListChildrenParams),
    "One page of child organizations" => OrganizationPage, ReadErrors;
    /// Lists the live direct children of an organization.
    pub async fn list_children(
        listing: Listing<ListChildrenParams>,
        parent: PathRef<store::Organizations>,
    ) -> Result<HttpResponse, Error> {
        listing
            .page::<OrganizationPage, _>(
                move |conn, page| {
                    let filter = OrganizationFilter {
                        parent_id: Some(Reference::Id(parent.live(conn)?)),
                        ..Default::default()
                    };
                    store::list(conn, &filter, page)
                },
                Organizations::present,
            )
            .await
    }
}

crate::handlers! {
    /// Organizations as a [`Resource`].
    pub struct Organizations: OrganizationInput, OrganizationPatch => Organization in store::Organizations,
    "organizations" at "/v1/organizations" for "Organization" ("an organization", "the organization"),
    routes [Read => list from replica, Read => list_children from replica],
    delete "Deletes an organization (kept as a tombstone); refused while live child organizations, roles, posts or event participants refer to it.",
}
