//! Event participants: who took part in an event (a person or an
//! organization), in which capacity, and on whose behalf.

use crate::db::schema::event_participants::{self, dsl};
use crate::error::{ConflictingRecord, Error};
use crate::store::crud::Crud;
use crate::store::events;
use crate::store::identifiers::{self, Identified};
use crate::store::refs::{self, RefColumn, Table, ORGANIZATIONS, PARTICIPANTS, PEOPLE};
use crate::store::rows::{live_rows, Rows, VersionCheck};
use crate::store::sort::{keyset_page, Created, CreatedSort, Keyset, Plan};
use crate::store::text::text_enum;
use chrono::{DateTime, Utc};
use diesel::dsl::{sql, AsSelect};
use diesel::expression::SqlLiteral;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde_json::Value;
use uuid::Uuid;

text_enum! {
    /// In which capacity a member takes part in an event.
    pub enum ParticipantRole {
        Organizer => "organizer",
        Host => "host",
        Speaker => "speaker",
        Attendee => "attendee",
        /// Gives comments, e.g. the experts commenting on a discussion.
        Commenter => "commenter",
    }
}

live_rows! {
    /// The participants of events.
    pub struct Participants for event_participants as PARTICIPANTS;

    /// A participant row, tombstones included.
    pub struct ParticipantRecord {}

    /// The writable content of a participant, already validated (exactly one
    /// member).
    pub struct ParticipantData {
        pub event_id: Uuid,
        pub person_id: Option<Uuid>,
        pub organization_id: Option<Uuid>,
        pub role: ParticipantRole,
        pub on_behalf_of_id: Option<Uuid>,
        pub note: Option<String>,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
        /// JSON array of `{url, note?}` (absent from journal entries written
        /// before links were kept).
        #[serde(default = "crate::store::rows::empty_list")]
        pub links: Value,
    }

    identified by identifiers;
}

/// The person taking part, if a person does.
const PERSON: RefColumn = RefColumn::new("person_id", PEOPLE);
/// The organization taking part, if an organization does.
const ORGANIZATION: RefColumn = RefColumn::new("organization_id", ORGANIZATIONS);
/// The organization a participant takes part on behalf of, if any.
const ON_BEHALF_OF: RefColumn = RefColumn::new("on_behalf_of_id", ORGANIZATIONS);

/// A participant with the names of the records it refers to.
#[derive(Debug, Clone)]
pub struct ParticipantRow {
    pub record: ParticipantRecord,
    pub person_name: Option<String>,
    pub organization_name: Option<String>,
    pub on_behalf_of_name: Option<String>,
}

impl Created for ParticipantRow {
    fn id(&self) -> Uuid {
        self.record.id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
}

type Named = (
    ParticipantRecord,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl From<Named> for ParticipantRow {
    fn from((record, person_name, organization_name, on_behalf_of_name): Named) -> Self {
        Self {
            record,
            person_name,
            organization_name,
            on_behalf_of_name,
        }
    }
}

type NameColumn = SqlLiteral<Nullable<Text>>;

/// What a participant row is read from: the record and the names of the
/// person, organization and on-behalf-of organization it refers to —
/// scalar subqueries by primary key, evaluated inside the one query that
/// selects the participants.
fn with_names() -> (
    AsSelect<ParticipantRecord, Pg>,
    NameColumn,
    NameColumn,
    NameColumn,
) {
    (
        ParticipantRecord::as_select(),
        sql("(SELECT name FROM people WHERE people.id = event_participants.person_id)"),
        sql("(SELECT name FROM organizations \
              WHERE organizations.id = event_participants.organization_id)"),
        sql("(SELECT name FROM organizations \
              WHERE organizations.id = event_participants.on_behalf_of_id)"),
    )
}

/// The live participant `id` of event `event`, or 404.
pub fn find_in(conn: &mut PgConnection, event: Uuid, id: Uuid) -> Result<ParticipantRow, Error> {
    dsl::event_participants
        .filter(dsl::id.eq(id))
        .filter(dsl::event_id.eq(event))
        .filter(dsl::deleted_at.is_null())
        .select(with_names())
        .first::<Named>(conn)
        .optional()?
        .map(ParticipantRow::from)
        .ok_or_else(|| Error::not_found(PARTICIPANTS.entity, id))
}

/// Checks `data`, the new content of participant `id` (none when new) that
/// held `before`: its event must be live (else 404), changed references
/// must name live records, and a changed member or role must not repeat one
/// the event already has (409).
fn check(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    data: &ParticipantData,
    before: Option<&ParticipantData>,
) -> Result<(), Error> {
    events::lock_shared(conn, data.event_id)?;
    refs::require_live_changed(
        conn,
        data,
        before,
        &[
            (PERSON, |p| p.person_id),
            (ORGANIZATION, |p| p.organization_id),
            (ON_BEHALF_OF, |p| p.on_behalf_of_id),
        ],
    )?;
    let same_seat = before.is_some_and(|r| {
        (r.person_id, r.organization_id, r.role)
            == (data.person_id, data.organization_id, data.role)
    });
    if same_seat {
        return Ok(());
    }
    let mut same = dsl::event_participants
        .filter(dsl::event_id.eq(data.event_id))
        .filter(dsl::role.eq(data.role))
        .filter(dsl::deleted_at.is_null())
        .into_boxed();
    same = match (data.person_id, data.organization_id) {
        (Some(person), _) => same.filter(dsl::person_id.eq(person)),
        (None, Some(organization)) => same.filter(dsl::organization_id.eq(organization)),
        (None, None) => return Err(Error::internal("participant without a member")),
    };
    if let Some(id) = id {
        same = same.filter(dsl::id.ne(id));
    }
    if let Some(existing) = same.select(dsl::id).first::<Uuid>(conn).optional()? {
        return Err(Error::Conflict {
            detail: format!(
                "this member already takes part in event {} as {}",
                data.event_id, data.role
            ),
            conflicts: vec![ConflictingRecord {
                entity_type: "participant".into(),
                id: existing,
                name: data.role.to_string(),
            }],
        });
    }
    Ok(())
}

/// Participants are scoped by their event; they are read with the names
/// of the records they refer to.
impl Crud for Participants {
    type Scope = Uuid;
    type Record = ParticipantRow;
    type Data = ParticipantData;
    const IDENTIFIED: Option<Table> = Some(PARTICIPANTS);

    fn id(row: &ParticipantRow) -> Uuid {
        row.record.id
    }

    fn version(row: &ParticipantRow) -> i64 {
        row.record.version
    }

    fn data(row: &ParticipantRow) -> ParticipantData {
        row.record.data.clone()
    }

    fn find(conn: &mut PgConnection, event: Uuid, id: Uuid) -> Result<ParticipantRow, Error> {
        find_in(conn, event, id)
    }

    fn create(conn: &mut PgConnection, data: &ParticipantData) -> Result<ParticipantRow, Error> {
        check(conn, None, data, None)?;
        identifiers::check_free(conn, PARTICIPANTS, data.identifiers(), None)?;
        let record = Self::insert(conn, data)?;
        find_in(conn, record.data.event_id, record.id)
    }

    /// A participant has no tree: `may_move` is moot. `change` sees the
    /// locked record with the names read just before in the transaction.
    fn update(
        conn: &mut PgConnection,
        event: Uuid,
        id: Uuid,
        version_check: &VersionCheck,
        _may_move: bool,
        change: impl FnOnce(&mut PgConnection, &ParticipantRow) -> Result<ParticipantData, Error>,
    ) -> Result<ParticipantRow, Error> {
        let row = find_in(conn, event, id)?;
        Self::update_live(
            conn,
            id,
            version_check,
            |conn, record| {
                change(
                    conn,
                    &ParticipantRow {
                        record: record.clone(),
                        ..row
                    },
                )
            },
            |conn, before, data| {
                check(conn, Some(id), data, Some(before))?;
                if data.identifiers() != before.identifiers() {
                    identifiers::check_free(conn, PARTICIPANTS, data.identifiers(), Some(id))?;
                }
                Ok(())
            },
        )?;
        find_in(conn, event, id)
    }

    fn delete(
        conn: &mut PgConnection,
        event: Uuid,
        id: Uuid,
        version_check: &VersionCheck,
    ) -> Result<(), Error> {
        let current = Self::lock_live(conn, id)?;
        if current.data.event_id != event {
            return Err(Error::not_found(PARTICIPANTS.entity, id));
        }
        version_check.verify(current.version)?;
        Self::mark_deleted(conn, id)
    }
}

/// Participant list filters; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct ParticipantFilter {
    pub role: Option<ParticipantRole>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Also list removed participants (tombstones).
    pub include_deleted: bool,
}

/// One keyset page of the participants of event `event`, oldest first.
pub fn list(
    conn: &mut PgConnection,
    event: Uuid,
    filter: &ParticipantFilter,
    page: Keyset<CreatedSort>,
) -> Result<Vec<ParticipantRow>, Error> {
    let mut query = dsl::event_participants
        .filter(dsl::event_id.eq(event))
        .select(with_names())
        .into_boxed();
    if !filter.include_deleted {
        query = query.filter(dsl::deleted_at.is_null());
    }
    if let Some(role) = filter.role {
        query = query.filter(dsl::role.eq(role));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(dsl::updated_at.ge(since));
    }
    let rows: Vec<Named> = keyset_page(conn, query, "event_participants", page, Plan::Prepared)?;
    Ok(rows.into_iter().map(ParticipantRow::from).collect())
}

/// One keyset page of the live participants of every event.
pub fn all(
    conn: &mut PgConnection,
    page: Keyset<CreatedSort>,
) -> Result<Vec<ParticipantRow>, Error> {
    let query = dsl::event_participants
        .filter(dsl::deleted_at.is_null())
        .select(with_names())
        .into_boxed();
    let rows: Vec<Named> = keyset_page(conn, query, "event_participants", page, Plan::Prepared)?;
    Ok(rows.into_iter().map(ParticipantRow::from).collect())
}

/// Every live participant of the events `events` (for embedding), oldest
/// first, in one query.
pub fn all_of(conn: &mut PgConnection, events: &[Uuid]) -> Result<Vec<ParticipantRow>, Error> {
    let rows: Vec<Named> = dsl::event_participants
        .filter(dsl::event_id.eq_any(events))
        .filter(dsl::deleted_at.is_null())
        .select(with_names())
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .load(conn)?;
    Ok(rows.into_iter().map(ParticipantRow::from).collect())
}

/// The current names of the given people and organizations (for
/// participants presented from the journal), in a query for each kind
/// asked for.
pub fn names_of(
    conn: &mut PgConnection,
    people: &[Uuid],
    organizations: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, Error> {
    use crate::db::schema::{organizations as o, people as p};
    let mut names = std::collections::HashMap::new();
    if !people.is_empty() {
        names.extend(
            p::table
                .filter(p::id.eq_any(people))
                .select((p::id, p::name))
                .load::<(Uuid, String)>(conn)?,
        );
    }
    if !organizations.is_empty() {
        names.extend(
            o::table
                .filter(o::id.eq_any(organizations))
                .select((o::id, o::name))
                .load::<(Uuid, String)>(conn)?,
        );
    }
    Ok(names)
}
