//! Events the alliance runs: seminars, their sessions (child events through
//! `parent_event_id`), joint meetings, themed activities.

use crate::db::schema::event_participants;
use crate::db::schema::events::{self, dsl};
use crate::domain::Reference;
use crate::error::Error;
use crate::store::crud::Rules;
use crate::store::organizations;
use crate::store::refs::{RefColumn, Tree, EVENTS, ORGANIZATIONS, PEOPLE};
use crate::store::rows::{list_filter, listing, live_rows, referring, resolved, Rows};
use crate::store::sort::{keyset_page, After, Keyset, Plan, SortKey, SortOrder, SortValue};
use crate::store::sql::containing;
use crate::store::text::{text_enum, text_values};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{now, sql};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

/// The event tree, through `parent_event_id`.
const TREE: Tree = Tree {
    parent: RefColumn::new("parent_event_id", EVENTS),
    lock_key: 0x6576_745f_7472_6565,
};

text_enum! {
    /// What kind of event.
    pub enum EventKind {
        /// A seminar, e.g. the founding seminar of the alliance.
        Seminar => "seminar",
        /// A joint meeting of all members.
        JointMeeting => "joint_meeting",
        /// A rotating themed activity.
        ThemedActivity => "themed_activity",
        /// A discussion session, usually inside a seminar.
        DiscussionSession => "discussion_session",
        /// Any other meeting.
        Meeting => "meeting",
        /// Anything else.
        Other => "other",
    }
}

impl EventStatus {
    /// The statuses of events that may be undated.
    pub const UNDATED: [Self; 2] = [Self::Planned, Self::Recurring];
}

text_enum! {
    /// Where an event stands.
    pub enum EventStatus {
        Planned => "planned",
        /// Held again and again, e.g. rotating themed activities; may be
        /// undated, with its `recurrence` in words.
        Recurring => "recurring",
        Held => "held",
        Cancelled => "cancelled",
        Postponed => "postponed",
    }
}

live_rows! {
    /// The events table.
    pub struct Events for events as EVENTS;

    /// An event row, tombstones included.
    pub struct EventRecord {
        /// When the event begins: its start instant, or the start of its
        /// first day in its time zone; [`UNDATED`] when it has no date. The
        /// order of listings by start (the journal leaves it out).
        #[serde(default = "undated")]
        pub begins_at: DateTime<Utc>,
    }

    /// The writable content of an event, already validated.
    pub struct EventData {
        pub title: String,
        pub kind: EventKind,
        pub status: EventStatus,
        /// The start of a timed event.
        pub starts_at: Option<DateTime<Utc>>,
        /// The end of a timed event.
        pub ends_at: Option<DateTime<Utc>>,
        /// The first day of an all-day event, in `timezone`.
        pub start_date: Option<NaiveDate>,
        /// The last day of an all-day event, in `timezone`.
        pub end_date: Option<NaiveDate>,
        /// The IANA time zone the event takes place in (absent from journal
        /// entries written before events had one: those are UTC).
        #[serde(default = "utc")]
        pub timezone: String,
        /// How an undated (planned or recurring) event recurs, in words.
        pub recurrence: Option<String>,
        pub location: Option<String>,
        pub description: Option<String>,
        pub parent_event_id: Option<Uuid>,
        pub topics: Vec<String>,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
        /// JSON array of `{url, note?}` (absent from journal entries written
        /// before links were kept).
        #[serde(default = "crate::store::rows::empty_list")]
        pub links: Value,
    }

    identified by identifiers;
}

/// Where undated events stand in the order by start: after every dated
/// one (the last instant of the register's domain; the migration
/// `popolo_fields` derives `begins_at` with the same value).
pub const UNDATED: &str = "9999-12-31T23:59:59.999999Z";

/// [`UNDATED`] as an instant.
fn undated() -> DateTime<Utc> {
    UNDATED.parse().expect("a valid instant")
}

/// The time zone of events recorded before events had one.
fn utc() -> String {
    "UTC".to_owned()
}

/// Events form a tree of sessions; an event is not deleted while live
/// sessions belong to it, and takes its participants along.
impl Rules for Events {
    const TREE: Option<Tree> = Some(TREE);
    const DEPENDENTS: Option<&'static str> = Some(
        "SELECT 'event' AS entity_type, id, title AS name FROM events \
           WHERE parent_event_id = $1 AND deleted_at IS NULL",
    );

    fn parent(data: &EventData) -> Option<Uuid> {
        data.parent_event_id
    }

    /// Soft-deletes the participants of event `id`.
    fn on_delete(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
        diesel::update(
            event_participants::table
                .filter(event_participants::event_id.eq(id))
                .filter(event_participants::deleted_at.is_null()),
        )
        .set((
            event_participants::deleted_at.eq(now),
            event_participants::version.eq(event_participants::version + 1),
            event_participants::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(())
    }
}

/// The live event `id`, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<EventRecord, Error> {
    Events::find_live(conn, id)
}

text_values! {
    /// Orders of an event listing; ties are broken by id.
    #[derive(Default)]
    pub enum EventSort {
        /// Earliest start first (the default).
        #[default]
        StartsAt => "starts_at",
        /// Latest start first.
        StartsAtDesc => "-starts_at",
        /// Oldest record first.
        CreatedAt => "created_at",
        /// Newest record first.
        CreatedAtDesc => "-created_at",
    }
}

impl SortOrder for EventSort {
    fn accepts(self, value: &SortValue) -> bool {
        matches!(value, SortValue::Time(_))
    }

    /// By start is by `begins_at`: timed and all-day events in one order,
    /// undated ones last.
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::StartsAt => ("begins_at", false),
            Self::StartsAtDesc => ("begins_at", true),
            Self::CreatedAt => ("created_at", false),
            Self::CreatedAtDesc => ("created_at", true),
        }
    }
}

impl SortKey<EventRecord> for EventSort {
    fn key(self, record: &EventRecord) -> After {
        let time = match self {
            Self::StartsAt | Self::StartsAtDesc => record.begins_at,
            Self::CreatedAt | Self::CreatedAtDesc => record.created_at,
        };
        After {
            value: SortValue::Time(time),
            id: record.id,
        }
    }
}

/// Locks live event `id` against deletion until the transaction ends, or 404.
pub fn lock_shared(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    dsl::events
        .find(id)
        .filter(dsl::deleted_at.is_null())
        .select(dsl::id)
        .for_share()
        .first::<Uuid>(conn)
        .optional()?
        .map(|_| ())
        .ok_or_else(|| Error::not_found("event", id))
}

/// A bound of an event listing's period: an instant, compared with the
/// instants events span (all-day events span their days in their time
/// zone), or a day, compared with the local days events span (each in its
/// own time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct EventFilter {
        /// Only dated events not over before this instant or local day.
        pub from: Option<When>,
        /// Only dated events begun by this instant or local day.
        pub to: Option<When>,
        pub kind: Option<EventKind>,
        pub status: Option<EventStatus>,
        /// Only events with this topic (exact).
        pub topic: Option<String>,
        /// Only events this organization takes part in (or someone on its behalf).
        pub organization_id: Option<Reference>,
        /// Whether the organizations below `organization_id` count as it.
        pub include_descendants: bool,
        /// Only events this person takes part in.
        pub person_id: Option<Reference>,
        pub parent_event_id: Option<Reference>,
        /// Case-insensitive substring of the title or description.
        pub q: Option<String>,
    }
}

/// One keyset page of live events.
pub fn list(
    conn: &mut PgConnection,
    filter: &EventFilter,
    page: Keyset<EventSort>,
) -> Result<Vec<EventRecord>, Error> {
    let mut query = listing!(events, EventRecord, filter, equal [kind, status]);
    referring!(conn, query, events, filter, [parent_event_id => EVENTS]);
    match filter.from {
        Some(When::Instant(from)) => query = query.filter(dsl::finishes_at.ge(from)),
        Some(When::Day(from)) => query = query.filter(dsl::last_day.ge(from)),
        None => {}
    }
    match filter.to {
        Some(When::Instant(to)) => {
            query = query.filter(dsl::begins_at.le(to).and(dsl::finishes_at.is_not_null()));
        }
        Some(When::Day(to)) => query = query.filter(dsl::first_day.le(to)),
        None => {}
    }
    if let Some(topic) = &filter.topic {
        query = query.filter(dsl::topics.contains(vec![topic.clone()]));
    }
    if let Some(organization) = resolved!(conn, ORGANIZATIONS, filter, organization_id) {
        let ids = organizations::and_below(conn, organization, filter.include_descendants)?;
        query = query.filter(
            sql::<Bool>(
                "EXISTS (SELECT 1 FROM event_participants p WHERE p.event_id = events.id \
                 AND p.deleted_at IS NULL AND (p.organization_id = ANY(",
            )
            .bind::<Array<SqlUuid>, _>(ids.clone())
            .sql(") OR p.on_behalf_of_id = ANY(")
            .bind::<Array<SqlUuid>, _>(ids)
            .sql(")))"),
        );
    }
    if let Some(person) = resolved!(conn, PEOPLE, filter, person_id) {
        query = query.filter(
            sql::<Bool>(
                "EXISTS (SELECT 1 FROM event_participants p WHERE p.event_id = events.id \
                 AND p.deleted_at IS NULL AND p.person_id = ",
            )
            .bind::<SqlUuid, _>(person)
            .sql(")"),
        );
    }
    if let Some(q) = &filter.q {
        query = query.filter(dsl::search_text.ilike(containing(q)));
    }
    keyset_page(
        conn,
        query,
        "events",
        page,
        Plan::searching(filter.q.is_some()),
    )
}

/// The live sessions (child events) of event `id`, earliest first (undated
/// ones last).
pub fn sessions(conn: &mut PgConnection, id: Uuid) -> Result<Vec<EventRecord>, Error> {
    Ok(dsl::events
        .filter(dsl::parent_event_id.eq(id))
        .filter(dsl::deleted_at.is_null())
        .select(EventRecord::as_select())
        .order((dsl::begins_at.asc(), dsl::id.asc()))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_journaled_before_time_zones_links_and_spans_reads_with_their_defaults() {
        let stored = json!({
            "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a80",
            "title": "Founding seminar",
            "kind": "meeting",
            "status": "planned",
            "starts_at": null,
            "ends_at": null,
            "start_date": null,
            "end_date": null,
            "recurrence": null,
            "location": null,
            "description": null,
            "parent_event_id": null,
            "topics": [],
            "sources": [],
            "identifiers": [],
            "version": 3,
            "created_at": "2023-05-23T01:00:00Z",
            "updated_at": "2023-05-23T02:00:00Z",
            "an_unknown_member": true
        });
        let record: EventRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(record.data.title, "Founding seminar");
        assert_eq!(record.data.timezone, "UTC");
        assert_eq!(record.data.links, json!([]));
        assert_eq!(record.begins_at, undated());
        assert_eq!(record.deleted_at, None);
        assert_eq!(record.version, 3);
    }
}
