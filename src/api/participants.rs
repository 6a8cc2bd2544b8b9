//! `/v1/events/{id}/participants`: who took part in an event — a person or
//! an organization — as organizer, host, speaker, attendee or commenter,
//! and on whose behalf.

use crate::api::common::PathRef;
use crate::api::input::{exactly_one, Ref};
use crate::api::organizations::Organizations;
use crate::api::pagination::Listing;
use crate::api::people::People;
use crate::api::problems::ReadErrors;
use crate::api::resource::{Resource, ResourceTypes};
use crate::domain::{Identifier, Identifiers, Instant, Link, List, Optional, Reference, Text};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::events;
use crate::store::participants::{self as store, ParticipantData, ParticipantRole, ParticipantRow};
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// A participant of an event. The `*_name` fields are read-only
/// conveniences: the current names of the records referred to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6aa0",
    "event_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95",
    "person_id": null,
    "person_name": null,
    "organization_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7c",
    "organization_name": "Party Committee of Oujian Network",
    "role": "speaker",
    "on_behalf_of_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
    "on_behalf_of_name": "Yangpu District Digital Economy Industry Cluster Party Building Alliance",
    "note": "Spoke on behalf of the alliance",
    "identifiers": [{"scheme": "yangpu-alliance", "value": "seminar-oujian-speaker"}],
    "links": [],
    "version": 1,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z",
    "deleted_at": null
}))]
pub struct Participant {
    /// Server-assigned, time-ordered (UUID v7).
    pub id: Uuid,
    pub event_id: Uuid,
    /// The person taking part (exactly one of `person_id` and
    /// `organization_id` is set).
    #[schema(required = true)]
    pub person_id: Option<Uuid>,
    #[schema(required = true)]
    pub person_name: Option<String>,
    /// The organization taking part.
    #[schema(required = true)]
    pub organization_id: Option<Uuid>,
    #[schema(required = true)]
    pub organization_name: Option<String>,
    pub role: ParticipantRole,
    /// The organization the participant acts for, e.g. a speaker speaking
    /// on behalf of the alliance.
    #[schema(required = true)]
    pub on_behalf_of_id: Option<Uuid>,
    #[schema(required = true)]
    pub on_behalf_of_name: Option<String>,
    #[schema(required = true)]
    pub note: Option<String>,
    /// External identifiers (`{scheme, value}`).
    #[schema(value_type = Vec<Identifier>)]
    pub identifiers: serde_json::Value,
    /// Web pages about the participation (`{url, note?}`).
    #[schema(value_type = Vec<Link>)]
    pub links: serde_json::Value,
    /// Incremented by every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the participant was removed; only tombstones (`include_deleted`,
    /// the change feed) have one.
    #[schema(required = true)]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<ParticipantRow> for Participant {
    fn from(row: ParticipantRow) -> Self {
        let r = row.record;
        Self {
            id: r.id,
            event_id: r.data.event_id,
            person_id: r.data.person_id,
            person_name: row.person_name,
            organization_id: r.data.organization_id,
            organization_name: row.organization_name,
            role: r.data.role,
            on_behalf_of_id: r.data.on_behalf_of_id,
            on_behalf_of_name: row.on_behalf_of_name,
            note: r.data.note,
            identifiers: r.data.identifiers,
            links: r.data.links,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

crate::enum_field!(ParticipantRole);

crate::input! {
    /// The writable fields of a participant, for create (POST) and full
    /// replace (PUT). Exactly one of `person_id` and `organization_id` must be
    /// given; a member may hold each participant role once per event.
    #[example = json!({
        "person_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a80",
        "role": "speaker",
        "on_behalf_of_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b"
    })]
    pub struct ParticipantInput => ParticipantData { event_id: Uuid };
    /// A JSON merge patch (RFC 7396) of a participant: members present are
    /// set, members set to `null` are cleared, absent members stay.
    #[example = json!({"role": "commenter"})]
    pub struct ParticipantPatch;
    {
        /// A live person (id or `scheme:value`).
        person_id: Option<Ref<People>>,
        /// A live organization (id or `scheme:value`).
        organization_id: Option<Ref<Organizations>>,
        role: ParticipantRole,
        /// A live organization the participant acts for.
        on_behalf_of_id: Option<Ref<Organizations>>,
        note: Optional<Text<2000>>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
        /// Web pages about the participation, e.g. the speech.
        links: List<Link, 100>,
    }
}

page_type!(
    /// One page of the participants of an event.
    ParticipantPage,
    Participant
);

crate::list_params! {
    /// Filters and paging of `GET /v1/events/{id}/participants`.
    pub struct ListParticipantsParams {
        /// Only participants in this capacity.
        role: Option<ParticipantRole>,
        /// Only participants changed at or after this instant (RFC 3339).
        updated_since: Option<Instant>,
        /// Also list removed participants (tombstones, with `deleted_at`).
        include_deleted: Option<bool>,
    }
}

impl Resource for Participants {
    fn location(row: &ParticipantRow) -> String {
        let r = &row.record;
        format!("{}/{}/participants/{}", Self::PATH, r.data.event_id, r.id)
    }

    fn rules(input: &ParticipantInput) -> Vec<FieldError> {
        exactly_one(&[
            ("person_id", input.person_id.is_some()),
            ("organization_id", input.organization_id.is_some()),
        ])
    }

    fn present(row: ParticipantRow, _viewer: &Principal) -> Result<Participant, Error> {
        Ok(Participant::from(row))
    }
}

crate::list_operation! {
    get "/v1/events/{id}/participants" in "events" as "listEventParticipants", params(("id" = Reference, Path, description = "The event: its id, or one of its identifiers as `scheme:value`"), ListParticipantsParams),
    "One page of live participants" => ParticipantPage, ReadErrors;
    /// Lists the participants of an event, oldest first.
    pub async fn list(
        listing: Listing<ListParticipantsParams>,
        event: PathRef<events::Events>,
    ) -> Result<HttpResponse, Error> {
        let p = &listing.params;
        let filter = store::ParticipantFilter {
            role: p.role,
            updated_since: p.updated_since.map(Into::into),
            include_deleted: p.include_deleted.unwrap_or(false),
        };
        listing
            .page::<ParticipantPage, _>(
                move |conn, page| {
                    let event = event.live(conn)?;
                    store::list(conn, event, &filter, page)
                },
                Participants::present,
            )
            .await
    }
}

crate::handlers! {
    /// Event participants as a [`Resource`], scoped by their event.
    pub struct Participants: ParticipantInput, ParticipantPatch => Participant in store::Participants, under "/v1/events",
    "events" at "/v1/events/{id}/participants" (("id" = Reference, Path, description = "The event: its id, or one of its identifiers as `scheme:value`"))
        / "/v1/events/{id}/participants/{participant_id}" (("id" = Reference, Path, description = "The event: its id, or one of its identifiers as `scheme:value`"), ("participant_id" = Reference, Path, description = "The participant: its id, or one of its identifiers as `scheme:value`")),
    routes [Read => list from replica],
    create ("createEventParticipant", "Adds a participant to an event."),
    get ("getEventParticipant", "Gets a participant of an event."),
    replace ("replaceEventParticipant", "Replaces a participant (every writable field)."),
    update ("updateEventParticipant", "Changes some fields of a participant (JSON merge patch)."),
    delete ("deleteEventParticipant", "Removes a participant from an event (kept as a tombstone)."),
    upsert ("upsertEventParticipantByIdentifier", "Creates or replaces the participant of this event carrying an external identifier (409 when a participant of another event carries it)."),
}
