//! `/v1/events`: the founding seminar, its discussion session, joint
//! meetings of all members, rotating themed activities.

use crate::api::common::CommaSet;
use crate::api::extract::Query;
use crate::api::input::{not_before, Patch, Ref};
use crate::api::participants::Participant;
use crate::api::preconditions::{computed_response, IfNoneMatch};
use crate::api::problems::{ListErrors, ReadErrors};
use crate::api::resource::{self, Item, Resource};
use crate::db::{self, PgPool};
use crate::domain::Search;
use crate::domain::{
    Date, DayOrInstant, Identifiers, Instant, Link, List, Name, Optional, Reference, Source, Text,
    Timezone, Topics,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::events::{
    self as store, EventData, EventFilter, EventKind, EventRecord, EventSort, EventStatus, When,
};
use crate::store::participants;
use crate::store::text::text_values;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::IntoParams;
use uuid::Uuid;

crate::representation! {
    /// An event of the register.
    pub struct Event of EventInput from EventRecord(EventData);
    example = json!({
        "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95",
        "title": "Seminar on the theory of party building leading digital economy and industrial development",
        "kind": "seminar",
        "status": "held",
        "starts_at": null,
        "ends_at": null,
        "start_date": "2023-05-23",
        "end_date": null,
        "timezone": "Asia/Shanghai",
        "recurrence": null,
        "location": "Yangpu District, Shanghai",
        "description": "The Yangpu District Digital Economy Industry Cluster Party Building Alliance was established.",
        "parent_event_id": null,
        "topics": ["party building", "digital economy"],
        "links": [],
        "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}],
        "identifiers": [],
        "version": 1,
        "created_at": "2026-11-26T08:00:00Z",
        "updated_at": "2026-11-26T08:00:00Z",
        "deleted_at": null
    });
    extra {
        /// The participants, oldest first; only with `embed=participants`.
        participants: Participant,
        /// The sessions (child events), earliest first; only with
        /// `embed=sessions` (each with its participants with
        /// `embed=sessions.participants`).
        sessions: Event,
    }
}

crate::enum_field!(
    EventKind = EventKind::Other,
    EventStatus = EventStatus::Planned
);

crate::input! {
    /// The writable fields of an event, for create (POST) and full replace
    /// (PUT). Optional fields left out are empty; `kind` defaults to `other`,
    /// `status` to `planned` and `timezone` to the register's default. An
    /// event is timed (`starts_at`, optionally `ends_at`), all-day
    /// (`start_date`, optionally `end_date`, days in `timezone`), or — only
    /// when `planned` or `recurring` — undated.
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
        /// When a timed event starts: RFC 3339 with an offset; stored and
        /// returned in UTC. Not with `start_date`.
        starts_at: Option<Instant>,
        /// When a timed event ends; not before `starts_at`.
        ends_at: Option<Instant>,
        /// The first day of an all-day event, in `timezone`. Not with
        /// `starts_at`.
        start_date: Option<Date>,
        /// The last day of an all-day event (included); not before
        /// `start_date`.
        end_date: Option<Date>,
        /// Where the event's days and local times are reckoned.
        timezone: Timezone,
        /// How the event recurs, in words, e.g. "each quarter, hosted by the
        /// member units in turn".
        recurrence: Optional<Text<2000>>,
        location: Optional<Text<500>>,
        description: Optional<Text<20000>>,
        /// A live event (id or `scheme:value`) this one is a session of; no
        /// cycles.
        parent_event_id: Option<Ref<Events>>,
        /// Topics, e.g. "cloud computing"; trimmed, duplicates dropped.
        topics: Topics,
        /// Web pages about the event, e.g. its report.
        links: List<Link, 100>,
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
        /// Only dated events not over before this bound. An instant (RFC 3339)
        /// is compared with the instants an event spans (an all-day event spans
        /// its days in its time zone); a day (YYYY-MM-DD) with the local days it
        /// spans, so `from=2023-05-23&to=2023-05-23` finds what took place on
        /// that day where it took place.
        #[param(inline)]
        from: Option<DayOrInstant>,
        /// Only dated events begun by this bound (an instant or a day, as
        /// `from`).
        #[param(inline)]
        to: Option<DayOrInstant>,
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
        /// With `organization_id`: its sub-organizations (the whole tree below
        /// it) count as it.
        include_descendants: Option<bool>,
        /// Only events this person takes part in, in any role.
        person_id: Option<Reference>,
        /// Only sessions of this event.
        parent_event_id: Option<Reference>,
        /// Case-insensitive substring of the title or description.
        #[param(inline)]
        q: Option<Search<200>>,
    }
}

text_values! {
    /// What `GET /v1/events/{id}` can embed.
    pub enum EventEmbed {
        /// The participants, with names.
        Participants => "participants",
        /// The sessions (child events).
        Sessions => "sessions",
        /// The sessions, each with its participants.
        SessionParticipants => "sessions.participants",
    }
}

/// What `GET /v1/events/{id}` embeds.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetEventParams {
    /// Comma-separated: `participants` (with names), `sessions` (the child
    /// events) and/or `sessions.participants` (the sessions, each with its
    /// participants); at most three queries in all. An embedded response's
    /// ETag is weak and covers the embedded records too.
    #[param(inline)]
    embed: Option<EventEmbeds>,
}

/// What an event response embeds.
type EventEmbeds = CommaSet<EventEmbed>;

impl Resource for Events {
    fn rules(input: &EventInput) -> Vec<FieldError> {
        let mut faults = Vec::new();
        if input.starts_at.is_some() && input.start_date.is_some() {
            for field in ["starts_at", "start_date"] {
                faults.push(FieldError::new(
                    field,
                    "give starts_at (a timed event) or start_date (an all-day event), not both",
                ));
            }
        }
        let dated = input.starts_at.is_some() || input.start_date.is_some();
        if !dated && !EventStatus::UNDATED.contains(&input.status) {
            for field in ["starts_at", "start_date"] {
                faults.push(FieldError::new(
                    field,
                    "an event held, cancelled or postponed needs starts_at or start_date; \
                     only planned and recurring events may be undated",
                ));
            }
        }
        if input.ends_at.is_some() && input.starts_at.is_none() {
            faults.push(FieldError::new("ends_at", "needs starts_at"));
        }
        if input.end_date.is_some() && input.start_date.is_none() {
            faults.push(FieldError::new("end_date", "needs start_date"));
        }
        faults.extend(not_before(
            ("ends_at", input.ends_at),
            ("starts_at", input.starts_at),
        ));
        faults.extend(not_before(
            ("end_date", input.end_date),
            ("start_date", input.start_date),
        ));
        faults
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
        let reversed = match (p.from, p.to) {
            (Some(DayOrInstant::Day(from)), Some(DayOrInstant::Day(to))) => from > to,
            (Some(DayOrInstant::Instant(from)), Some(DayOrInstant::Instant(to))) => from > to,
            _ => false,
        };
        if reversed {
            return Err(Error::bad_parameter("to", "must not be before from"));
        }
        if p.include_descendants.is_some() && p.organization_id.is_none() {
            return Err(Error::bad_parameter("include_descendants", "needs organization_id"));
        }
        EventFilter {
            from: p.from.map(when),
            to: p.to.map(when),
            kind: p.kind,
            status: p.status,
            topic: p.topic.as_ref().and_then(Search::term),
            organization_id: p.organization_id.clone(),
            include_descendants: p.include_descendants.unwrap_or(false),
            person_id: p.person_id.clone(),
            parent_event_id: p.parent_event_id.clone(),
            q: p.q.as_ref().and_then(Search::term),
            records: p.records()?,
        }
    }
}

/// A bound of a listing's period as the store compares it.
fn when(bound: DayOrInstant) -> When {
    match bound {
        DayOrInstant::Day(day) => When::Day(day.into()),
        DayOrInstant::Instant(instant) => When::Instant(instant.into()),
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
        let Some(embed) = params.0.embed else {
            return resource::get::<Events>(&pool, viewer, item, if_none_match).await;
        };
        let with_participants = embed.has(EventEmbed::Participants);
        let session_participants = embed.has(EventEmbed::SessionParticipants);
        let with_sessions = session_participants || embed.has(EventEmbed::Sessions);
        let (record, participant_rows, session_rows) = db::run(&pool, move |conn| {
            let id = item.id(conn)?;
            let record = store::find(conn, id)?;
            let sessions = with_sessions
                .then(|| store::sessions(conn, id))
                .transpose()?;
            let mut events = Vec::new();
            if with_participants {
                events.push(id);
            }
            if session_participants {
                events.extend(sessions.iter().flatten().map(|session| session.id));
            }
            let participants = if events.is_empty() {
                Vec::new()
            } else {
                participants::all_of(conn, &events)?
            };
            Ok((record, participants, sessions))
        })
        .await?;
        let mut of_event: HashMap<Uuid, Vec<Participant>> = HashMap::new();
        for row in participant_rows {
            let participant = Participant::from(row);
            of_event.entry(participant.event_id).or_default().push(participant);
        }
        let mut event = Event::try_from(record)?;
        if with_participants {
            event.participants = Some(of_event.remove(&event.id).unwrap_or_default());
        }
        event.sessions = session_rows
            .map(|rows| {
                rows.into_iter()
                    .map(|row| {
                        let mut session = Event::try_from(row)?;
                        if session_participants {
                            session.participants =
                                Some(of_event.remove(&session.id).unwrap_or_default());
                        }
                        Ok(session)
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .transpose()?;
        computed_response(&if_none_match, &event, Vec::new())
    }
}

crate::handlers! {
    /// Events as a [`Resource`].
    pub struct Events: EventInput, EventPatch => Event in store::Events,
    "events" at "/v1/events" for "Event" ("an event", "the event"),
    routes [Read => list from replica],
    own get,
    delete "Deletes an event and its participants (kept as tombstones); refused while live sessions belong to it.",
}
