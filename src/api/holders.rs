//! `/v1/posts/{id}/holders`: who holds a post — the live roles naming it
//! as their `post_id`, each with its holder. A module of its own, so that
//! neither [`crate::api::posts`] nor [`crate::api::roles`] imports the
//! other.

use crate::api::common::PathRef;
use crate::api::organizations::Organization;
use crate::api::pagination::Listing;
use crate::api::people::Person;
use crate::api::problems::ReadErrors;
use crate::api::roles::{Member, MemberPage, Role};
use crate::domain::{Date, Reference};
use crate::error::Error;
use crate::store::holders as store;
use crate::store::posts::Posts;
use crate::store::CreatedSort;
use actix_web::HttpResponse;

crate::list_params! {
    /// Filters and paging of `GET /v1/posts/{id}/holders`.
    pub struct ListHoldersParams sorted by CreatedSort {
        /// Only roles active on this day: start ≤ day (or no start) and
        /// end ≥ day (or no end). Without it, every live role holding the
        /// post, past ones too.
        active_on: Option<Date>,
    }
}

crate::list_operation! {
    get "/v1/posts/{id}/holders" in "posts" as "listPostHolders", params(("id" = Reference, Path, description = "The post: its id, or one of its identifiers as `scheme:value`"), ListHoldersParams),
    "One page of the roles holding the post with their holders" => MemberPage, ReadErrors;
    /// Lists who holds a post: the live roles naming it as their `post_id`,
    /// each with the person or organization holding it (who was director on
    /// a day). One database query per page.
    pub async fn holders(
        listing: Listing<ListHoldersParams>,
        post: PathRef<Posts>,
    ) -> Result<HttpResponse, Error> {
        let day = listing.params.active_on.map(Into::into);
        listing
            .page::<MemberPage, _>(
                move |conn, page| {
                    let id = post.live(conn)?;
                    store::holders(conn, id, day, page)
                },
                |(role, person, member), viewer| {
                    Ok(Member {
                        role: Role::try_from(role)?,
                        person: person.map(|p| Person::present(p, viewer)).transpose()?,
                        member_organization: member.map(Organization::try_from).transpose()?,
                    })
                },
            )
            .await
    }
}

crate::routes! {
    Read => holders from replica,
}
