//! `GET /v1/changes`: the change feed for syncing systems. Every committed
//! change of the register, once, in commit order; deletions as tombstones.
//!
//! How it never misses a change: journal rows are written by triggers in
//! the transaction of each change, and take their feed position
//! (`commit_seq`) only when that transaction commits, under a lock held
//! until the commit is visible. So positions become visible in order: once
//! a reader sees position n, every position below n is committed (or will
//! never exist). A plain sequence number taken at insert would not do — a
//! transaction holding 7 may commit after the one holding 8, and a reader
//! already past 8 would skip 7 for good. See the `sync` migration.

use crate::api::areas::Area;
use crate::api::audit::AuditOperation;
use crate::api::cursor::{CursorKey, Signer};
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
use crate::store::journal::{self, FeedPosition, JournalRecord};
use crate::store::organizations::OrganizationRecord;
use crate::store::participants::{self, ParticipantRecord, ParticipantRow};
use crate::store::people::PersonRecord;
use crate::store::posts::PostRecord;
use crate::store::roles::RoleRecord;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How long a cursor stays valid; put in the app data.
#[derive(Debug, Clone, Copy)]
pub struct FeedRetention(pub Duration);

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
    /// Changes in commit order.
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
    /// `next_cursor` of the previous page; without it, the feed starts at
    /// the first change.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Comma-separated kinds of records (default: all):
    /// organization, person, role, event, participant, area, post.
    #[param(
        pattern = r"^(organization|person|role|event|participant|area|post)(,(organization|person|role|event|participant|area|post))*$"
    )]
    types: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Position: commit sequence and journal sequence of the last change.
    c: i64,
    s: i64,
    /// When the cursor was issued.
    t: DateTime<Utc>,
}

fn encode(signer: &Signer, position: FeedPosition) -> String {
    let cursor = Cursor {
        c: position.commit_seq,
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
        commit_seq: cursor.c,
        seq: cursor.s,
    })
}

fn parse_types(text: Option<&str>) -> Result<Vec<FeedEntityType>, Error> {
    let Some(text) = text else {
        return Ok(FeedEntityType::ALL.to_vec());
    };
    text.split(',')
        .map(|name| {
            FeedEntityType::ALL
                .iter()
                .find(|t| t.as_str() == name)
                .copied()
                .ok_or_else(|| {
                    Error::bad_parameter(
                        "types",
                        format!("unknown type {name:?}; use organization, person, role, event, participant, area, post"),
                    )
                })
        })
        .collect()
}

fn record<T: serde::de::DeserializeOwned>(doc: Value) -> Result<T, Error> {
    serde_json::from_value(doc).map_err(Error::internal)
}

/// The entry of the feed for journal row `row`, as `viewer` may see it. A
/// row whose record cannot be rendered is delivered with `data: null` and
/// a `problem`, never as an error: one bad row must not stall a consumer.
fn present(
    row: JournalRecord,
    viewer: &Principal,
    names: &std::collections::HashMap<Uuid, String>,
    request_id: &str,
) -> Change {
    let entity_type = FeedEntityType::ALL
        .iter()
        .copied()
        .find(|t| t.as_str() == row.entity_type)
        .unwrap_or(FeedEntityType::Organization);
    let op = match row.op.as_str() {
        "created" => AuditOperation::Created,
        "updated" => AuditOperation::Updated,
        _ => AuditOperation::Deleted,
    };
    let version = match entity_type {
        FeedEntityType::Person if !viewer.has(Scope::Pii) => {
            row.public_version().unwrap_or(row.version)
        }
        _ => row.version,
    };
    let (data, problem) = match row.after.map(|doc| render(entity_type, doc, viewer, names)) {
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

/// The record a journal row holds, as a GET showed it then.
fn render(
    entity_type: FeedEntityType,
    doc: Value,
    viewer: &Principal,
    names: &std::collections::HashMap<Uuid, String>,
) -> Result<ChangeData, Error> {
    Ok(match entity_type {
        FeedEntityType::Organization => {
            ChangeData::Organization(Organization::try_from(record::<OrganizationRecord>(doc)?)?)
        }
        FeedEntityType::Person => {
            ChangeData::Person(Person::present(record::<PersonRecord>(doc)?, viewer)?)
        }
        FeedEntityType::Role => ChangeData::Role(Role::try_from(record::<RoleRecord>(doc)?)?),
        FeedEntityType::Event => ChangeData::Event(Event::try_from(record::<EventRecord>(doc)?)?),
        FeedEntityType::Participant => {
            let record: ParticipantRecord = record(doc)?;
            let name = |id: Option<Uuid>| id.and_then(|id| names.get(&id).cloned());
            ChangeData::Participant(Participant::from(ParticipantRow {
                person_name: name(record.data.person_id),
                organization_name: name(record.data.organization_id),
                on_behalf_of_name: name(record.data.on_behalf_of_id),
                record,
            }))
        }
        FeedEntityType::Area => ChangeData::Area(Area::try_from(record::<AreaRecord>(doc)?)?),
        FeedEntityType::Post => ChangeData::Post(Post::try_from(record::<PostRecord>(doc)?)?),
    })
}

crate::operation! {
    get "/v1/changes" in "changes" as "listChanges" [
        params(ChangesParams),
        responses(
            (status = 200, description = "The next changes in commit order, and the cursor to continue from", body = ChangePage),
            (status = 400, description = "A parameter is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
            (status = 410, description = "The cursor is older than the feed's retention: resync", body = crate::error::Problem, content_type = "application/problem+json"),
            crate::api::problems::ProbeErrors,
        )
    ];
    /// Follows every committed change of the register.
    pub async fn list(
        req: HttpRequest,
        pool: web::Data<PgPool>,
        viewer: Principal,
        retention: web::Data<FeedRetention>,
        params: Query<ChangesParams>,
    ) -> Result<HttpResponse, Error> {
        let p = params.0;
        let limit = match p.limit {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => n,
            Some(_) => return Err(Error::bad_parameter("limit", "must be from 1 to 1000")),
        };
        let types = parse_types(p.types.as_deref())?;
        let without_private = !viewer.has(Scope::Pii);
        let key = req.app_data::<CursorKey>().cloned().unwrap_or_default();
        let retention = retention.0;
        let (signer, start, rows, names) = db::run(&pool, move |conn| {
            let signer = key.signer(conn)?;
            let start = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
                Some(cursor) => decode(&signer, cursor, retention)?,
                None => FeedPosition::default(),
            };
            let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
            let rows = journal::feed(conn, start, &names, without_private, limit)?;
            let (mut people, mut organizations) = (Vec::new(), Vec::new());
            for row in rows.iter().filter(|r| r.entity_type == "participant") {
                let Some(doc) = &row.after else { continue };
                let id = |field: &str| {
                    doc.get(field)
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse::<Uuid>().ok())
                };
                people.extend(id("person_id"));
                organizations.extend(id("organization_id"));
                organizations.extend(id("on_behalf_of_id"));
            }
            let names = participants::names_of(conn, &people, &organizations)?;
            Ok((signer, start, rows, names))
        })
        .await?;
        let end = rows
            .last()
            .map(|last| FeedPosition {
                commit_seq: last.commit_seq.unwrap_or(start.commit_seq),
                seq: last.seq,
            })
            .unwrap_or(start);
        let request_id = crate::request_id::of(&req);
        let items = rows
            .into_iter()
            .map(|row| present(row, &viewer, &names, &request_id))
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
