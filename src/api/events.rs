//! `/v1/events`: the founding seminar, its discussion session, joint
//! meetings of all members, rotating themed activities.

use crate::api::values::Instant;
use crate::store::api_keys::Principal;
use crate::{
    api::{
        common::{self, Identifier, Reference, Source},
        extract::Query,
        pagination::{fetch_page, page_response},
        participants::Participant,
        preconditions::{computed_response, IfNoneMatch},
        problems::{ListErrors, ReadErrors},
        resource::{self, Resource},
        validation::{search_param, Validator, MAX_SEARCH_CHARS},
    },
    db::{self, PgPool},
    error::Error,
    page_type,
    store::{
        events::{
            self as store, EventData, EventFilter, EventKind, EventRecord, EventSort, EventStatus,
        },
        participants,
        refs::{Table, EVENTS},
        VersionCheck,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Most topics an event may have.
const MAX_TOPICS: usize = 50;
/// Longest topic.
const MAX_TOPIC_CHARS: usize = 100;

/// An event of the register.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
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
}))]
pub struct Event {
    /// Server-assigned, time-ordered (UUID v7).
    pub id: Uuid,
    pub title: String,
    pub kind: EventKind,
    pub status: EventStatus,
    pub starts_at: DateTime<Utc>,
    #[schema(required = true)]
    pub ends_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub location: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    /// The event this one is a session of.
    #[schema(required = true)]
    pub parent_event_id: Option<Uuid>,
    pub topics: Vec<String>,
    pub sources: Vec<Source>,
    /// External identifiers, e.g. of district systems.
    pub identifiers: Vec<Identifier>,
    /// Incremented by every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the record was deleted; only tombstones (`include_deleted`,
    /// the change feed) have one.
    #[schema(required = true)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The participants, oldest first; only with `embed=participants`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub participants: Option<Vec<Participant>>,
    /// The sessions (child events), earliest first; only with
    /// `embed=sessions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub sessions: Option<Vec<Event>>,
}

impl TryFrom<EventRecord> for Event {
    type Error = Error;

    fn try_from(r: EventRecord) -> Result<Self, Error> {
        Ok(Self {
            id: r.id,
            title: r.title,
            kind: r.kind,
            status: r.status,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            location: r.location,
            description: r.description,
            parent_event_id: r.parent_event_id,
            topics: r.topics,
            sources: common::from_json(r.sources)?,
            identifiers: common::from_json(r.identifiers)?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            participants: None,
            sessions: None,
        })
    }
}

fn default_kind() -> EventKind {
    EventKind::Other
}

fn default_status() -> EventStatus {
    EventStatus::Planned
}

/// The writable fields of an event, for create (POST) and full replace
/// (PUT). Optional fields left out are empty; `kind` defaults to `other`
/// and `status` to `planned`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Theoretical discussion session",
    "kind": "discussion_session",
    "status": "held",
    "starts_at": "2023-05-23T10:30:00+08:00",
    "parent_event_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95",
    "topics": ["cloud computing", "digital design", "digital sports"]
}))]
pub struct EventInput {
    /// 1–500 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub title: String,
    #[serde(default = "default_kind")]
    #[schema(default = "other")]
    pub kind: EventKind,
    #[serde(default = "default_status")]
    #[schema(default = "planned")]
    pub status: EventStatus,
    /// RFC 3339 with an offset; stored and returned in UTC.
    pub starts_at: Instant,
    /// Not before `starts_at`.
    #[serde(default)]
    pub ends_at: Option<Instant>,
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub location: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub description: Option<String>,
    /// A live event (id or `scheme:value`) this one is a session of; no
    /// cycles.
    #[serde(default)]
    pub parent_event_id: Option<Reference>,
    /// Topics, e.g. "cloud computing"; trimmed, duplicates dropped.
    #[serde(default)]
    #[schema(max_items = 50, inline)]
    pub topics: Vec<Topic>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sources: Vec<Source>,
    /// External identifiers; each (resource, scheme, value) belongs to one
    /// live record.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub identifiers: Vec<Identifier>,
}

/// One topic of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(
    min_length = 1,
    max_length = 100,
    pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
)]
pub struct Topic(pub String);

/// A JSON merge patch (RFC 7396) of an event. (Describes the body in the
/// OpenAPI document; the patched whole is validated as an [`EventInput`].)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "held", "ends_at": "2023-05-23T12:00:00+08:00"}))]
pub struct EventPatch {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub title: Option<String>,
    pub kind: Option<EventKind>,
    pub status: Option<EventStatus>,
    #[schema(nullable = false)]
    pub starts_at: Option<Instant>,
    pub ends_at: Option<Instant>,
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub location: Option<String>,
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub description: Option<String>,
    pub parent_event_id: Option<Reference>,
    #[schema(max_items = 50, inline)]
    pub topics: Option<Vec<Topic>>,
    #[schema(max_items = 100)]
    pub sources: Option<Vec<Source>>,
    #[schema(max_items = 20)]
    pub identifiers: Option<Vec<Identifier>>,
}

page_type!(
    /// One page of events.
    EventPage,
    Event
);

/// Filters and paging of `GET /v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEventsParams {
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
    #[param(
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    topic: Option<String>,
    /// Only events this organization takes part in, in any role, or that
    /// someone takes part in on its behalf.
    organization_id: Option<Uuid>,
    /// Only events this person takes part in, in any role.
    person_id: Option<Uuid>,
    /// Only sessions of this event.
    parent_event_id: Option<Uuid>,
    /// Case-insensitive substring of the title or description.
    #[param(
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    q: Option<String>,
    /// Only events changed at or after this instant (RFC 3339).
    updated_since: Option<Instant>,
    /// Only records carrying this external identifier, as `scheme:value`.
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$")]
    identifier: Option<String>,
    /// Also list deleted records (tombstones, with `deleted_at`).
    include_deleted: Option<bool>,
    /// Order of the listing.
    sort: Option<EventSort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
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

/// Events as a [`Resource`].
pub struct Events;

impl Resource for Events {
    type Scope = ();
    type Record = EventRecord;
    type Input = EventInput;
    type Data = EventData;
    type Output = Event;

    const TABLE: Option<Table> = Some(EVENTS);
    const REFERENCES: &'static [(&'static str, Table)] = &[("parent_event_id", EVENTS)];

    const PARENT_FIELD: Option<&'static str> = Some("parent_event_id");

    fn version(record: &EventRecord) -> i64 {
        record.version
    }

    fn location(record: &EventRecord) -> String {
        format!("/v1/events/{}", record.id)
    }

    fn input_of(record: &EventRecord) -> Result<EventInput, Error> {
        let e = Event::try_from(record.clone())?;
        Ok(EventInput {
            title: e.title,
            kind: e.kind,
            status: e.status,
            starts_at: Instant(e.starts_at),
            ends_at: e.ends_at.map(Instant),
            location: e.location,
            description: e.description,
            parent_event_id: e.parent_event_id.map(Reference::from),
            topics: e.topics.into_iter().map(Topic).collect(),
            sources: e.sources,
            identifiers: e.identifiers,
        })
    }

    fn validate((): (), input: EventInput) -> Result<EventData, Error> {
        let mut v = Validator::default();
        let title = v.text("title", &input.title, common::MAX_NAME_CHARS);
        v.not_before("ends_at", input.ends_at, "starts_at", Some(input.starts_at));
        let location = v.optional_text(
            "location",
            input.location.as_deref(),
            common::MAX_NAME_CHARS,
        );
        let description = v.optional_text(
            "description",
            input.description.as_deref(),
            common::MAX_DESCRIPTION_CHARS,
        );
        v.max_items("topics", input.topics.len(), MAX_TOPICS);
        let mut topics: Vec<String> = Vec::new();
        for (i, Topic(topic)) in input.topics.iter().enumerate() {
            let topic = v.text(&format!("topics[{i}]"), topic, MAX_TOPIC_CHARS);
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        let sources = common::sources(&mut v, "sources", &input.sources);
        let identifiers = common::identifiers(&mut v, "identifiers", &input.identifiers);
        v.finish()?;
        Ok(EventData {
            title,
            kind: input.kind,
            status: input.status,
            starts_at: input.starts_at.into(),
            ends_at: input.ends_at.map(Into::into),
            location,
            description,
            parent_event_id: input
                .parent_event_id
                .as_ref()
                .map(Reference::id)
                .transpose()?,
            topics,
            sources: common::to_json(sources)?,
            identifiers: common::to_json(identifiers)?,
        })
    }

    fn reparents(input: &EventInput) -> bool {
        input.parent_event_id.is_some()
    }

    fn present(record: EventRecord, _viewer: &Principal) -> Result<Event, Error> {
        Event::try_from(record)
    }

    fn find(conn: &mut PgConnection, (): (), id: Uuid) -> Result<EventRecord, Error> {
        store::find(conn, id)
    }

    fn create(conn: &mut PgConnection, data: &EventData) -> Result<EventRecord, Error> {
        store::create(conn, data)
    }

    fn update(
        conn: &mut PgConnection,
        (): (),
        id: Uuid,
        check: &VersionCheck,
        may_reparent: bool,
        change: impl FnOnce(&EventRecord) -> Result<EventData, Error>,
    ) -> Result<EventRecord, Error> {
        store::update(conn, id, check, may_reparent, change)
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

/// Lists events.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    operation_id = "listEvents",
    params(ListEventsParams, IfNoneMatch),
    responses(
        (status = 200, description = "One page of live events", body = EventPage,
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
    params: Query<ListEventsParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let p = params.0;
    if let (Some(from), Some(to)) = (p.from, p.to) {
        if from > to {
            return Err(Error::bad_parameter("to", "must not be before from"));
        }
    }
    let filter = EventFilter {
        from: p.from.map(Into::into),
        to: p.to.map(Into::into),
        kind: p.kind,
        status: p.status,
        topic: search_param("topic", p.topic, MAX_TOPIC_CHARS)?,
        organization_id: p.organization_id,
        person_id: p.person_id,
        parent_event_id: p.parent_event_id,
        q: search_param("q", p.q, MAX_SEARCH_CHARS)?,
        updated_since: p.updated_since.map(Into::into),
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
        Event::try_from,
    )
    .await?;
    let page = EventPage { items, next_cursor };
    page_response(&req, &if_none_match, &page, page.next_cursor.as_deref())
}

/// Gets an event, optionally with its participants and sessions embedded.
#[utoipa::path(
    get,
    path = "/v1/events/{id}",
    tag = "events",
    operation_id = "getEvent",
    params(("id" = Uuid, Path, description = "Event id"), GetEventParams, IfNoneMatch),
    responses(
        (status = 200, description = "The event", body = Event,
            headers(("ETag" = String, description = "Entity tag: the version, or a weak tag of the whole response when something is embedded"))),
        (status = 304, description = "The client's copy (If-None-Match) is current",
            headers(("ETag" = String, description = "Entity tag of this version"))),
        ReadErrors,
    )
)]
pub async fn get(
    pool: web::Data<PgPool>,
    viewer: Principal,
    id: web::Path<Uuid>,
    params: Query<GetEventParams>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let id = *id;
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
        return resource::get::<Events>(&pool, viewer, (), id, if_none_match).await;
    }
    let (record, participant_rows, session_rows) = db::run(&pool, move |conn| {
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

crate::standard_handlers!(
    resource = Events,
    input = EventInput,
    patch = EventPatch,
    output = Event,
    tag = "events",
    collection = "/v1/events",
    item = "/v1/events/{id}",
    by_identifier = "/v1/events/by-identifier/{scheme}/{value}",
    operation_ids = [
        "createEvent",
        "replaceEvent",
        "updateEvent",
        "deleteEvent",
        "upsertEventByIdentifier"
    ],
    summaries = [
        "Creates an event.",
        "Replaces an event (every writable field; omitted optional fields are cleared).",
        "Changes some fields of an event (JSON merge patch).",
        "Deletes an event and its participants (kept as tombstones); refused while live sessions belong to it.",
        "Creates or replaces the event carrying an external identifier."
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
