//! Popolo interchange (<https://www.popoloproject.com/specs/>): the register
//! as one Popolo JSON document, `GET /v1/exports/popolo`, and the same
//! document as an import, `POST /v1/imports?format=popolo`.
//!
//! The classes and their members are Popolo's: `persons`,
//! `organizations`, `memberships` (the roles), `posts`, `areas` and
//! `events`, with Popolo's member names (`label` for a role's title,
//! `image`, `classification`, `parent_id`, `member` for an organization
//! that is a member, `identifiers` as `{identifier, scheme}`, partial
//! dates). What Popolo has no member for is written under this register's
//! own name beside them: an organization's `kind`, a person's `phone`, a
//! post's `other_labels` (when a label has more than its name), a
//! membership's `note` and `identifiers`, an event's `timezone`,
//! `recurrence`, `topics`, `links` and `participants`.
//!
//! Ids: a record's Popolo `id` is the value of its (last) identifier of
//! scheme [`SCHEME`] when it has one, else its own id; an import keeps each
//! object's `id` as that identifier (and resolves references through it),
//! so a document exported, imported into an empty register and exported
//! again is the same document, and a document of another Popolo tool keeps
//! its ids. A reference to an object the document does not hold may be a
//! record's own id. Each class is sorted by id.

use crate::api::areas::Areas;
use crate::api::events::Events;
use crate::api::exports::input_members;
use crate::api::extract::parse_document;
use crate::api::import_entries::{Entries, Entry, ImportResource};
use crate::api::organizations::Organizations;
use crate::api::participants::Participants;
use crate::api::people::People;
use crate::api::posts::Posts;
use crate::api::resource::{RecordOf, Resource};
use crate::api::roles::Roles;
use crate::db::replica::{self, Reads};
use crate::error::{Error, FieldError};
use crate::store::api_keys::Principal;
use crate::store::people::PII_FIELDS;
use crate::store::rows::Rows;
use crate::store::{areas, events, organizations, participants, people, posts, roles};
use crate::store::{CreatedSort, Keyset};
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The identifier scheme holding a record's Popolo id.
pub const SCHEME: &str = crate::store::identifiers::ID_SCHEME;

/// The document's own member about itself (as EveryPolitician's documents
/// have), beside the classes.
const META: &str = "meta";
/// The member of [`META`] naming the persons' members an export left out
/// because its key could not see them.
const WITHHELD: &str = "withheld";

/// A class of a Popolo document: its member in the document and the
/// resource its objects are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Areas,
    Organizations,
    Posts,
    Persons,
    Memberships,
    Events,
}

impl Class {
    const ALL: [Self; 6] = [
        Self::Areas,
        Self::Organizations,
        Self::Posts,
        Self::Persons,
        Self::Memberships,
        Self::Events,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Areas => "areas",
            Self::Organizations => "organizations",
            Self::Posts => "posts",
            Self::Persons => "persons",
            Self::Memberships => "memberships",
            Self::Events => "events",
        }
    }

    fn resource(self) -> ImportResource {
        match self {
            Self::Areas => ImportResource::Areas,
            Self::Organizations => ImportResource::Organizations,
            Self::Posts => ImportResource::Posts,
            Self::Persons => ImportResource::People,
            Self::Memberships => ImportResource::Roles,
            Self::Events => ImportResource::Events,
        }
    }

    /// Members Popolo names otherwise: (this register's, Popolo's).
    fn renamed(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Persons => &[("image_url", "image")],
            Self::Areas | Self::Organizations | Self::Posts => &[],
            Self::Memberships => &[("title", "label")],
            Self::Events => &[
                ("title", "name"),
                ("kind", "classification"),
                ("parent_event_id", "parent_id"),
            ],
        }
    }

    /// Popolo's members this register does not keep: an import passes them
    /// over.
    fn passed_over(self) -> &'static [&'static str] {
        match self {
            Self::Persons => &[
                "additional_name",
                "patronymic_name",
                "summary",
                "national_identity",
                "pronouns",
                "created_at",
                "updated_at",
            ],
            Self::Organizations => &[
                "abstract",
                "image",
                "parent",
                "area",
                "created_at",
                "updated_at",
            ],
            Self::Memberships => &[
                "person",
                "organization",
                "on_behalf_of",
                "post",
                "area",
                "area_id",
                "contact_details",
                "created_at",
                "updated_at",
            ],
            Self::Events => &["organization", "parent", "created_at", "updated_at"],
            Self::Posts => &["organization", "area", "created_at", "updated_at"],
            Self::Areas => &["parent", "geometry", "created_at", "updated_at"],
        }
    }

    /// Popolo's members that nest objects of another class: an import
    /// refuses them (the document's own classes list those objects).
    fn nesting(self) -> &'static [&'static str] {
        match self {
            Self::Persons => &["memberships", "motions", "speeches", "votes"],
            Self::Organizations => &[
                "memberships",
                "posts",
                "motions",
                "vote_events",
                "votes",
                "children",
            ],
            Self::Memberships | Self::Areas => &[],
            Self::Posts => &["memberships"],
            Self::Events => &["attendees", "children"],
        }
    }
}

/// The title of a membership that has neither a `label` nor a `role`.
const MEMBER: &str = "Member";

/// Popolo's classes this register does not keep: an import passes them over.
const CLASSES_PASSED_OVER: &[&str] = &["motions", "vote_events", "votes", "speeches", "counts"];

/// Popolo's members of other names and contact details this register does
/// not keep.
const NAME_PARTS_PASSED_OVER: &[&str] = &[
    "family_name",
    "given_name",
    "additional_name",
    "honorific_prefix",
    "honorific_suffix",
    "patronymic_name",
];
const CONTACT_PARTS_PASSED_OVER: &[&str] = &[
    "note",
    "valid_from",
    "valid_through",
    "created_at",
    "updated_at",
    "sources",
];

// ---------------------------------------------------------------------
// Export

crate::operation! {
    get "/v1/exports/popolo" in "imports" as "exportPopolo" [
        responses(
            (status = 200, description = "The register as one Popolo JSON document: `persons`, `organizations`, `memberships`, `posts`, `areas`, `events`, each sorted by id",
                content((Object = "application/json")),
                headers(("Content-Disposition" = String, description = "`attachment; filename=\"popolo.json\"`"))),
            crate::api::problems::ReadErrors,
        )
    ];
    /// Exports the register as one Popolo JSON document, which `POST
    /// /v1/imports?format=popolo` takes back. Popolo's member names;
    /// references by Popolo id; personal data only with the `pii` scope.
    /// The document is built in memory: for very large registers, the NDJSON
    /// export streams.
    pub async fn export(reads: Reads, viewer: Principal) -> Result<HttpResponse, Error> {
        let document = replica::read(&reads, move |conn| document(conn, &viewer)).await?;
        Ok(HttpResponse::Ok()
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename("popolo.json".to_owned())],
            })
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(document))
    }
}

crate::routes! {
    Read => export from replica,
}

/// A record of the register ready to be written as a Popolo object: its
/// id and its input's members (references by id).
struct Held {
    id: Uuid,
    members: Map<String, Value>,
}

/// The live records of `R` with the members `viewer` sees.
fn held<R: Resource>(
    viewer: &Principal,
    records: &[RecordOf<R>],
    id: fn(&RecordOf<R>) -> Uuid,
) -> Result<Vec<Held>, Error> {
    records
        .iter()
        .map(|record| {
            Ok(Held {
                id: id(record),
                members: input_members::<R>(viewer, record)?,
            })
        })
        .collect()
}

/// The Popolo id of a record: the value of its (last) `popolo` identifier,
/// else its own id. (An import adds the object's id after the identifiers
/// it lists.)
fn popolo_id(held: &Held) -> String {
    held.members
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rfind(|i| i["scheme"] == SCHEME)
        .and_then(|i| i["value"].as_str())
        .map_or_else(|| held.id.to_string(), str::to_owned)
}

/// The register as one Popolo document, as `viewer` sees it.
fn document(conn: &mut diesel::pg::PgConnection, viewer: &Principal) -> Result<Value, Error> {
    let areas = held::<Areas>(viewer, &areas::Areas::all_live(conn)?, |r| r.id)?;
    let posts = held::<Posts>(viewer, &posts::Posts::all_live(conn)?, |r| r.id)?;
    let organizations = held::<Organizations>(
        viewer,
        &organizations::Organizations::all_live(conn)?,
        |r| r.id,
    )?;
    let persons = held::<People>(viewer, &people::People::all_live(conn)?, |r| r.id)?;
    let memberships = held::<Roles>(viewer, &roles::Roles::all_live(conn)?, |r| r.id)?;
    let events = held::<Events>(viewer, &events::Events::all_live(conn)?, |r| r.id)?;
    let participant_rows =
        participants::all(conn, Keyset::first(CreatedSort::CreatedAt, i64::MAX))?;
    let event_of: HashMap<Uuid, Uuid> = participant_rows
        .iter()
        .map(|row| (row.record.id, row.record.data.event_id))
        .collect();
    let participants = held::<Participants>(viewer, &participant_rows, |row| row.record.id)?;

    let ids: HashMap<Uuid, String> = [
        &areas,
        &organizations,
        &posts,
        &persons,
        &memberships,
        &events,
        &participants,
    ]
    .into_iter()
    .flatten()
    .map(|held| (held.id, popolo_id(held)))
    .collect();
    let mut by_event: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for held in participants {
        let event = event_of.get(&held.id).copied().unwrap_or_default();
        by_event
            .entry(event)
            .or_default()
            .push(Value::Object(popolo_object(held, &ids, &[])));
    }
    let mut document = Map::new();
    for (class, records) in [
        (Class::Areas, areas),
        (Class::Organizations, organizations),
        (Class::Posts, posts),
        (Class::Persons, persons),
        (Class::Memberships, memberships),
        (Class::Events, events),
    ] {
        let mut objects: Vec<Map<String, Value>> = records
            .into_iter()
            .map(|held| {
                let id = held.id;
                let mut object = popolo_object(held, &ids, class.renamed());
                match class {
                    Class::Memberships => membership_member(&mut object),
                    Class::Events => {
                        event_dates(&mut object);
                        if let Some(mut list) = by_event.remove(&id) {
                            list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
                            object.insert("participants".into(), Value::Array(list));
                        }
                    }
                    Class::Posts => other_labels_out(&mut object),
                    Class::Areas | Class::Organizations | Class::Persons => {}
                }
                object
            })
            .collect();
        objects.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        document.insert(
            class.name().into(),
            Value::Array(objects.into_iter().map(Value::Object).collect()),
        );
    }
    if People::hides(viewer) {
        document.insert(META.into(), json!({ WITHHELD: PII_FIELDS }));
    }
    Ok(Value::Object(document))
}

/// The members of a record as a Popolo object: its Popolo id, identifiers
/// as `{identifier, scheme}` (the `popolo` one is the id), references by
/// Popolo id, members renamed as `renamed` says.
fn popolo_object(
    held: Held,
    ids: &HashMap<Uuid, String>,
    renamed: &[(&str, &str)],
) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), popolo_id(&held).into());
    for (member, value) in held.members {
        let value = match (member.as_str(), value) {
            ("identifiers", Value::Array(list)) => {
                // The `popolo` identifier that is the id (the last) is the
                // id; any other `popolo` identifier is kept as one.
                let id_at = list.iter().rposition(|i| i["scheme"] == SCHEME);
                let kept: Vec<Value> = list
                    .into_iter()
                    .enumerate()
                    .filter(|(at, _)| Some(*at) != id_at)
                    .map(|(_, i)| i)
                    .map(|i| json!({"identifier": i["value"], "scheme": i["scheme"]}))
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                Value::Array(kept)
            }
            (name, Value::String(text)) if name.ends_with("_id") => {
                let popolo = text.parse::<Uuid>().ok().and_then(|id| ids.get(&id));
                Value::String(popolo.cloned().unwrap_or(text))
            }
            (_, value) => value,
        };
        let name = renamed
            .iter()
            .find(|(ours, _)| *ours == member)
            .map_or(member.as_str(), |(_, theirs)| theirs);
        object.insert(name.to_owned(), value);
    }
    object
}

/// A post's other labels as Popolo's `other_label`: the labels alone; and,
/// when one of them carries more than its name (a language, a note, dates),
/// all of them as they are under this register's `other_labels` too, so
/// that loading the document back loses nothing.
fn other_labels_out(object: &mut Map<String, Value>) {
    if let Some(Value::Array(labels)) = object.remove("other_labels") {
        let names: Vec<Value> = labels.iter().map(|label| label["name"].clone()).collect();
        object.insert("other_label".into(), Value::Array(names));
        let richer = labels
            .iter()
            .any(|label| label.as_object().is_some_and(|label| label.len() > 1));
        if richer {
            object.insert("other_labels".into(), Value::Array(labels));
        }
    }
}

/// An organization holding a role is Popolo's `member` of the membership.
fn membership_member(object: &mut Map<String, Value>) {
    if let Some(member) = object.remove("member_organization_id") {
        object.insert(
            "member".into(),
            json!({"@type": "Organization", "id": member}),
        );
    }
}

/// An event's day or instant as Popolo's `start_date`/`end_date` (an
/// instant in UTC to the second).
fn event_dates(object: &mut Map<String, Value>) {
    for (instant, day, popolo) in [
        ("starts_at", "start_date", "start_date"),
        ("ends_at", "end_date", "end_date"),
    ] {
        if let Some(Value::String(text)) = object.remove(instant) {
            let second = chrono::DateTime::parse_from_rfc3339(&text)
                .map(|at| at.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or(text);
            object.insert(popolo.into(), second.into());
        } else if let Some(value) = object.remove(day) {
            object.insert(popolo.into(), value);
        }
    }
}

// ---------------------------------------------------------------------
// Import

/// The records of a Popolo document, as import entries (this register's
/// member names; faults are named by the document's).
/// Also whether the document says it withholds personal data (its
/// `meta.withheld` names people's personal fields: an export by a key
/// without `pii`), which an import must then keep as stored.
pub fn entries(bytes: &[u8]) -> Result<(Entries<'static>, bool), Error> {
    let Value::Object(mut document) = parse_document(bytes)? else {
        return Err(Error::invalid(
            "body",
            "must be a Popolo JSON document: an object of arrays (persons, organizations, memberships, posts, areas, events)",
        ));
    };
    let mut faults = Vec::new();
    let withheld = match document
        .remove(META)
        .map(|meta| meta.get(WITHHELD).cloned())
    {
        None | Some(None) => false,
        Some(Some(Value::Array(fields))) if fields.iter().all(Value::is_string) => fields
            .iter()
            .any(|field| field.as_str().is_some_and(|f| PII_FIELDS.contains(&f))),
        Some(Some(_)) => {
            faults.push(FieldError::new(
                format!("{META}.{WITHHELD}"),
                "must be an array of the members an export left out",
            ));
            false
        }
    };
    let mut classes: Vec<(Class, Vec<Value>)> = Vec::new();
    let names: Vec<String> = document.keys().cloned().collect();
    for name in names {
        let value = document.remove(&name).unwrap_or_default();
        let Some(class) = Class::ALL.into_iter().find(|c| c.name() == name) else {
            if !CLASSES_PASSED_OVER.contains(&name.as_str()) {
                faults.push(FieldError::new(
                    name,
                    "unknown class; expected persons, organizations, memberships, posts, areas or events",
                ));
            }
            continue;
        };
        match value {
            Value::Array(objects) => classes.push((class, objects)),
            _ => faults.push(FieldError::new(name, "must be an array of objects")),
        }
    }
    // The ids the document gives, by class: a reference to one of them is
    // a reference to the record that has it as its `popolo` identifier.
    let mut given: HashMap<Class, HashSet<String>> = HashMap::new();
    for (class, objects) in &classes {
        let ids = given.entry(*class).or_default();
        ids.extend(
            objects
                .iter()
                .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_owned)),
        );
    }
    let reader = Reader { given };
    let mut entries = Vec::new();
    for (class, objects) in classes {
        for (i, object) in objects.into_iter().enumerate() {
            let at = format!("{}[{i}]", class.name());
            match object {
                Value::Object(members) => match reader.entry(class, &at, members, &mut entries) {
                    Ok(entry) => entries.push(entry),
                    Err(found) => faults.extend(found),
                },
                _ => faults.push(FieldError::new(at, "must be an object")),
            }
        }
    }
    if !faults.is_empty() {
        return Err(Error::Validation(faults));
    }
    Ok((Box::new(entries.into_iter().map(Ok)), withheld))
}

/// Reads the objects of one document.
struct Reader {
    given: HashMap<Class, HashSet<String>>,
}

impl Reader {
    /// A reference to the object of `class` with Popolo id `value`: by its
    /// `popolo` identifier, or (an id the document does not give that is a
    /// UUID) by the record's own id.
    fn reference(&self, class: Class, value: Value) -> Value {
        match value {
            Value::String(id) => {
                let in_document = self.given.get(&class).is_some_and(|ids| ids.contains(&id));
                if !in_document && id.parse::<Uuid>().is_ok() {
                    Value::String(id)
                } else {
                    Value::String(format!("{SCHEME}:{id}"))
                }
            }
            other => other,
        }
    }

    /// The entry of the object at `at` of `class` (its participants, for an
    /// event, pushed to `more`), or its faults.
    fn entry(
        &self,
        class: Class,
        at: &str,
        mut object: Map<String, Value>,
        more: &mut Vec<Entry>,
    ) -> Result<Entry, Vec<FieldError>> {
        let mut faults = Vec::new();
        for nested in class.nesting() {
            if object
                .get(*nested)
                .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
            {
                faults.push(FieldError::new(
                    format!("{at}.{nested}"),
                    "nested objects are not read: list them in the document's own classes",
                ));
            }
            object.remove(*nested);
        }
        for member in class.passed_over() {
            object.remove(*member);
        }
        let id = match object.remove("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if !id.trim().is_empty() => Some(id),
            Some(_) => {
                faults.push(FieldError::new(
                    format!("{at}.id"),
                    "must be a non-blank string",
                ));
                None
            }
        };
        let mut members = Map::new();
        for (name, value) in object {
            let ours = class
                .renamed()
                .iter()
                .find(|(_, theirs)| *theirs == name)
                .map_or(name.as_str(), |(ours, _)| ours)
                .to_owned();
            members.insert(ours, value);
        }
        identifiers(&mut members, id.as_deref());
        for list in ["other_names", "contact_details"] {
            let passed_over = if list == "other_names" {
                NAME_PARTS_PASSED_OVER
            } else {
                CONTACT_PARTS_PASSED_OVER
            };
            if let Some(Value::Array(items)) = members.get_mut(list) {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    for part in passed_over {
                        item.remove(*part);
                    }
                }
            }
        }
        match class {
            Class::Persons => {}
            Class::Areas => {
                self.refer(&mut members, &[("parent_id", Class::Areas)]);
                area_identifier(&mut members);
            }
            Class::Posts => {
                self.refer(
                    &mut members,
                    &[
                        ("organization_id", Class::Organizations),
                        ("area_id", Class::Areas),
                    ],
                );
                other_labels_in(&mut members);
            }
            Class::Organizations => {
                self.refer(
                    &mut members,
                    &[
                        ("parent_id", Class::Organizations),
                        ("area_id", Class::Areas),
                    ],
                );
                if !members.contains_key("kind") {
                    let kind = members
                        .get("classification")
                        .and_then(Value::as_str)
                        .filter(|text| {
                            serde_json::from_value::<organizations::OrganizationKind>(json!(text))
                                .is_ok()
                        })
                        .unwrap_or("other")
                        .to_owned();
                    members.insert("kind".into(), kind.into());
                }
            }
            Class::Memberships => {
                self.membership(at, &mut members, &mut faults);
            }
            Class::Events => {
                self.refer(&mut members, &[("parent_event_id", Class::Events)]);
                event_times(at, &mut members, &mut faults);
                self.participants(at, id.as_deref(), &mut members, more, &mut faults);
            }
        }
        if !faults.is_empty() {
            return Err(faults);
        }
        Ok(Entry {
            at: at.to_owned(),
            kind: class.resource(),
            members,
            line: None,
            renamed: class.renamed(),
            key: id.clone().map(|id| (SCHEME, id)),
            id: id.as_deref().and_then(|id| id.parse().ok()),
        })
    }

    /// Each of `references` (member, class) given in `members` as a
    /// reference of this register.
    fn refer(&self, members: &mut Map<String, Value>, references: &[(&str, Class)]) {
        for &(member, class) in references {
            if let Some(value) = members.remove(member) {
                members.insert(member.to_owned(), self.reference(class, value));
            }
        }
    }

    /// A membership as a role: its member (`person_id`, or `member` naming
    /// a person or an organization; given both ways, the same one), its
    /// title (`label`, else its `role`, else [`MEMBER`]), its dates as days.
    fn membership(&self, at: &str, members: &mut Map<String, Value>, faults: &mut Vec<FieldError>) {
        if let Some(member) = members.remove("member") {
            let kind = member.get("@type").and_then(Value::as_str);
            let id = member.get("id").cloned();
            let named = match kind {
                Some("Organization") => Some(("member_organization_id", "person_id")),
                Some("Person") => Some(("person_id", "member_organization_id")),
                _ => None,
            };
            match (named, id) {
                (Some((named, other)), Some(id)) => {
                    // Named by `person_id` too, as some tools write: the
                    // same member, else a conflict.
                    if members.get(named).is_some_and(|given| *given != id)
                        || members.contains_key(other)
                    {
                        faults.push(FieldError::new(
                            format!("{at}.member"),
                            "names another member than person_id or member_organization_id",
                        ));
                    } else {
                        members.insert(named.into(), id);
                    }
                }
                _ => faults.push(FieldError::new(
                    format!("{at}.member"),
                    "must be {\"@type\": \"Person\" or \"Organization\", \"id\": ...}",
                )),
            }
        }
        self.refer(
            members,
            &[
                ("organization_id", Class::Organizations),
                ("person_id", Class::Persons),
                ("member_organization_id", Class::Organizations),
                ("on_behalf_of_id", Class::Organizations),
                ("post_id", Class::Posts),
            ],
        );
        // Popolo requires neither a label nor a role: a membership with
        // neither is a plain one.
        if !members.contains_key("title") {
            let role = members.get("role").cloned();
            members.insert("title".into(), role.unwrap_or_else(|| MEMBER.into()));
        }
        // Popolo lets a membership's dates carry a time; a role keeps days.
        for date in ["start_date", "end_date"] {
            if let Some(Value::String(text)) = members.get_mut(date) {
                if let Some((day, _)) = text.split_once('T') {
                    *text = day.to_owned();
                }
            }
        }
    }

    /// An event's participants (this register's `participants`, and
    /// Popolo's organizing `organization_id`) as entries of their own; one
    /// without an id gets `<event id>/<role>/<member id>`.
    fn participants(
        &self,
        at: &str,
        id: Option<&str>,
        members: &mut Map<String, Value>,
        more: &mut Vec<Entry>,
        faults: &mut Vec<FieldError>,
    ) {
        let mut listed = match members.remove("participants") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list,
            Some(_) => {
                faults.push(FieldError::new(
                    format!("{at}.participants"),
                    "must be an array",
                ));
                return;
            }
        };
        if let Some(organizer) = members.remove("organization_id") {
            let named = listed.iter().any(|p| {
                p.get("organization_id") == Some(&organizer)
                    && p.get("role") == Some(&json!("organizer"))
            });
            if !named {
                listed.push(json!({"organization_id": organizer, "role": "organizer"}));
            }
        }
        if listed.is_empty() {
            return;
        }
        let Some(event) = id else {
            faults.push(FieldError::new(
                format!("{at}.id"),
                "an event with participants needs an id",
            ));
            return;
        };
        for (i, participant) in listed.into_iter().enumerate() {
            let place = format!("{at}.participants[{i}]");
            let Value::Object(mut object) = participant else {
                faults.push(FieldError::new(place, "must be an object"));
                continue;
            };
            // One without an id is named by what makes it one: its event,
            // role and member (so that loading the document again finds it).
            let own = match object.remove("id") {
                Some(Value::String(id)) => id,
                _ => {
                    let text = |member: &str| object.get(member).and_then(Value::as_str);
                    let member = text("person_id").or(text("organization_id")).unwrap_or("");
                    format!("{event}/{}/{member}", text("role").unwrap_or(""))
                }
            };
            identifiers(&mut object, Some(&own));
            self.refer(
                &mut object,
                &[
                    ("person_id", Class::Persons),
                    ("organization_id", Class::Organizations),
                    ("on_behalf_of_id", Class::Organizations),
                ],
            );
            object.insert("event_id".into(), format!("{SCHEME}:{event}").into());
            more.push(Entry {
                at: place,
                kind: ImportResource::Participants,
                members: object,
                line: None,
                renamed: &[],
                id: own.parse().ok(),
                key: Some((SCHEME, own)),
            });
        }
    }
}

/// Popolo's `other_label` of a post (labels alone) as its other labels;
/// this register's own `other_labels` (labels with their language, note
/// and dates), when the document gives them, instead.
fn other_labels_in(members: &mut Map<String, Value>) {
    if let Some(labels) = members.remove("other_label") {
        if members.contains_key("other_labels") {
            return;
        }
        let labels = match labels {
            Value::Array(labels) => Value::Array(
                labels
                    .into_iter()
                    .map(|label| match label {
                        Value::String(name) => json!({ "name": name }),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        };
        members.insert("other_labels".into(), labels);
    }
}

/// Popolo's one `identifier` of an area (without a scheme) as an
/// identifier of scheme `identifier`, where the area lists no identifiers
/// of its own (this register writes `identifiers`).
fn area_identifier(members: &mut Map<String, Value>) {
    if let Some(value) = members.remove("identifier") {
        let listed = members
            .get("identifiers")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|i| i["scheme"] != SCHEME));
        if !listed && !value.is_null() {
            let list = members
                .entry("identifiers")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                list.push(json!({"scheme": "identifier", "value": value}));
            }
        }
    }
}

/// Popolo's identifiers (`{identifier, scheme}`) as this register's
/// (`{scheme, value}`), in the document's order (so that a fault names the
/// document's own index), then the object's Popolo id as its `popolo`
/// identifier unless listed already.
fn identifiers(members: &mut Map<String, Value>, id: Option<&str>) {
    let mut list: Vec<Value> = match members.remove("identifiers") {
        Some(Value::Array(given)) => given
            .into_iter()
            .map(|item| match item {
                Value::Object(mut object) if object.contains_key("identifier") => {
                    let value = object.remove("identifier").unwrap_or_default();
                    object.insert("value".into(), value);
                    Value::Object(object)
                }
                other => other,
            })
            .collect(),
        Some(other) => {
            members.insert("identifiers".into(), other);
            return;
        }
        None => Vec::new(),
    };
    if let Some(own) = id.map(|id| json!({"scheme": SCHEME, "value": id})) {
        if !list.contains(&own) {
            list.push(own);
        }
    }
    if !list.is_empty() {
        members.insert("identifiers".into(), Value::Array(list));
    }
}

/// Popolo's `start_date`/`end_date` of an event as a day (`start_date`,
/// `end_date`) or an instant (`starts_at`, `ends_at`): a time of day makes
/// an instant (hours, minutes and an offset may be short, as Popolo allows);
/// a year or a month alone is refused.
fn event_times(at: &str, members: &mut Map<String, Value>, faults: &mut Vec<FieldError>) {
    let mut timed = Vec::new();
    for (popolo, instant) in [("start_date", "starts_at"), ("end_date", "ends_at")] {
        let Some(Value::String(text)) = members.get(popolo).cloned() else {
            continue;
        };
        match text.split_once(['T', 't']) {
            Some((day, time)) => {
                members.remove(popolo);
                members.insert(instant.into(), format!("{day}T{}", full_time(time)).into());
                timed.push(true);
            }
            None if text.len() == 10 => timed.push(false),
            None => faults.push(FieldError::new(
                format!("{at}.{popolo}"),
                "an event's date must be a day YYYY-MM-DD or an instant",
            )),
        }
    }
    if let [start, end] = timed[..] {
        if start != end {
            faults.push(FieldError::new(
                format!("{at}.end_date"),
                "start_date and end_date must both be days (an all-day event) or both \
                 instants (a timed event)",
            ));
        }
    }
}

/// A time of day as Popolo allows it (`09Z`, `09:30+08`) with minutes,
/// seconds and offset minutes written out (`09:00:00Z`, `09:30:00+08:00`).
fn full_time(time: &str) -> String {
    let split = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, offset) = time.split_at(split);
    let clock = match clock.len() {
        2 => format!("{clock}:00:00"),
        5 => format!("{clock}:00"),
        _ => clock.to_owned(),
    };
    let offset = if offset.len() == 3 {
        format!("{offset}:00")
    } else {
        offset.to_owned()
    };
    format!("{clock}{offset}")
}

#[cfg(test)]
mod tests {
    use super::full_time;

    #[test]
    fn popolo_times_of_day_are_written_out() {
        assert_eq!(full_time("09Z"), "09:00:00Z");
        assert_eq!(full_time("09:30+08"), "09:30:00+08:00");
        assert_eq!(full_time("09:30:15-05:00"), "09:30:15-05:00");
    }
}
