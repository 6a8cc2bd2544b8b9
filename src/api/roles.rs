//! `/v1/roles`: who holds which post in which organization, from when to
//! when; and which organizations are members of another. Also the two views
//! over roles: the members of an organization and the roles of a person.

use crate::api::common::PathRef;
use crate::api::input::{exactly_one, not_before, Ref};
use crate::api::organizations::{Organization, Organizations};
use crate::api::pagination::{Listing, Page};
use crate::api::people::{People, Person};
use crate::api::problems::{ListErrors, ReadErrors};
use crate::api::resource::Resource;
use crate::domain::Search;
use crate::domain::{Date, Identifiers, List, Name, Optional, Reference, Source, Text};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::roles::{self as store, RoleData, RoleFilter, RoleRecord, View};
use crate::store::rows::Rows;
use crate::store::{organizations, people, CreatedSort, SortKey};
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

crate::representation! {
    /// A post held in an organization: by a person (an official's post), or by
    /// an organization (a member unit of the alliance).
    pub struct Role of RoleInput from RoleRecord(RoleData);
    example = json!({
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
    });
}

crate::input! {
    /// The writable fields of a role, for create (POST) and full replace (PUT).
    /// Exactly one of `person_id` and `member_organization_id` must be given.
    #[example = json!({
        "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
        "member_organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
        "title": "Member unit",
        "start_date": "2023-05-23",
        "note": "First batch"
    })]
    pub struct RoleInput => RoleData;
    /// A JSON merge patch (RFC 7396) of a role: members present are set,
    /// members set to `null` are cleared, absent members stay.
    #[example = json!({"end_date": "2025-12-31"})]
    pub struct RolePatch;
    {
        /// A live organization (id or `scheme:value`).
        organization_id: Ref<Organizations>,
        /// A live person.
        person_id: Option<Ref<People>>,
        /// A live organization other than `organization_id`.
        member_organization_id: Option<Ref<Organizations>>,
        /// The post, e.g. "Deputy Secretary" or "Member unit".
        title: Name<500>,
        start_date: Option<Date>,
        /// Not before `start_date`.
        end_date: Option<Date>,
        note: Optional<Text<2000>>,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
    }
}

/// The rule that an organization holds no role in itself.
fn not_in_itself(held: bool) -> Vec<FieldError> {
    if held {
        vec![FieldError::new(
            "member_organization_id",
            "an organization cannot hold a role in itself",
        )]
    } else {
        Vec::new()
    }
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

crate::list_params! {
    /// Filters and paging of `GET /v1/roles`.
    pub struct ListRolesParams of records sorted by CreatedSort {
        /// Only roles in this organization.
        organization_id: Option<Reference>,
        /// Only roles held by this person.
        person_id: Option<Reference>,
        /// Only roles held by this organization.
        member_organization_id: Option<Reference>,
        /// Only roles active on this day: start ≤ day (or no start) and
        /// end ≥ day (or no end).
        active_on: Option<Date>,
        /// Case-insensitive substring of the title.
        #[param(inline)]
        title: Option<Search<200>>,
    }
}

crate::list_params! {
    /// Filters and paging of the role views.
    pub struct RoleViewParams sorted by CreatedSort {
        /// Only roles active on this day: start ≤ day (or no start) and
        /// end ≥ day (or no end). Without it, every live role, past ones too.
        active_on: Option<Date>,
    }
}

impl Resource for Roles {
    fn rules(input: &RoleInput) -> Vec<FieldError> {
        let mut faults = exactly_one(&[
            ("person_id", input.person_id.is_some()),
            (
                "member_organization_id",
                input.member_organization_id.is_some(),
            ),
        ]);
        faults.extend(not_in_itself(
            input.member_organization_id.as_ref() == Some(&input.organization_id),
        ));
        faults.extend(not_before(
            ("end_date", input.end_date),
            ("start_date", input.start_date),
        ));
        faults
    }

    fn data_rules(data: &RoleData) -> Vec<FieldError> {
        not_in_itself(data.member_organization_id == Some(data.organization_id))
    }

    fn present(record: RoleRecord, _viewer: &Principal) -> Result<Role, Error> {
        Role::try_from(record)
    }
}

crate::list_operation! {
    get "/v1/roles" in "roles" as "listRoles", params(ListRolesParams),
    "One page of live roles" => RolePage, ListErrors;
    /// Lists roles.
    pub async fn list: store::list, Roles::present, |p, _| RoleFilter {
        organization_id: p.organization_id.clone(),
        person_id: p.person_id.clone(),
        member_organization_id: p.member_organization_id.clone(),
        active_on: p.active_on.map(Into::into),
        title: p.title.as_ref().and_then(Search::term),
        records: p.records()?,
    }
}

/// One page of the roles `rows` reads for the live record of `T` that the
/// path names (404 when none), on the day asked for, each presented.
async fn view<T: Rows + 'static, P: Page, R>(
    listing: Listing<RoleViewParams>,
    of: PathRef<T>,
    rows: View<R>,
    present: impl Fn(R, &Principal) -> Result<P::Item, Error>,
) -> Result<HttpResponse, Error>
where
    R: Send + 'static,
    CreatedSort: SortKey<R>,
{
    let day = listing.params.active_on.map(Into::into);
    listing
        .page::<P, _>(
            move |conn, page| {
                let id = of.live(conn)?;
                rows(conn, id, day, page)
            },
            present,
        )
        .await
}

crate::list_operation! {
    get "/v1/organizations/{id}/members" in "roles" as "listOrganizationMembers", params(("id" = Reference, Path, description = "The organization: its id, or one of its identifiers as `scheme:value`"), RoleViewParams),
    "One page of roles in the organization with their holders" => MemberPage, ReadErrors;
    /// Lists the members of an organization: its live roles with the person or
    /// organization holding each (e.g. the member units of the alliance, or the
    /// officials of a party committee). One database query per page.
    pub async fn members(
        listing: Listing<RoleViewParams>,
        organization: PathRef<organizations::Organizations>,
    ) -> Result<HttpResponse, Error> {
        view::<_, MemberPage, _>(listing, organization, store::members, |(role, person, member), viewer| {
            Ok(Member {
                role: Role::try_from(role)?,
                person: person.map(|p| Person::present(p, viewer)).transpose()?,
                member_organization: member.map(Organization::try_from).transpose()?,
            })
        })
        .await
    }
}

crate::list_operation! {
    get "/v1/people/{id}/roles" in "roles" as "listPersonRoles", params(("id" = Reference, Path, description = "The person: their id, or one of their identifiers as `scheme:value`"), RoleViewParams),
    "One page of the person's roles with their organizations" => HeldRolePage, ReadErrors;
    /// Lists the roles a person holds, each with its organization (which posts
    /// does this official hold, or held on a day). One database query per page.
    pub async fn held_by(listing: Listing<RoleViewParams>, person: PathRef<people::People>) -> Result<HttpResponse, Error> {
        view::<_, HeldRolePage, _>(listing, person, store::held_by, |(role, organization), _| {
            Ok(HeldRole {
                role: Role::try_from(role)?,
                organization: Organization::try_from(organization)?,
            })
        })
        .await
    }
}

crate::handlers! {
    /// Roles as a [`Resource`].
    pub struct Roles: RoleInput, RolePatch => Role in store::Roles,
    "roles" at "/v1/roles" for "Role" ("a role", "the role"),
    routes [Read => members, Read => held_by, Read => list],
    update "Changes some fields of a role (JSON merge patch), e.g. sets end_date to end it.",
    delete "Deletes a role entered by mistake (kept as a tombstone); to end a role, set its end_date instead.",
}
