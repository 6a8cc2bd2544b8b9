//! `/v1/roles`: who holds which post in which organization, from when to
//! when; and which organizations are members of another. Also the two views
//! over roles: the members of an organization and the roles of a person.

use crate::api::common::{CommaSet, PathRef};
use crate::api::input::{exactly_one, period_rule, Ref};
use crate::api::organizations::{Organization, Organizations};
use crate::api::pagination::{Listing, Page};
use crate::api::people::{People, Person};
use crate::api::posts::{Post, Posts};
use crate::api::problems::{ListErrors, ReadErrors};
use crate::api::resource::Resource;
use crate::domain::Search;
use crate::domain::{
    Date, Identifiers, Link, List, Name, Optional, PartialDate, Reference, Source, Text,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::roles::{
    self as store, Embeds, RoleData, RoleFilter, RoleRecord, TenureFilter, View,
};
use crate::store::rows::Rows;
use crate::store::text::text_values;
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
        "role": "deputy secretary",
        "on_behalf_of_id": null,
        "post_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6b10",
        "start_date": null,
        "end_date": null,
        "note": null,
        "links": [],
        "sources": [],
        "identifiers": [],
        "version": 1,
        "created_at": "2026-11-26T08:00:00Z",
        "updated_at": "2026-11-26T08:00:00Z",
        "deleted_at": null
    });
    one {
        /// The person holding the role; only with `embed=person`.
        person: Person,
        /// The organization the role is held in; only with
        /// `embed=organization`.
        organization: Organization,
        /// The organization holding the role; only with
        /// `embed=member_organization`.
        member_organization: Organization,
        /// The post the role is the holding of; only with `embed=post`.
        post: Post,
    }
}

crate::input! {
    /// The writable fields of a role, for create (POST) and full replace (PUT).
    /// Exactly one of `person_id` and `member_organization_id` must be given.
    #[example = json!({
        "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
        "member_organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
        "title": "Member unit",
        "role": "member",
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
        /// What the member holds, as said, e.g. "Deputy Secretary" or "Member
        /// unit" (Popolo's membership `label`).
        title: Name<500>,
        /// The function the member fulfils, one word or a few, e.g. `member`
        /// or `convenor` (Popolo's membership `role`); the `role` filters
        /// match it exactly.
        role: Optional<Name<100>>,
        /// A live organization the member holds the role on behalf of.
        on_behalf_of_id: Option<Ref<Organizations>>,
        /// The post the role is the holding of: a live post (id or
        /// `scheme:value`) of the role's organization.
        post_id: Option<Ref<Posts>>,
        /// A partial date (YYYY, YYYY-MM or YYYY-MM-DD), read from its first
        /// day.
        start_date: Option<PartialDate>,
        /// A partial date read through its last day ("2020" ends on
        /// 2020-12-31); not ending before `start_date` begins.
        end_date: Option<PartialDate>,
        note: Optional<Text<2000>>,
        /// Web pages about the role.
        links: List<Link, 100>,
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

text_values! {
    /// What a listing of roles can embed in each role.
    pub enum RoleEmbed {
        /// The person holding it.
        Person => "person",
        /// The organization it is held in.
        Organization => "organization",
        /// The organization holding it.
        MemberOrganization => "member_organization",
        /// The post it is the holding of.
        Post => "post",
    }
}

/// What a listing of roles embeds.
type RoleEmbeds = CommaSet<RoleEmbed>;

crate::list_params! {
    /// Filters and paging of `GET /v1/roles`.
    pub struct ListRolesParams of records sorted by CreatedSort {
        /// Only roles in this organization.
        organization_id: Option<Reference>,
        /// With `organization_id`: roles in its sub-organizations (the whole
        /// tree below it) count too.
        include_descendants: Option<bool>,
        /// Only roles held by this person.
        person_id: Option<Reference>,
        /// Only roles held by this organization (e.g. what a member unit is
        /// part of, with `embed=organization`).
        member_organization_id: Option<Reference>,
        /// Only roles active on this day: the first day of the start ≤ day (or
        /// no start) and the last day of the end ≥ day (or no end).
        active_on: Option<Date>,
        /// Case-insensitive substring of the title.
        #[param(inline)]
        title: Option<Search<200>>,
        /// Only roles with this role (function), exactly, e.g. `member`.
        #[param(inline)]
        role: Option<Search<100>>,
        /// Comma-separated records to embed in each role: `person`,
        /// `organization`, `member_organization`, `post` (one extra query
        /// each).
        #[param(inline)]
        embed: Option<RoleEmbeds>,
    }
}

crate::list_params! {
    /// Filters and paging of the role views.
    pub struct RoleViewParams sorted by CreatedSort {
        /// Only roles active on this day: the first day of the start ≤ day (or
        /// no start) and the last day of the end ≥ day (or no end). Without
        /// it, every live role, past ones too.
        active_on: Option<Date>,
        /// Case-insensitive substring of the title.
        #[param(inline)]
        title: Option<Search<200>>,
        /// Only roles with this role (function), exactly, e.g. `member` (the
        /// member units of the alliance, not its convenor).
        #[param(inline)]
        role: Option<Search<100>>,
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
        faults.extend(period_rule(
            ("end_date", input.end_date.as_ref()),
            ("start_date", input.start_date.as_ref()),
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
    /// Lists roles, optionally each with the records it refers to.
    pub async fn list(listing: Listing<ListRolesParams>) -> Result<HttpResponse, Error> {
        let p = &listing.params;
        if p.include_descendants.is_some() && p.organization_id.is_none() {
            return Err(Error::bad_parameter("include_descendants", "needs organization_id"));
        }
        let filter = RoleFilter {
            organization_id: p.organization_id.clone(),
            include_descendants: p.include_descendants.unwrap_or(false),
            person_id: p.person_id.clone(),
            member_organization_id: p.member_organization_id.clone(),
            tenure: TenureFilter {
                active_on: p.active_on.map(Into::into),
                title: p.title.as_ref().and_then(Search::term),
                role: p.role.as_ref().and_then(Search::term),
            },
            records: p.records()?,
        };
        let embed = p.embed.clone().unwrap_or(CommaSet(Vec::new()));
        let embeds = Embeds {
            person: embed.has(RoleEmbed::Person),
            organization: embed.has(RoleEmbed::Organization),
            member_organization: embed.has(RoleEmbed::MemberOrganization),
            post: embed.has(RoleEmbed::Post),
        };
        listing
            .page::<RolePage, _>(
                move |conn, page| {
                    let roles = store::list(conn, &filter, page)?;
                    store::with_referred(conn, roles, embeds)
                },
                |(role, referred), viewer| {
                    let mut role = Role::try_from(role)?;
                    let organization = |record| Organization::try_from(record).map(Box::new);
                    role.person = referred
                        .person
                        .map(|p| Person::present(p, viewer).map(Box::new))
                        .transpose()?;
                    role.organization = referred.organization.map(organization).transpose()?;
                    role.member_organization =
                        referred.member_organization.map(organization).transpose()?;
                    role.post = referred
                        .post
                        .map(|post| Post::try_from(post).map(Box::new))
                        .transpose()?;
                    Ok(role)
                },
            )
            .await
    }
}

/// One page of the roles `rows` reads for the live record of `T` that the
/// path names (404 when none), filtered as asked, each presented.
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
    let p = &listing.params;
    let tenure = TenureFilter {
        active_on: p.active_on.map(Into::into),
        title: p.title.as_ref().and_then(Search::term),
        role: p.role.as_ref().and_then(Search::term),
    };
    listing
        .page::<P, _>(
            move |conn, page| {
                let id = of.live(conn)?;
                rows(conn, id, &tenure, page)
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
    routes [Read => members from replica, Read => held_by from replica, Read => list from replica],
    update "Changes some fields of a role (JSON merge patch), e.g. sets end_date to end it.",
    delete "Deletes a role entered by mistake (kept as a tombstone); to end a role, set its end_date instead.",
}
