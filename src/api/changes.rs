//! `GET /v1/changes`: the change feed for syncing systems. Every committed
//! change of the register exactly once; deletions as tombstones.
//!
//! Order: by feed key, then journal sequence (see `store::journal` and the
//! migration `feed_without_lock`). A change of a record comes after the
//! change it followed, and a record after the records it referred to as
//! of its writing; changes of unrelated transactions are not strictly in
//! commit order. Writers take no lock for it and commit in parallel.
//!
//! How it never misses a change: a page holds only settled changes, those
//! whose feed key is below the `xmin` of the reading statement's snapshot,
//! a part of the feed that no transaction can add to any more. So the
//! feed's head waits for the oldest writing transaction in flight in the
//! whole PostgreSQL cluster (in any database; read-only transactions hold
//! nothing back).
//!
//! Read your writes: a change committed before the request may not be
//! settled yet, while a transaction that began writing before it is still
//! open. When a page is not full and committed changes lie beyond it, the
//! request gives its connection back, sleeps (2 ms, doubling up to 50 ms)
//! and reads again, until the page reaches the last of them or
//! `FEED_SETTLE_WAIT_MS` has passed; then it answers with what is settled,
//! and the rest comes in a later page.

use crate::api::areas::Area;
use crate::api::audit::AuditOperation;
use crate::api::common::CommaSet;
use crate::api::cursor::{CursorKey, CursorText, Signer};
use crate::api::events::Event;
use crate::api::extract::Query;
use crate::api::organizations::Organization;
use crate::api::participants::Participant;
use crate::api::people::Person;
use crate::api::posts::Post;
use crate::api::roles::Role;
use crate::db::{self, PgPool};
use crate::error::Error;
use crate::store::api_keys::{Principal, Scope};
use crate::store::areas::AreaRecord;
use crate::store::events::EventRecord;
use crate::store::journal::{self, FeedPosition, FeedRow};
use crate::store::organizations::OrganizationRecord;
use crate::store::participants::{self, ParticipantRecord, ParticipantRow};
use crate::store::people::PersonRecord;
use crate::store::posts::PostRecord;
use crate::store::roles::RoleRecord;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Settings of the feed; put in the app data.
#[derive(Debug, Clone, Copy)]
pub struct FeedSettings {
    /// How long a cursor stays valid.
    pub retention: Duration,
    /// Longest a request waits for changes committed before it to settle.
    pub settle_wait: std::time::Duration,
}

/// The first pause of a request waiting for changes to settle; each next
/// one is twice as long, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);
const LONGEST_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

crate::store::text::text_values! {
    /// Kinds of records in the feed.
    pub enum FeedEntityType {
        Organization => "organization",
        Person => "person",
        Role => "role",
        Event => "event",
        Participant => "participant",
        Area => "area",
        Post => "post",
    }
}

/// Defines [`ChangeData`], a record of any of the feed's types, and its
/// schema: `anyOf` the types' representations, not the derived `oneOf`,
/// since records of two types may have the same shape (an organization
/// has every member an area has); the change's `entity_type` says which.
macro_rules! change_data {
    ($($Type:ident),+ $(,)?) => {
        /// A record as a GET returned it after the change.
        #[derive(Debug, Serialize)]
        #[serde(untagged)]
        pub enum ChangeData {
            $($Type($Type),)+
        }

        impl utoipa::PartialSchema for ChangeData {
            fn schema() -> RefOr<Schema> {
                AnyOfBuilder::new()
                    $(.item(Ref::from_schema_name(stringify!($Type))))+
                    .description(Some(
                        "A record as a GET returned it after the change, of the type `entity_type` names.",
                    ))
                    .into()
            }
        }

        impl ToSchema for ChangeData {
            fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
                $(
                    out.push((stringify!($Type).to_owned(), <$Type as utoipa::PartialSchema>::schema()));
                    <$Type as ToSchema>::schemas(out);
                )+
            }
        }
    };
}

change_data!(Organization, Person, Role, Event, Participant, Area, Post);

/// One committed change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    pub entity_type: FeedEntityType,
    pub entity_id: Uuid,
    pub op: AuditOperation,
    /// The record's version after the change.
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    /// The record after the change, as a GET returned it then (personal
    /// data only with the `pii` scope; participants with the current names
    /// of the records they refer to); `null` for deletions.
    #[schema(required = true)]
    pub data: Option<ChangeData>,
    /// Present only when the stored change could not be rendered (e.g. a
    /// row written outside the API): `data` is then `null`, and the record
    /// can be read through its resource. The feed moves on past it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// Changes in feed order: each change of a record after the one it
    /// followed, and each record after the records it referred to.
    pub items: Vec<Change>,
    /// Where to continue: always present, also on an empty page, so a
    /// consumer can keep polling with it.
    pub next_cursor: String,
}

/// Paging and filters of `GET /v1/changes`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// `next_cursor` of the previous page; without it (or empty), the feed
    /// starts at the first change. A cursor this server did not issue is a
    /// 400.
    #[param(inline)]
    cursor: Option<CursorText>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Comma-separated kinds of records (default: all):
    /// organization, person, role, event, participant, area, post.
    #[param(inline)]
    types: Option<FeedTypes>,
}

/// The kinds of records a feed request asks for.
type FeedTypes = CommaSet<FeedEntityType>;

/// The same shape since before the migration `feed_without_lock`: `c` held
/// a commit sequence number then, which that migration made the row's feed
/// key, so cursors issued before it continue where they were.
#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Position: feed key and journal sequence of the last change.
    c: i64,
    s: i64,
    /// When the cursor was issued.
    t: DateTime<Utc>,
}

fn encode(signer: &Signer, position: FeedPosition) -> String {
    let cursor = Cursor {
        c: position.key,
        s: position.seq,
        t: Utc::now(),
    };
    signer.seal(&serde_json::to_vec(&cursor).unwrap_or_default())
}

/// The position of a cursor this server sealed (400 otherwise; the issue
/// time inside is the server's own, so it cannot be moved forward), or 410
/// once it is older than the feed's retention.
fn decode(signer: &Signer, text: &str, retention: Duration) -> Result<FeedPosition, Error> {
    let cursor: Cursor = signer
        .open(text)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            Error::bad_parameter("cursor", "not a cursor of this feed; use next_cursor")
        })?;
    if cursor.t < Utc::now() - retention {
        return Err(Error::Gone(format!(
            "the cursor is older than the feed's retention ({} hours): resync — read the \
             current records through the lists, then follow the feed from a new cursor",
            retention.num_hours()
        )));
    }
    Ok(FeedPosition {
        key: cursor.c,
        seq: cursor.s,
    })
}

/// The record a journal row holds after its change, read from its JSON.
enum StoredRecord {
    Organization(OrganizationRecord),
    Person(PersonRecord),
    Role(RoleRecord),
    Event(EventRecord),
    Participant(ParticipantRecord),
    Area(AreaRecord),
    Post(PostRecord),
}

impl StoredRecord {
    fn read(entity_type: FeedEntityType, json: &str) -> Result<Self, serde_json::Error> {
        use serde_json::from_str;
        Ok(match entity_type {
            FeedEntityType::Organization => Self::Organization(from_str(json)?),
            FeedEntityType::Person => Self::Person(from_str(json)?),
            FeedEntityType::Role => Self::Role(from_str(json)?),
            FeedEntityType::Event => Self::Event(from_str(json)?),
            FeedEntityType::Participant => Self::Participant(from_str(json)?),
            FeedEntityType::Area => Self::Area(from_str(json)?),
            FeedEntityType::Post => Self::Post(from_str(json)?),
        })
    }
}

/// A journal row of a page, with the record it holds read.
struct StoredChange {
    row: FeedRow,
    entity_type: FeedEntityType,
    /// The record after the change (`None` for a deletion), or why it
    /// cannot be read.
    record: Option<Result<StoredRecord, serde_json::Error>>,
}

/// The settled changes of one read of the feed.
struct StoredPage {
    changes: Vec<StoredChange>,
    /// The current names of the records the page's participants refer to.
    names: HashMap<Uuid, String>,
}

impl StoredPage {
    fn is_full(&self, limit: i64) -> bool {
        self.changes.len() as i64 >= limit
    }

    /// Whether this page reaches feed key `key`: it is full, or it holds a
    /// change at or past `key` (so every change up to `key` is settled, and,
    /// the page not being full, in it).
    fn reaches(&self, key: i64, limit: i64) -> bool {
        self.is_full(limit)
            || self
                .changes
                .last()
                .is_some_and(|change| change.row.feed_key >= key)
    }

    /// The position after the page's last change (`start` when empty).
    fn end(&self, start: FeedPosition) -> FeedPosition {
        self.changes
            .last()
            .map_or(start, |change| change.row.position())
    }
}

/// Up to `limit` settled changes after `start` of the given types, their
/// records read, with the names participants refer to.
fn read_page(
    conn: &mut PgConnection,
    start: FeedPosition,
    types: &[FeedEntityType],
    without_private: bool,
    limit: i64,
) -> Result<StoredPage, Error> {
    let type_names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let changes: Vec<StoredChange> =
        journal::feed(conn, start, &type_names, without_private, limit)?
            .into_iter()
            .map(|row| {
                let entity_type = FeedEntityType::ALL
                    .iter()
                    .copied()
                    .find(|t| t.as_str() == row.entity_type)
                    .unwrap_or(FeedEntityType::Organization);
                let record = row
                    .after
                    .as_deref()
                    .map(|json| StoredRecord::read(entity_type, json));
                StoredChange {
                    row,
                    entity_type,
                    record,
                }
            })
            .collect();
    let (mut people, mut organizations) = (Vec::new(), Vec::new());
    for change in &changes {
        if let Some(Ok(StoredRecord::Participant(participant))) = &change.record {
            let data = &participant.data;
            people.extend(data.person_id);
            organizations.extend(data.organization_id);
            organizations.extend(data.on_behalf_of_id);
        }
    }
    let names = participants::names_of(conn, &people, &organizations)?;
    Ok(StoredPage { changes, names })
}

/// The version of a person after a change as keys without `pii` see it
/// (see `PersonRecord::public_version`): from the record after, or one
/// past the one before for a deletion.
fn public_version(change: &StoredChange) -> Option<i64> {
    /// What a stored person that cannot be read whole may still tell.
    #[derive(Deserialize)]
    struct Versioned {
        public_version: i64,
    }
    match &change.record {
        Some(Ok(StoredRecord::Person(person))) => Some(person.public_version),
        Some(_) => serde_json::from_str::<Versioned>(change.row.after.as_deref()?)
            .ok()
            .map(|versioned| versioned.public_version),
        None => change
            .row
            .public_version_before
            .as_deref()?
            .parse::<i64>()
            .ok()?
            .checked_add(1),
    }
}

/// The entry of the feed for `change`, as `viewer` may see it. A change
/// whose record cannot be rendered is delivered with `data: null` and a
/// `problem`, never as an error: one bad row must not stall a consumer.
fn present(
    change: StoredChange,
    viewer: &Principal,
    names: &HashMap<Uuid, String>,
    request_id: &str,
) -> Change {
    let op = match change.row.op.as_str() {
        "created" => AuditOperation::Created,
        "updated" => AuditOperation::Updated,
        _ => AuditOperation::Deleted,
    };
    let version = match change.entity_type {
        FeedEntityType::Person if !viewer.has(Scope::Pii) => {
            public_version(&change).unwrap_or(change.row.version)
        }
        _ => change.row.version,
    };
    let StoredChange {
        row,
        entity_type,
        record,
    } = change;
    let rendered = record.map(|record| {
        record
            .map_err(Error::internal)
            .and_then(|record| render(record, viewer, names))
    });
    let (data, problem) = match rendered {
        None => (None, None),
        Some(Ok(data)) => (Some(data), None),
        Some(Err(err)) => {
            log::warn!(
                "request_id={request_id} change feed: journal row {} ({} {}) cannot be rendered: {err}",
                row.seq,
                row.entity_type,
                row.entity_id
            );
            (
                None,
                Some(format!(
                    "this change's stored record cannot be rendered; read the {} through its resource",
                    entity_type.as_str()
                )),
            )
        }
    };
    Change {
        entity_type,
        entity_id: row.entity_id,
        op,
        version,
        changed_at: row.changed_at,
        data,
        problem,
    }
}

/// A stored record as a GET showed it then.
fn render(
    record: StoredRecord,
    viewer: &Principal,
    names: &HashMap<Uuid, String>,
) -> Result<ChangeData, Error> {
    Ok(match record {
        StoredRecord::Organization(record) => {
            ChangeData::Organization(Organization::try_from(record)?)
        }
        StoredRecord::Person(record) => ChangeData::Person(Person::present(record, viewer)?),
        StoredRecord::Role(record) => ChangeData::Role(Role::try_from(record)?),
        StoredRecord::Event(record) => ChangeData::Event(Event::try_from(record)?),
        StoredRecord::Participant(record) => {
            let name = |id: Option<Uuid>| id.and_then(|id| names.get(&id).cloned());
            ChangeData::Participant(Participant::from(ParticipantRow {
                person_name: name(record.data.person_id),
                organization_name: name(record.data.organization_id),
                on_behalf_of_name: name(record.data.on_behalf_of_id),
                record,
            }))
        }
        StoredRecord::Area(record) => ChangeData::Area(Area::try_from(record)?),
        StoredRecord::Post(record) => ChangeData::Post(Post::try_from(record)?),
    })
}

crate::operation! {
    get "/v1/changes" in "changes" as "listChanges" [
        params(ChangesParams),
        responses(
            (status = 200, description = "The next settled changes in feed order, and the cursor to continue from", body = ChangePage),
            (status = 400, description = "A parameter is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
            (status = 410, description = "The cursor is older than the feed's retention: resync", body = crate::error::Problem, content_type = "application/problem+json"),
            crate::api::problems::ProbeErrors,
        )
    ];
    /// Follows every committed change of the register.
    ///
    /// Every committed change exactly once, never one that rolled back. A
    /// change of a record comes after the change it followed, and a record
    /// after the records it referred to as of its writing; changes of
    /// unrelated transactions are not strictly in commit order.
    ///
    /// A page holds the settled changes after the cursor: a change settles
    /// once every transaction that began writing before it has ended (in
    /// the whole database server), so a long-running write holds the feed's
    /// head back. A change committed before the request is in the page (if
    /// the limit allows) once it settles; the request waits up to the
    /// server's `FEED_SETTLE_WAIT_MS` (default 2 s) for that, then answers
    /// with what has settled, and the rest comes in a later page.
    pub async fn list(
        req: HttpRequest,
        pool: web::Data<PgPool>,
        viewer: Principal,
        feed: web::Data<FeedSettings>,
        params: Query<ChangesParams>,
    ) -> Result<HttpResponse, Error> {
        let deadline = Instant::now() + feed.settle_wait;
        let p = params.0;
        let limit = match p.limit {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => n,
            Some(_) => return Err(Error::bad_parameter("limit", "must be from 1 to 1000")),
        };
        let types = p.types.map_or_else(|| FeedEntityType::ALL.to_vec(), |set| set.0);
        let without_private = !viewer.has(Scope::Pii);
        let key = req.app_data::<CursorKey>().cloned().unwrap_or_default();
        let retention = feed.retention;
        let read_types = types.clone();
        let (signer, start, mut page, awaited) = db::run(&pool, move |conn| {
            let signer = key.signer(conn)?;
            let start = match p.cursor.as_ref().map(|c| c.0.as_str()).filter(|c| !c.is_empty()) {
                Some(cursor) => decode(&signer, cursor, retention)?,
                None => FeedPosition::default(),
            };
            let page = read_page(conn, start, &read_types, without_private, limit)?;
            // Committed changes past a page that is not full have not
            // settled yet (or committed just now): wait for the last one.
            let awaited = match page.is_full(limit) {
                true => None,
                false => {
                    let type_names: Vec<&str> = read_types.iter().map(|t| t.as_str()).collect();
                    journal::last_committed_key(conn, page.end(start), &type_names, without_private)?
                }
            };
            Ok((signer, start, page, awaited))
        })
        .await?;
        if let Some(awaited) = awaited {
            let mut pause = FIRST_PAUSE;
            while !page.reaches(awaited, limit) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                // Without a connection: the pool serves others meanwhile.
                actix_web::rt::time::sleep(pause.min(left)).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
                let types = types.clone();
                page = db::run(&pool, move |conn| {
                    read_page(conn, start, &types, without_private, limit)
                })
                .await?;
            }
        }
        let end = page.end(start);
        let request_id = crate::request_id::of(&req);
        let StoredPage { changes, names } = page;
        let items = changes
            .into_iter()
            .map(|change| present(change, &viewer, &names, &request_id))
            .collect();
        Ok(HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .json(ChangePage {
                items,
                next_cursor: encode(&signer, end),
            }))
    }
}

crate::routes! {
    Read => list,
}
