//! `/v1/posts`: positions in an organization that exist whoever holds them
//! (Popolo's posts), optionally for an area. Who holds each is a view over
//! roles ([`crate::api::holders`]).

use crate::api::areas::Areas;
use crate::api::input::{other_name_periods, period_rule, Ref};
use crate::api::organizations::Organizations;
use crate::api::problems::ListErrors;
use crate::api::resource::Resource;
use crate::domain::{
    ContactDetail, Date, Identifiers, Link, List, Name, Optional, OtherName, PartialDate,
    Reference, Search, Source,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::posts::{self as store, LabelSort, PostData, PostFilter, PostRecord};
use serde_json::json;

crate::representation! {
    /// A post of the register: a position in an organization that exists
    /// whoever holds it, optionally for an area. Roles holding it name it
    /// as their `post_id`.
    pub struct Post of PostInput from PostRecord(PostData);
    example = json!({
        "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ad0",
        "label": "Director of the Organization Department of the Yangpu District Party Committee",
        "role": "director",
        "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7d",
        "area_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ac1",
        "start_date": null,
        "end_date": null,
        "other_labels": [{"name": "杨浦区委组织部部长", "lang": "zh"}],
        "contact_details": [],
        "links": [],
        "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
        "identifiers": [{"scheme": "yangpu-alliance", "value": "post-organization-department-director"}],
        "version": 1,
        "created_at": "2026-12-05T08:00:00Z",
        "updated_at": "2026-12-05T08:00:00Z",
        "deleted_at": null
    });
}

crate::input! {
    /// The writable fields of a post, for create (POST) and full replace
    /// (PUT). Optional fields left out are empty.
    #[example = json!({
        "label": "Director of the Organization Department of the Yangpu District Party Committee",
        "role": "director",
        "organization_id": "yangpu-alliance:organization-department",
        "area_id": "yangpu-alliance:area-yangpu",
        "other_labels": [{"name": "杨浦区委组织部部长", "lang": "zh"}],
        "identifiers": [{"scheme": "yangpu-alliance", "value": "post-organization-department-director"}]
    })]
    pub struct PostInput => PostData;
    /// A JSON merge patch (RFC 7396) of a post: members present are set,
    /// members set to `null` are cleared, absent members stay.
    #[example = json!({"end_date": "2025-12"})]
    pub struct PostPatch;
    {
        /// What the post is called, e.g. "Director of the Organization
        /// Department of the Yangpu District Party Committee" (1–500
        /// characters after trimming).
        label: Name<500>,
        /// The function the post fills, e.g. `director` or `secretary`
        /// (1–100 characters).
        role: Optional<Name<100>>,
        /// The organization the post is in: a live organization (id or
        /// `scheme:value`).
        organization_id: Ref<Organizations>,
        /// The area the post serves, if it serves one: a live area.
        area_id: Option<Ref<Areas>>,
        /// When the post was created.
        start_date: Option<PartialDate>,
        /// When the post was abolished: its last day not before the first
        /// day of `start_date`.
        end_date: Option<PartialDate>,
        /// Other labels of the post, e.g. in Chinese.
        other_labels: List<OtherName, 100>,
        contact_details: List<ContactDetail, 100>,
        links: List<Link, 100>,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
    }
}

page_type!(
    /// One page of posts.
    PostPage,
    Post
);

crate::list_params! {
    /// Filters and paging of `GET /v1/posts`.
    pub struct ListPostsParams of records sorted by LabelSort {
        /// Only posts in this organization.
        organization_id: Option<Reference>,
        /// Only posts serving this area.
        area_id: Option<Reference>,
        /// Only posts of this function (exact), e.g. `director`.
        #[param(inline)]
        role: Option<Name<100>>,
        /// Only posts existing on this day: created on or before it (from
        /// the first day of `start_date`, or no start) and not abolished
        /// before it (through the last day of `end_date`, or no end).
        active_on: Option<Date>,
        /// Case-insensitive substring of the label or of any other label.
        #[param(inline)]
        q: Option<Search<200>>,
    }
}

impl Resource for Posts {
    fn rules(input: &PostInput) -> Vec<FieldError> {
        let mut faults = period_rule(
            ("end_date", input.end_date.as_ref()),
            ("start_date", input.start_date.as_ref()),
        );
        faults.extend(other_name_periods("other_labels", &input.other_labels));
        faults
    }

    fn present(record: PostRecord, _viewer: &Principal) -> Result<Post, Error> {
        Post::try_from(record)
    }
}

crate::list_operation! {
    get "/v1/posts" in "posts" as "listPosts", params(ListPostsParams),
    "One page of live posts" => PostPage, ListErrors;
    /// Lists posts.
    pub async fn list: store::list, Posts::present, |p, _| PostFilter {
        organization_id: p.organization_id.clone(),
        area_id: p.area_id.clone(),
        role: p.role.clone().map(String::from),
        active_on: p.active_on.map(Into::into),
        q: p.q.as_ref().and_then(Search::term),
        records: p.records()?,
    }
}

crate::handlers! {
    /// Posts as a [`Resource`].
    pub struct Posts: PostInput, PostPatch => Post in store::Posts,
    "posts" at "/v1/posts" for "Post" ("a post", "the post"),
    routes [Read => list from replica],
    delete "Deletes a post (kept as a tombstone); refused while live roles hold it.",
}
