//! `/v1/events`: the founding seminar, its discussion session, joint
//! meetings of all members, rotating themed activities.

use crate::api::extract::Query;
use crate::api::input::{not_before, Patch, Ref};
use crate::api::participants::Participant;
use crate::api::preconditions::{computed_response, IfNoneMatch};
use crate::api::problems::{ListErrors, ReadErrors};
use crate::api::resource::{self, Item, Resource};
use crate::db::{self, PgPool};
use crate::domain::Search;
use crate::domain::{Identifiers, Instant, List, Name, Optional, Reference, Source, Text, Topics};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::events::{
    self as store, EventData, EventFilter, EventKind, EventRecord, EventSort, EventStatus,
};
use crate::store::participants;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

crate::representation! {
    /// An event of the register.
    pub struct Event of EventInput from EventRecord(EventData);
    example = json!({
        "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95",
        "title": "Seminar on the theory of party building leading digital economy and industrial development",
        "kind": "seminar",
        "status": "held",
        "starts_at": "2023-05-23T01:30:00Z",
        "ends_at": null,
        "location": "Yangpu District, Shanghai",
        "description": "The Yangpu District Digital Economy Industry Cluster Party Building Alliance was established.",
        "parent_event_id": null,
        "topics": ["party building", "digital economy"],
        "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
        "version": 1,
        "created_at": "2026-11-26T08:00:00Z",
        "updated_at": "2026-11-26T08:00:00Z"
    });
    extra {
        /// The participants, oldest first; only with `embed=participants`.
        participants: Participant,
        /// The sessions (child events), earliest first; only with
        /// `embed=sessions`.
        sessions: Event,
    }
}

crate::enum_field!(
    EventKind = EventKind::Other,
    EventStatus = EventStatus::Planned
);

crate::input! {
    /// The writable fields of an event, for create (POST) and full replace
    /// (PUT). Optional fields left out are empty; `kind` defaults to `other`
    /// and `status` to `planned`.
    #[example = json!({
        "title": "Theoretical discussion session",
        "kind": "discussion_session",
        "status": "held",
        "starts_at": "2023-05-23T10:30:00+08:00",
        "parent_event_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95",
        "topics": ["cloud computing", "digital design", "digital sports"]
    })]
    pub struct EventInput => EventData;
    /// A JSON merge patch (RFC 7396) of an event: members present are set,
    /// members set to `null` are cleared (or take their default), absent
    /// members stay.
    #[example = json!({"status": "held", "ends_at": "2023-05-23T12:00:00+08:00"})]
    pub struct EventPatch;
    {
        /// 1–500 characters after trimming.
        title: Name<500>,
        kind: EventKind,
        status: EventStatus,
        /// RFC 3339 with an offset; stored and returned in UTC.
        starts_at: Instant,
        /// Not before `starts_at`.
        ends_at: Option<Instant>,
        location: Optional<Text<500>>,
        description: Optional<Text<20000>>,
        /// A live event (id or `scheme:value`) this one is a session of; no
        /// cycles.
        parent_event_id: Option<Ref<Events>>,
        /// Topics, e.g. "cloud computing"; trimmed, duplicates dropped.
        topics: Topics,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
    }
}

page_type!(
    /// One page of events.
    EventPage,
    Event
);

crate::list_params! {
    /// Filters and paging of `GET /v1/events`.
    pub struct ListEventsParams of records sorted by EventSort {
        /// Only events not over before this instant (their end, or their start
        /// when they have no end, is at or after it). RFC 3339.
        from: Option<Instant>,
        /// Only events started at or before this instant. RFC 3339.
        to: Option<Instant>,
        /// Only events of this kind.
        kind: Option<EventKind>,
        /// Only events in this status.
        status: Option<EventStatus>,
        /// Only events with this topic (exact match).
        #[param(inline)]
        topic: Option<Search<100>>,
        /// Only events this organization takes part in, in any role, or that
        /// someone takes part in on its behalf.
        organization_id: Option<Reference>,
        /// Only events this person takes part in, in any role.
        person_id: Option<Reference>,
        /// Only sessions of this event.
        parent_event_id: Option<Reference>,
        /// Case-insensitive substring of the title or description.
        #[param(inline)]
        q: Option<Search<200>>,
    }
}

/// What `GET /v1/events/{id}` embeds.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetEventParams {
    /// Comma-separated: `participants` (with names, one extra query) and/or
    /// `sessions` (the child events, one extra query). An embedded
    /// response's ETag is weak and covers the embedded records too.
    #[param(pattern = r"^(participants|sessions)(,(participants|sessions))*$")]
    embed: Option<String>,
}

impl Resource for Events {
    fn rules(input: &EventInput) -> Vec<FieldError> {
        not_before(
            ("ends_at", input.ends_at),
            ("starts_at", Some(input.starts_at)),
        )
    }

    fn moves(input: &EventInput) -> bool {
        input.parent_event_id.is_some()
    }

    fn patch_moves(patch: &EventPatch) -> bool {
        matches!(patch.parent_event_id, Patch::Set(Some(_)))
    }

    fn present(record: EventRecord, _viewer: &Principal) -> Result<Event, Error> {
        Event::try_from(record)
    }
}

crate::list_operation! {
    get "/v1/events" in "events" as "listEvents", params(ListEventsParams),
    "One page of live events" => EventPage, ListErrors;
    /// Lists events.
    pub async fn list: store::list, Events::present, |p, _| {
        if let (Some(from), Some(to)) = (p.from, p.to) {
            if from > to {
                return Err(Error::bad_parameter("to", "must not be before from"));
            }
        }
        EventFilter {
            from: p.from.map(Into::into),
            to: p.to.map(Into::into),
            kind: p.kind,
            status: p.status,
            topic: p.topic.as_ref().and_then(Search::term),
            organization_id: p.organization_id.clone(),
            person_id: p.person_id.clone(),
            parent_event_id: p.parent_event_id.clone(),
            q: p.q.as_ref().and_then(Search::term),
            records: p.records()?,
        }
    }
}

crate::operation! {
    get "/v1/events/{id}" in "events" as "getEvent" [
        params(("id" = Reference, Path, description = "The event: its id, or one of its identifiers as `scheme:value`"), GetEventParams, IfNoneMatch),
        responses(
            (status = 200, description = "The event", body = Event,
                headers(("ETag" = String, description = "Entity tag: the version, or a weak tag of the whole response when something is embedded"))),
            (status = 304, description = "The client's copy (If-None-Match) is current",
                headers(("ETag" = String, description = "Entity tag of this version"))),
            ReadErrors,
        )
    ];
    /// Gets an event, optionally with its participants and sessions embedded.
    pub async fn get(
        pool: web::Data<PgPool>,
        viewer: Principal,
        item: Item<Events>,
        params: Query<GetEventParams>,
        if_none_match: IfNoneMatch,
    ) -> Result<HttpResponse, Error> {
        let (mut with_participants, mut with_sessions) = (false, false);
        for part in params.0.embed.iter().flat_map(|e| e.split(',')) {
            match part.trim() {
                "participants" => with_participants = true,
                "sessions" => with_sessions = true,
                other => {
                    return Err(Error::bad_parameter(
                        "embed",
                        format!("unknown embed {other:?}; use participants and/or sessions"),
                    ))
                }
            }
        }
        if !with_participants && !with_sessions {
            return resource::get::<Events>(&pool, viewer, item, if_none_match).await;
        }
        let (record, participant_rows, session_rows) = db::run(&pool, move |conn| {
            let id = item.id(conn)?;
            let record = store::find(conn, id)?;
            let participants = with_participants
                .then(|| participants::all_of(conn, id))
                .transpose()?;
            let sessions = with_sessions
                .then(|| store::sessions(conn, id))
                .transpose()?;
            Ok((record, participants, sessions))
        })
        .await?;
        let mut event = Event::try_from(record)?;
        event.participants =
            participant_rows.map(|rows| rows.into_iter().map(Participant::from).collect());
        event.sessions = session_rows
            .map(|rows| rows.into_iter().map(Event::try_from).collect())
            .transpose()?;
        computed_response(&if_none_match, &event, Vec::new())
    }
}

crate::handlers! {
    /// Events as a [`Resource`].
    pub struct Events: EventInput, EventPatch => Event in store::Events,
    "events" at "/v1/events" for "Event" ("an event", "the event"),
    routes [Read => list],
    own get,
    delete "Deletes an event and its participants (kept as tombstones); refused while live sessions belong to it.",
}
