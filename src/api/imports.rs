//! `/v1/imports`: a whole register in one request — areas, organizations,
//! posts, people, roles, events and participants as JSON, NDJSON or CSV —
//! written all or nothing by the resources' own rules, and the record of
//! each import.
//!
//! Every record is parsed and checked as its resource's POST body is
//! before a connection is taken. Then, in one transaction, records are
//! written parents first (whatever their order in the file): a record with
//! identifiers is upserted by its first one (unchanged records keep their
//! version and add nothing to the feed), one without is created; new
//! people go in batches. The stores check a record before they write it,
//! so a record refused by a check has written nothing and the records
//! after it are still checked: every record at fault is reported, and any
//! fault rolls the whole import back. A dry run does the same and rolls
//! back.

use crate::api::areas::Areas;
use crate::api::events::Events;
use crate::api::extract::{parse_document, read_body_within, BodyLimit, Query};
pub use crate::api::import_entries::{Entries, Entry, ImportResource, Line};
use crate::api::input::Input;
use crate::api::organizations::Organizations;
use crate::api::participants::Participants;
use crate::api::people::People;
use crate::api::posts::Posts;
use crate::api::problems::{CreateErrors, ReadErrors};
use crate::api::resource::{
    create_in, input_of, to_data, upsert_in, Lock, Resource, ResourceTypes, ScopeOf, Written,
};
use crate::api::roles::Roles;
use crate::db::{self, PgPool};
use crate::domain::{Identifier, Parse, Reference};
use crate::error::{Error, FieldError};
use crate::store::api_keys::{Principal, Scope};
use crate::store::crud::Crud;
use crate::store::identifiers;
use crate::store::imports::{self as store, ImportRecord};
use crate::store::refs::{self, EVENTS};
use crate::store::VersionCheck;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Largest import body, in bytes (`IMPORT_MAX_BODY_BYTES`), in the app data.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimit(pub usize);

/// The most faults one rejected import reports.
const MAX_FAULTS: usize = 1_000;

/// The formats an import is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// `application/json`: `{"organizations": [...], "people": [...], ...}`.
    Json,
    /// `application/x-ndjson`: one record a line, `{"type": "person", ...}`.
    Ndjson,
    /// `text/csv` with `?resource=`: a header row, one record a line.
    Csv,
    /// `application/json` with `?format=popolo`: a Popolo document
    /// (`persons`, `organizations`, `memberships`, `events`).
    Popolo,
}

impl ImportFormat {
    const MEDIA_TYPES: &'static [&'static str] =
        &["application/json", "application/x-ndjson", "text/csv"];

    fn of(media_type: &str) -> Option<Self> {
        match media_type.to_ascii_lowercase().as_str() {
            "application/json" => Some(Self::Json),
            "application/x-ndjson" => Some(Self::Ndjson),
            "text/csv" => Some(Self::Csv),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Popolo => "popolo",
        }
    }
}

/// Query parameters of `POST /v1/imports`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check and report what the import would do, writing nothing (the
    /// import is still recorded, as a dry run).
    dry_run: Option<bool>,
    /// With `text/csv`: the resource the rows are (`areas`,
    /// `organizations`, `posts`, `people` or `roles`); refused with the
    /// other formats.
    resource: Option<ImportResource>,
    /// With `application/json`: `popolo` reads the body as a Popolo
    /// document (as `GET /v1/exports/popolo` writes it).
    format: Option<DocumentFormat>,
}

/// What a JSON import body is, when it is not this register's own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    /// A Popolo JSON document.
    Popolo,
}

/// What an import did (or would do) to the records of one resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    /// Records that already held what the file says: same version, no
    /// feed entry, no audit row.
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, written: Written) {
        match written {
            Written::Created => self.created += 1,
            Written::Updated => self.updated += 1,
            Written::Unchanged => self.unchanged += 1,
        }
    }
}

/// What an import did to each resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    /// (Absent from the records of imports made before areas were kept.)
    #[serde(default)]
    pub areas: Counts,
    pub organizations: Counts,
    /// (Absent from the records of imports made before posts were kept.)
    #[serde(default)]
    pub posts: Counts,
    pub people: Counts,
    pub roles: Counts,
    pub events: Counts,
    pub participants: Counts,
}

impl Tally {
    fn of(&mut self, kind: ImportResource) -> &mut Counts {
        match kind {
            ImportResource::Areas => &mut self.areas,
            ImportResource::Organizations => &mut self.organizations,
            ImportResource::Posts => &mut self.posts,
            ImportResource::People => &mut self.people,
            ImportResource::Roles => &mut self.roles,
            ImportResource::Events => &mut self.events,
            ImportResource::Participants => &mut self.participants,
        }
    }
}

/// An import as recorded: who sent it, when, and what it did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ab0",
    "key_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a01",
    "created_at": "2026-12-05T08:00:00Z",
    "dry_run": false,
    "format": "json",
    "records": 3,
    "counts": {
        "areas": {"created": 0, "updated": 0, "unchanged": 0},
        "organizations": {"created": 2, "updated": 0, "unchanged": 0},
        "posts": {"created": 0, "updated": 0, "unchanged": 0},
        "people": {"created": 1, "updated": 0, "unchanged": 0},
        "roles": {"created": 0, "updated": 0, "unchanged": 0},
        "events": {"created": 0, "updated": 0, "unchanged": 0},
        "participants": {"created": 0, "updated": 0, "unchanged": 0}
    }
}))]
pub struct Import {
    pub id: Uuid,
    /// The API key that sent it.
    pub key_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// A dry run wrote nothing but this record; `counts` say what the
    /// import would have done.
    pub dry_run: bool,
    pub format: ImportFormat,
    /// How many records the file held.
    pub records: i32,
    pub counts: Tally,
}

impl TryFrom<ImportRecord> for Import {
    type Error = Error;

    fn try_from(r: ImportRecord) -> Result<Self, Error> {
        let format = match r.format.as_str() {
            "json" => ImportFormat::Json,
            "ndjson" => ImportFormat::Ndjson,
            "csv" => ImportFormat::Csv,
            "popolo" => ImportFormat::Popolo,
            other => return Err(Error::internal(format!("stored import format {other}"))),
        };
        Ok(Self {
            id: r.id,
            key_id: r.key_id,
            created_at: r.created_at,
            dry_run: r.dry_run,
            format,
            records: r.records,
            counts: serde_json::from_value(r.counts).map_err(Error::internal)?,
        })
    }
}

/// The body of a JSON import: the records of each resource, each as its
/// POST body, participants naming their event too.
pub struct ImportFile;

impl utoipa::PartialSchema for ImportFile {
    fn schema() -> RefOr<Schema> {
        let list = |schema: Value| json!({"type": "array", "items": schema});
        let input = |name: &str| list(json!({"$ref": format!("#/components/schemas/{name}")}));
        // A participant: its input's members and `event_id`.
        let mut participant = serde_json::to_value(
            <<Participants as ResourceTypes>::Input as utoipa::PartialSchema>::schema(),
        )
        .unwrap_or_default();
        let object = match participant.pointer("/allOf/0") {
            Some(_) => participant.pointer_mut("/allOf/0"),
            None => Some(&mut participant),
        };
        if let Some(object) = object {
            object["properties"]["event_id"] = json!({
                "$ref": "#/components/schemas/Reference",
                "description": "The event (id or `scheme:value`)."
            });
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.push(json!("event_id"));
            }
            // The participant input's example, naming its event.
            if let Some(example @ Value::Object(_)) = object.get_mut("example") {
                example["event_id"] = json!("0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a95");
            }
        }
        let schema = json!({
            "type": "object",
            "description": "Records reference each other by `scheme:value` (or id), in any order.",
            "additionalProperties": false,
            "properties": {
                "areas": input("AreaInput"),
                "organizations": input("OrganizationInput"),
                "posts": input("PostInput"),
                "people": input("PersonInput"),
                "roles": input("RoleInput"),
                "events": input("EventInput"),
                "participants": list(participant),
            }
        });
        serde_json::from_value(schema).unwrap_or_else(|_| RefOr::T(Schema::default()))
    }
}

impl ToSchema for ImportFile {}

/// `field` of the record at `at`.
fn field(at: &str, field: &str) -> String {
    match field {
        "" | "body" => at.to_owned(),
        _ if field.starts_with('[') => format!("{at}{field}"),
        _ => format!("{at}.{field}"),
    }
}

/// The faults of the record at `at`, or the error that stops the import.
fn faults_at(at: &str, err: Error) -> Result<Vec<FieldError>, Error> {
    Ok(match err {
        Error::Validation(faults) => faults
            .into_iter()
            .map(|f| FieldError::new(field(at, &f.field), f.message))
            .collect(),
        Error::Conflict { detail, .. } | Error::NotFound(detail) => {
            vec![FieldError::new(at, detail)]
        }
        other => return Err(other),
    })
}

/// The records of a JSON import: an object of arrays named by resource.
fn json_entries(bytes: &[u8]) -> Result<Entries<'_>, Error> {
    let Value::Object(document) = parse_document(bytes)? else {
        return Err(Error::invalid(
            "body",
            "must be a JSON object of arrays: areas, organizations, posts, people, roles, events, participants",
        ));
    };
    let mut entries = Vec::new();
    let mut faults = Vec::new();
    for (name, records) in document {
        if faults.len() >= MAX_FAULTS {
            break;
        }
        let Some(kind) = ImportResource::ALL.into_iter().find(|k| k.plural() == name) else {
            faults.push(FieldError::new(
                name,
                "unknown resource; expected areas, organizations, posts, people, roles, events or participants",
            ));
            continue;
        };
        let Value::Array(records) = records else {
            faults.push(FieldError::new(name, "must be an array of records"));
            continue;
        };
        for (i, record) in records.into_iter().enumerate() {
            let at = format!("{name}[{i}]");
            match record {
                Value::Object(members) => entries.push(Entry {
                    at,
                    kind,
                    members,
                    line: None,
                    renamed: &[],
                    key: None,
                    id: None,
                }),
                _ if faults.len() >= MAX_FAULTS => break,
                _ => faults.push(FieldError::new(at, "must be an object")),
            }
        }
    }
    if faults.is_empty() {
        Ok(Box::new(entries.into_iter().map(Ok)))
    } else {
        faults.truncate(MAX_FAULTS);
        Err(Error::Validation(faults))
    }
}

/// The records of an NDJSON import: one object a line, naming its `type`.
fn ndjson_entries(bytes: &[u8]) -> Entries<'_> {
    let mut start = 0;
    let lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(move |(index, line)| {
            let at = Line {
                index,
                start,
                end: start + line.len(),
            };
            start = at.end + 1;
            at
        });
    Box::new(lines.filter_map(move |line| ndjson_entry(bytes, line)))
}

/// The record on `line` of an NDJSON body (none on a blank line).
fn ndjson_entry(body: &[u8], line: Line) -> Option<Result<Entry, Vec<FieldError>>> {
    let text = &body[line.start..line.end];
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let at = format!("line {}", line.index + 1);
    let mut members = match parse_document(text) {
        Ok(Value::Object(members)) => members,
        Ok(_) => return Some(Err(vec![FieldError::new(at, "must be a JSON object")])),
        Err(Error::Validation(faults)) => {
            let named = faults
                .into_iter()
                .map(|f| FieldError::new(field(&at, &f.field), f.message));
            return Some(Err(named.collect()));
        }
        Err(err) => return Some(Err(vec![FieldError::new(at, err.to_string())])),
    };
    let kind = match members.remove("type") {
        Some(Value::String(name)) => ImportResource::ALL
            .into_iter()
            .find(|k| k.singular() == name),
        _ => None,
    };
    Some(match kind {
        Some(kind) => Ok(Entry {
            at,
            kind,
            members,
            line: Some(line),
            renamed: &[],
            key: None,
            id: None,
        }),
        None => Err(vec![FieldError::new(
            field(&at, "type"),
            "must be area, organization, post, person, role, event or participant",
        )]),
    })
}

/// The members of `R`'s input, as its schema lists them.
pub fn members_of<R: Resource>() -> Vec<String> {
    use utoipa::openapi::schema::Schema as S;
    let object = match <R::Input as utoipa::PartialSchema>::schema() {
        RefOr::T(S::Object(object)) => Some(object),
        RefOr::T(S::AllOf(all)) => all.items.into_iter().find_map(|item| match item {
            RefOr::T(S::Object(object)) => Some(object),
            _ => None,
        }),
        _ => None,
    };
    object
        .map(|object| object.properties.into_keys().collect())
        .unwrap_or_default()
}

/// The records of a CSV import of `kind` (see [`csv_record`]).
fn csv_entries(bytes: &[u8], kind: ImportResource) -> Result<Entries<'_>, Error> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|err| Error::invalid("line 1", err.to_string()))?
        .clone();
    let members = match kind {
        ImportResource::Areas => members_of::<Areas>(),
        ImportResource::Organizations => members_of::<Organizations>(),
        ImportResource::Posts => members_of::<Posts>(),
        ImportResource::People => members_of::<People>(),
        ImportResource::Roles => members_of::<Roles>(),
        ImportResource::Events => members_of::<Events>(),
        ImportResource::Participants => members_of::<Participants>(),
    };
    let columns: Vec<Column> = headers.iter().map(Column::parse).collect();
    let mut seen = std::collections::HashSet::new();
    let unknown: Vec<FieldError> = headers
        .iter()
        .zip(&columns)
        .filter_map(|(name, column)| {
            let known = column
                .member()
                .is_some_and(|m| members.iter().any(|k| k == m));
            let at = field("line 1", name);
            match column {
                _ if !known => Some(FieldError::new(
                    at,
                    "unknown column; see the CSV conventions of POST /v1/imports",
                )),
                Column::Member(_) if !seen.insert(name) => {
                    Some(FieldError::new(at, "a plain column may be given once"))
                }
                _ => None,
            }
        })
        .take(MAX_FAULTS)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Validation(unknown));
    }
    // The physical line a record starts on (the reader's own count skips
    // blank lines and counts CRLF apart).
    let line_of = move |position: Option<&csv::Position>| {
        let from = position.map_or(0, |p| p.byte() as usize).min(bytes.len());
        // The position may stand on the line breaks before the record.
        let start = from
            + bytes[from..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1
    };
    Ok(Box::new(reader.into_records().map(move |row| match row {
        Ok(row) => Ok(Entry {
            at: format!("line {}", line_of(row.position())),
            kind,
            members: csv_record(&columns, &row),
            line: None,
            renamed: &[],
            key: None,
            id: None,
        }),
        Err(err) => {
            let line = line_of(err.position());
            Err(vec![FieldError::new(
                format!("line {line}"),
                err.to_string(),
            )])
        }
    })))
}

/// A CSV column: a member of the record, or one element of a list member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    /// A plain member, e.g. `name`, `parent_id`, `start_date`.
    Member(String),
    /// `identifier:<scheme>`: an identifier of that scheme.
    Identifier(String),
    /// `other_name:<lang>` (or `other_name`): an other name in that language.
    OtherName(Option<String>),
    /// `other_label:<lang>` (or `other_label`): an other label (of a post)
    /// in that language.
    OtherLabel(Option<String>),
    /// `source`: the URL of a source.
    Source,
    /// `link`: the URL of a link.
    Link,
    /// `contact:<type>`: a contact detail of that type, e.g. `contact:phone`.
    Contact(String),
    Unknown,
}

impl Column {
    /// The header naming the column.
    pub fn header(&self) -> String {
        match self {
            Self::Member(name) => name.clone(),
            Self::Identifier(scheme) => format!("identifier:{scheme}"),
            Self::OtherName(Some(lang)) => format!("other_name:{lang}"),
            Self::OtherName(None) => "other_name".to_owned(),
            Self::OtherLabel(Some(lang)) => format!("other_label:{lang}"),
            Self::OtherLabel(None) => "other_label".to_owned(),
            Self::Source => "source".to_owned(),
            Self::Link => "link".to_owned(),
            Self::Contact(medium) => format!("contact:{medium}"),
            Self::Unknown => String::new(),
        }
    }

    /// The member of the record the column writes.
    fn member(&self) -> Option<&str> {
        match self {
            Self::Member(name) => Some(name),
            Self::Identifier(_) => Some("identifiers"),
            Self::OtherName(_) => Some("other_names"),
            Self::OtherLabel(_) => Some("other_labels"),
            Self::Source => Some("sources"),
            Self::Link => Some("links"),
            Self::Contact(_) => Some("contact_details"),
            Self::Unknown => None,
        }
    }

    /// The column a CSV header names.
    pub fn parse(header: &str) -> Self {
        let header = header.trim();
        match header.split_once(':') {
            Some(("identifier", scheme)) => Self::Identifier(scheme.to_owned()),
            Some(("other_name", lang)) => Self::OtherName(Some(lang.to_owned())),
            Some(("other_label", lang)) => Self::OtherLabel(Some(lang.to_owned())),
            Some(("contact", medium)) => Self::Contact(medium.to_owned()),
            Some(_) => Self::Unknown,
            None => match header {
                "other_name" => Self::OtherName(None),
                "other_label" => Self::OtherLabel(None),
                "source" => Self::Source,
                "link" => Self::Link,
                "" | "identifiers" | "other_names" | "other_labels" | "sources" | "links"
                | "contact_details" => Self::Unknown,
                member => Self::Member(member.to_owned()),
            },
        }
    }
}

/// What starts a formula in a spreadsheet: a cell starting so is written
/// behind a `'` by CSV exports (so that it opens as text), and read back
/// without it.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as written: a `'` that only keeps a spreadsheet from reading it
/// as a formula is dropped.
fn cell_text(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// The members a CSV row writes: a cell of a plain column is that member
/// (unknown members are refused when the record is parsed), a cell of a
/// list column one element of the list; an empty cell writes nothing.
fn csv_record(columns: &[Column], row: &csv::StringRecord) -> Map<String, Value> {
    let mut members = Map::new();
    let mut push = |list: &str, element: Value| {
        let list = members
            .entry(list)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(elements) = list {
            elements.push(element);
        }
    };
    let mut plain = Vec::new();
    for (column, cell) in columns.iter().zip(row.iter()) {
        if cell.is_empty() {
            continue;
        }
        let cell = cell_text(cell);
        match column {
            Column::Member(name) => plain.push((name.clone(), Value::from(cell))),
            Column::Identifier(scheme) => {
                push("identifiers", json!({"scheme": scheme, "value": cell}))
            }
            Column::OtherName(Some(lang)) => {
                push("other_names", json!({"name": cell, "lang": lang}))
            }
            Column::OtherName(None) => push("other_names", json!({"name": cell})),
            Column::OtherLabel(Some(lang)) => {
                push("other_labels", json!({"name": cell, "lang": lang}))
            }
            Column::OtherLabel(None) => push("other_labels", json!({"name": cell})),
            Column::Source => push("sources", json!({"url": cell})),
            Column::Link => push("links", json!({"url": cell})),
            Column::Contact(medium) => {
                push("contact_details", json!({"type": medium, "value": cell}))
            }
            Column::Unknown => {}
        }
    }
    members.extend(plain);
    members
}

/// A record parsed and checked as `R`'s input, with the identifier it is
/// upserted by (its first) and, for participants, its event.
struct Item<R: Resource> {
    at: String,
    input: R::Input,
    identifier: Option<Identifier>,
    /// The record written when no live record carries `identifier` (see
    /// [`Entry::id`]).
    or_id: Option<Uuid>,
    event: Option<Reference>,
    line: Option<Line>,
}

/// `entry` as an [`Item`] of `R`: its faults (named under its place in the
/// file), or the error that stops the import (403 for hidden fields).
fn item<R: Resource>(
    viewer: &Principal,
    entry: Entry,
) -> Result<Result<Item<R>, Vec<FieldError>>, Error> {
    let Entry {
        at,
        mut members,
        line,
        renamed,
        key,
        id: or_id,
        ..
    } = entry;
    let mut faults = Vec::new();
    let event = match (entry.kind, members.remove("event_id")) {
        (ImportResource::Participants, Some(Value::String(text))) => {
            match Reference::deserialize(
                serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&text),
            ) {
                Ok(reference) => Some(reference),
                Err(err) => {
                    faults.push(FieldError::new(field(&at, "event_id"), err.to_string()));
                    None
                }
            }
        }
        (ImportResource::Participants, _) => {
            faults.push(FieldError::new(
                field(&at, "event_id"),
                "required: the event (id or scheme:value)",
            ));
            None
        }
        (_, Some(_)) => {
            faults.push(FieldError::new(field(&at, "event_id"), "unknown field"));
            None
        }
        (_, None) => None,
    };
    match input_of::<R>(viewer, members) {
        Ok(mut input) if faults.is_empty() => {
            let listed = input.identifiers().map(|listed| &listed.0);
            let identifier = match &key {
                Some((scheme, value)) => listed
                    .into_iter()
                    .flatten()
                    .find(|i| i.scheme.as_str() == *scheme && i.value.as_str() == value.as_str()),
                None => listed.and_then(|listed| listed.first()),
            }
            .cloned();
            Ok(Ok(Item {
                at,
                identifier,
                or_id,
                input,
                event,
                line,
            }))
        }
        Ok(_) => Ok(Err(faults)),
        Err(err) => {
            faults.extend(faults_at(&at, err)?);
            Ok(Err(named_as_in_file(&at, renamed, faults)))
        }
    }
}

/// `faults` of the record at `at` naming its members as the file does
/// (`renamed`: this register's name, the file's).
fn named_as_in_file(
    at: &str,
    renamed: &[(&str, &str)],
    faults: Vec<FieldError>,
) -> Vec<FieldError> {
    faults
        .into_iter()
        .map(|mut fault| {
            for (ours, theirs) in renamed {
                let prefix = format!("{at}.{ours}");
                if let Some(rest) = fault.field.strip_prefix(&prefix) {
                    if rest.is_empty() || rest.starts_with(['.', '[']) {
                        fault.field = format!("{at}.{theirs}{rest}");
                    }
                }
            }
            fault
        })
        .collect()
}

/// The records of an import, parsed and checked, by resource.
#[derive(Default)]
struct Batch {
    areas: Vec<Item<Areas>>,
    organizations: Vec<Item<Organizations>>,
    posts: Vec<Item<Posts>>,
    people: Vec<Pending<People>>,
    roles: Vec<Pending<Roles>>,
    events: Vec<Item<Events>>,
    participants: Vec<Pending<Participants>>,
}

/// A record checked and waiting to be written: parsed, or (read from an
/// NDJSON line, so that a large import holds its body and not every record
/// parsed) to be parsed again from its line when it is written.
enum Pending<R: Resource> {
    Parsed(Item<R>),
    Line(Line),
}

impl<R: Resource> From<Item<R>> for Pending<R> {
    fn from(item: Item<R>) -> Self {
        match item.line {
            Some(line) => Self::Line(line),
            None => Self::Parsed(item),
        }
    }
}

impl Batch {
    /// Every entry parsed and checked: the batch, or every fault.
    fn of(viewer: &Principal, entries: Entries<'_>) -> Result<(Self, i32), Error> {
        let mut batch = Self::default();
        let mut faults = Vec::new();
        let mut records = 0i32;
        // Where each identifier of each resource was first given.
        let mut given: HashMap<(ImportResource, String), String> = HashMap::new();
        for entry in entries {
            records = records
                .checked_add(1)
                .ok_or_else(|| Error::invalid("body", "too many records"))?;
            if faults.len() >= MAX_FAULTS {
                break;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(found) => {
                    faults.extend(found);
                    continue;
                }
            };
            let kind = entry.kind;
            macro_rules! sort_into {
                ($list:ident, $R:ty) => {
                    match item::<$R>(viewer, entry)? {
                        Ok(mut item) => {
                            let listed = item.input.identifiers().map(|listed| &listed.0);
                            for identifier in listed.into_iter().flatten() {
                                let key = (kind, identifier.to_string());
                                match given.get(&key) {
                                    Some(first) => faults.push(FieldError::new(
                                        field(&item.at, "identifiers"),
                                        format!("{identifier} is given by {first} too"),
                                    )),
                                    None => {
                                        given.insert(key, item.at.clone());
                                    }
                                }
                            }
                            batch.$list.push(item.into())
                        }
                        Err(found) => faults.extend(found),
                    }
                };
            }
            match entry.kind {
                ImportResource::Areas => sort_into!(areas, Areas),
                ImportResource::Organizations => sort_into!(organizations, Organizations),
                ImportResource::Posts => sort_into!(posts, Posts),
                ImportResource::People => sort_into!(people, People),
                ImportResource::Roles => sort_into!(roles, Roles),
                ImportResource::Events => sort_into!(events, Events),
                ImportResource::Participants => sort_into!(participants, Participants),
            }
            if faults.len() >= MAX_FAULTS {
                break;
            }
        }
        if !faults.is_empty() {
            faults.truncate(MAX_FAULTS);
            return Err(Error::Validation(faults));
        }
        batch.areas = parents_first(
            batch.areas,
            ("parent_id", |i| i.parent_id.as_ref().map(|r| &r.0)),
        )?;
        batch.organizations = parents_first(
            batch.organizations,
            ("parent_id", |i| i.parent_id.as_ref().map(|r| &r.0)),
        )?;
        batch.events = parents_first(
            batch.events,
            ("parent_event_id", |i| {
                i.parent_event_id.as_ref().map(|r| &r.0)
            }),
        )?;
        Ok((batch, records))
    }
}

/// How a record's input names its parent in the file's tree.
type ParentOf<R> = fn(&<R as ResourceTypes>::Input) -> Option<&Reference>;

/// `items` reordered so that each comes after the item of the file its
/// `parent` reference (the member `member`) names by any of its
/// identifiers (a 422 when they form a cycle); otherwise in file order.
fn parents_first<R: Resource>(
    mut items: Vec<Item<R>>,
    (member, parent): (&str, ParentOf<R>),
) -> Result<Vec<Item<R>>, Error> {
    let mut by_identifier: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter_mut().enumerate() {
        let listed = item.input.identifiers().map(|listed| &listed.0);
        for identifier in listed.into_iter().flatten() {
            by_identifier.insert(identifier.to_string(), i);
        }
    }
    let parent_of: Vec<Option<usize>> = items
        .iter()
        .map(|item| match parent(&item.input) {
            Some(Reference::Identifier(identifier)) => {
                by_identifier.get(&identifier.to_string()).copied()
            }
            _ => None,
        })
        .collect();
    // 0: not placed, 1: being placed, 2: placed.
    let mut state = vec![0u8; items.len()];
    let mut order = Vec::with_capacity(items.len());
    for start in 0..items.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at.filter(|&i| state[i] == 0) {
            state[i] = 1;
            path.push(i);
            at = parent_of[i];
        }
        if let Some(i) = at.filter(|&i| state[i] == 1) {
            let at = &items[i].at;
            return Err(Error::invalid(
                field(at, member),
                "the records of the file form a cycle through their parents",
            ));
        }
        for &i in path.iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    let mut slots: Vec<Option<Item<R>>> = items.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// Records of a store that writes many at a time checked and written
/// together.
const BATCH: usize = 500;

/// Writes the items of `R` in order under `author`, counting what each
/// did; a record at fault adds its faults. Where the store writes many
/// records at a time, the new ones go in batches: one query finds which
/// identifiers are taken, one checks the rest are free, one inserts them.
fn write_all<R: Resource>(
    conn: &mut PgConnection,
    author: &Principal,
    mut items: Vec<Item<R>>,
    scope: impl Fn(&mut PgConnection, &Item<R>) -> Result<ScopeOf<R>, Error>,
    counts: &mut Counts,
    faults: &mut Vec<FieldError>,
) -> Result<(), Error> {
    let Some(table) = <R::Store as Crud>::IDENTIFIED.filter(|_| <R::Store as Crud>::BATCHED) else {
        return write_each(conn, author, items, &scope, counts, faults);
    };
    while !items.is_empty() && faults.len() < MAX_FAULTS {
        let rest = items.split_off(items.len().min(BATCH));
        let batch = std::mem::replace(&mut items, rest);
        let pairs: Vec<(&str, &str)> = batch
            .iter()
            .filter_map(|item| item.identifier.as_ref())
            .map(|i| (i.scheme.as_str(), i.value.as_str()))
            .collect();
        let owned = identifiers::owned(conn, table, &pairs)?;
        let named: Vec<Uuid> = batch.iter().filter_map(|item| item.or_id).collect();
        let live = refs::live_ids(conn, table, &named)?;
        let (existing, new): (Vec<_>, Vec<_>) = batch.into_iter().partition(|item| {
            item.or_id.is_some_and(|id| live.contains(&id))
                || item.identifier.as_ref().is_some_and(|i| {
                    owned.contains(&(i.scheme.as_str().to_owned(), i.value.as_str().to_owned()))
                })
        });
        write_each(conn, author, existing, &scope, counts, faults)?;
        create_together(conn, new, &scope, counts, faults)?;
    }
    Ok(())
}

/// Creates the records of `items` (which no live record is known to
/// carry the identifiers of) with one insert; when the store refuses that,
/// one by one, to name the records at fault.
fn create_together<R: Resource>(
    conn: &mut PgConnection,
    items: Vec<Item<R>>,
    scope: &impl Fn(&mut PgConnection, &Item<R>) -> Result<ScopeOf<R>, Error>,
    counts: &mut Counts,
    faults: &mut Vec<FieldError>,
) -> Result<(), Error> {
    let (mut places, mut data) = (Vec::new(), Vec::new());
    for item in items {
        let made = scope(conn, &item).and_then(|scope| {
            let data = to_data::<R>(conn, scope, item.input)?;
            Ok((scope, data))
        });
        match made {
            Ok((scope, one)) => {
                places.push((item.at, scope));
                data.push(one);
            }
            Err(err) => refused(conn, &item.at, err, faults)?,
        }
    }
    match R::create_many(conn, &data) {
        Ok(records) => counts.created += records.len() as u64,
        Err(err) if aborted(conn) => refused(conn, "body", err, faults)?,
        Err(_) => {
            for ((at, scope), one) in places.into_iter().zip(data) {
                match R::create(conn, scope, &one) {
                    Ok(_) => counts.add(Written::Created),
                    Err(err) => refused(conn, &at, err, faults)?,
                }
            }
        }
    }
    Ok(())
}

/// Adds the faults of the record at `at`; when the database refused a
/// statement (the transaction then takes no more), ends the import with
/// every fault found. A record the database refused as a conflict had
/// passed the stores' checks (its identifiers free, what it names live):
/// another write committed the same records meanwhile, e.g. the same file
/// imported twice at once. That is no fault of the file: the import ends
/// with that 409, to be sent again.
fn refused(
    conn: &mut PgConnection,
    at: &str,
    err: Error,
    faults: &mut Vec<FieldError>,
) -> Result<(), Error> {
    let aborted = aborted(conn);
    if let (true, Error::Conflict { detail, conflicts }) = (aborted, &err) {
        return Err(Error::Conflict {
            detail: format!(
                "{at}: {detail}: another write of the same records committed while this import \
                 ran; nothing was written, send the import again"
            ),
            conflicts: conflicts.clone(),
        });
    }
    faults.extend(faults_at(at, err)?);
    if aborted {
        faults.truncate(MAX_FAULTS - 1);
        faults.push(FieldError::new(
            "body",
            "the records after this one were not checked",
        ));
        return Err(Error::Validation(std::mem::take(faults)));
    }
    Ok(())
}

/// Writes the items of `R` one by one, in order, under `author`, counting
/// what each did; a record at fault adds its faults. The stores check
/// before they write, so a record refused by a check has written nothing
/// and the next records are still checked; a refusal by the database
/// itself aborts the transaction, and the records after it go unchecked.
fn write_each<R: Resource>(
    conn: &mut PgConnection,
    author: &Principal,
    items: Vec<Item<R>>,
    scope: &impl Fn(&mut PgConnection, &Item<R>) -> Result<ScopeOf<R>, Error>,
    counts: &mut Counts,
    faults: &mut Vec<FieldError>,
) -> Result<(), Error> {
    for item in items {
        if faults.len() >= MAX_FAULTS {
            break;
        }
        let at = item.at.clone();
        let written = scope(conn, &item).and_then(|scope| match &item.identifier {
            Some(identifier) => upsert_in::<R>(
                conn,
                author,
                (scope, identifier, item.or_id),
                Lock::None,
                VersionCheck::Any,
                item.input,
            )
            .map(|(written, _)| written),
            None => create_in::<R>(conn, scope, item.input).map(|_| Written::Created),
        });
        match written {
            Ok(written) => counts.add(written),
            Err(err) => refused(conn, &at, err, faults)?,
        }
    }
    Ok(())
}

/// Whether the database refused a statement of the transaction, which then
/// takes no more.
fn aborted(conn: &mut PgConnection) -> bool {
    diesel::sql_query("SELECT 1").execute(conn).is_err()
}

/// Writes the `pending` records of `R` in batches, parsing again those read
/// from lines of the NDJSON `body` (each was checked when it was first read).
fn write_pending<R: Resource>(
    conn: &mut PgConnection,
    author: &Principal,
    body: &[u8],
    pending: Vec<Pending<R>>,
    scope: impl Fn(&mut PgConnection, &Item<R>) -> Result<ScopeOf<R>, Error>,
    counts: &mut Counts,
    faults: &mut Vec<FieldError>,
) -> Result<(), Error> {
    let mut pending = pending.into_iter().peekable();
    while pending.peek().is_some() {
        let mut items = Vec::with_capacity(BATCH);
        for one in pending.by_ref().take(BATCH) {
            let item = match one {
                Pending::Parsed(item) => Ok(item),
                Pending::Line(line) => match ndjson_entry(body, line) {
                    Some(Ok(entry)) => item::<R>(author, entry)?,
                    _ => return Err(Error::internal("a checked NDJSON line no longer reads")),
                },
            };
            match item {
                Ok(item) => items.push(item),
                Err(found) => faults.extend(found),
            }
        }
        write_all(conn, author, items, &scope, counts, faults)?;
    }
    Ok(())
}

/// The scope of a top-level record: none.
fn top<R: Resource>(_: &mut PgConnection, _: &Item<R>) -> Result<(), Error> {
    Ok(())
}

/// The event a participant's `event_id` names, live.
fn event_of(conn: &mut PgConnection, item: &Item<Participants>) -> Result<Uuid, Error> {
    let reference = item
        .event
        .as_ref()
        .ok_or_else(|| Error::internal("participant without its event"))?;
    identifiers::live_id(conn, EVENTS, reference).map_err(|err| match err {
        Error::NotFound(message) => Error::invalid("event_id", message),
        other => other,
    })
}

/// Writes `batch` in dependency order: what it did, or every fault.
fn write_batch(
    conn: &mut PgConnection,
    author: &Principal,
    body: &[u8],
    batch: Batch,
) -> Result<Tally, Error> {
    let mut tally = Tally::default();
    let mut faults = Vec::new();
    let areas = tally.of(ImportResource::Areas);
    write_all(conn, author, batch.areas, top, areas, &mut faults)?;
    let organizations = tally.of(ImportResource::Organizations);
    write_all(
        conn,
        author,
        batch.organizations,
        top,
        organizations,
        &mut faults,
    )?;
    let posts = tally.of(ImportResource::Posts);
    write_all(conn, author, batch.posts, top, posts, &mut faults)?;
    let people = tally.of(ImportResource::People);
    write_pending(conn, author, body, batch.people, top, people, &mut faults)?;
    let roles = tally.of(ImportResource::Roles);
    write_pending(conn, author, body, batch.roles, top, roles, &mut faults)?;
    let events = tally.of(ImportResource::Events);
    write_all(conn, author, batch.events, top, events, &mut faults)?;
    let participants = tally.of(ImportResource::Participants);
    write_pending(
        conn,
        author,
        body,
        batch.participants,
        event_of,
        participants,
        &mut faults,
    )?;
    if faults.is_empty() {
        Ok(tally)
    } else {
        faults.truncate(MAX_FAULTS);
        Err(Error::Validation(faults))
    }
}

/// Why the writing transaction ended without committing the records.
enum Stop {
    /// A dry run, with what it would have done.
    DryRun(Box<Tally>),
    Failed(Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(err: diesel::result::Error) -> Self {
        Self::Failed(err.into())
    }
}

crate::operation! {
    post "/v1/imports" in "imports" as "createImport" [
        params(ImportParams),
        request_body(
            description = "The register to import",
            content(
                (ImportFile = "application/json", example = json!({
                    "organizations": [{"name": "Alliance", "kind": "alliance",
                        "identifiers": [{"scheme": "yangpu-alliance", "value": "alliance"}]}],
                    "people": [{"name": "Zhou Haiying",
                        "identifiers": [{"scheme": "yangpu-alliance", "value": "zhou-haiying"}]}],
                    "roles": [{"organization_id": "yangpu-alliance:alliance",
                        "person_id": "yangpu-alliance:zhou-haiying", "title": "Convenor",
                    "identifiers": [{"scheme": "yangpu-alliance", "value": "convenor"}]}]
                })),
                (String = "application/x-ndjson", example = "{\"type\": \"organization\", \"name\": \"Alliance\", \"kind\": \"alliance\"}\n"),
                (String = "text/csv", example = "name,kind,identifier:yangpu-alliance,other_name:zh\r\nAlliance,alliance,alliance,联盟\r\n"),
            )
        ),
        responses(
            (status = 201, description = "Imported (or checked, for a dry run): what was done to each resource", body = Import,
                headers(("Location" = String, description = "URL of the import's record"))),
            CreateErrors,
        )
    ];
    /// Imports a register: areas, organizations, posts, people, roles, events
    /// and participants whose records reference each other by `scheme:value` (or
    /// id), in any order. Written all or nothing by the resources' own rules;
    /// a record with identifiers is upserted by its first one (an unchanged
    /// record keeps its version: no feed entry, no audit row), one without is
    /// created. A 422 names every record and field at fault (`organizations[3].name`,
    /// `line 7.parent_id`), and nothing is written.
    ///
    /// CSV (`?resource=areas|organizations|posts|people|roles`): UTF-8 with
    /// or without a BOM, RFC 4180 quoting, a header row naming the columns:
    /// members by name (`name`, `kind`, `parent_id`, `start_date`, …);
    /// `identifier:<scheme>` for an identifier of that scheme;
    /// `other_name:<lang>` (or `other_name`) for an other name, and
    /// `other_label:<lang>` (or `other_label`) for an other label of a post;
    /// `source` for a source URL; `link` for a link URL; `contact:<type>`
    /// for a contact detail. Empty cells write nothing.
    pub async fn create(
        req: HttpRequest,
        payload: web::Payload,
        pool: web::Data<PgPool>,
        viewer: Principal,
        Query(params): Query<ImportParams>,
    ) -> Result<HttpResponse, Error> {
        let limit = req
            .app_data::<ImportLimit>()
            .ok_or_else(|| Error::internal("no ImportLimit in the app data"))?
            .0;
        let body = read_body_within(
            &req,
            &mut payload.into_inner(),
            ImportFormat::MEDIA_TYPES,
            BodyLimit(limit),
        )
        .await?;
        let format = match (
            ImportFormat::of(req.content_type())
                .ok_or_else(|| Error::internal("an accepted media type without a format"))?,
            params.format,
        ) {
            (ImportFormat::Json, Some(DocumentFormat::Popolo)) => ImportFormat::Popolo,
            (_, Some(DocumentFormat::Popolo)) => {
                return Err(Error::bad_parameter(
                    "format",
                    "a Popolo document is sent as application/json",
                ))
            }
            (format, None) => format,
        };
        let resource = match (format, params.resource) {
            (
                ImportFormat::Csv,
                Some(
                    kind @ (ImportResource::Areas
                    | ImportResource::Organizations
                    | ImportResource::Posts
                    | ImportResource::People
                    | ImportResource::Roles),
                ),
            ) => Some(kind),
            (ImportFormat::Csv, _) => {
                return Err(Error::bad_parameter(
                    "resource",
                    "CSV imports name their resource: areas, organizations, posts, people or roles",
                ))
            }
            (_, Some(_)) => {
                return Err(Error::bad_parameter(
                    "resource",
                    "only CSV imports name a resource; JSON and NDJSON records name their own",
                ))
            }
            (_, None) => None,
        };
        let dry_run = params.dry_run.unwrap_or(false);
        // Parsing and checking cost CPU: off the async workers, before a
        // connection is taken.
        let author = viewer.clone();
        // A byte order mark starts no record, whatever the format.
        let body = match body.strip_prefix("\u{feff}".as_bytes()) {
            Some(_) => body.slice(3..),
            None => body,
        };
        let source = body.clone();
        let (batch, records, author) = tokio::task::spawn_blocking(move || {
            let body = &body[..];
            let (entries, author) = match (format, resource) {
                (ImportFormat::Json, _) => (json_entries(body)?, author),
                (ImportFormat::Popolo, _) => {
                    let (entries, withheld) = crate::api::popolo::entries(body)?;
                    // What the exporting key could not see is not cleared:
                    // written as by a key that cannot see it either.
                    (entries, if withheld { author.without(Scope::Pii) } else { author })
                }
                (ImportFormat::Ndjson, _) => (ndjson_entries(body), author),
                (ImportFormat::Csv, Some(kind)) => (csv_entries(body, kind)?, author),
                (ImportFormat::Csv, None) => return Err(Error::internal("CSV without a resource")),
            };
            let (batch, records) = Batch::of(&author, entries)?;
            Ok::<_, Error>((batch, records, author))
        })
        .await
        .map_err(Error::internal)??;
        let record = db::transaction(&pool, Some(viewer.key_id), move |conn| {
            let written = conn.transaction(|conn| match write_batch(conn, &author, &source, batch) {
                Ok(tally) if dry_run => Err(Stop::DryRun(Box::new(tally))),
                Ok(tally) => Ok(tally),
                Err(err) => Err(Stop::Failed(err)),
            });
            let counts = match written {
                Ok(tally) => tally,
                Err(Stop::DryRun(tally)) => *tally,
                Err(Stop::Failed(err)) => return Err(err),
            };
            store::insert(
                conn,
                &ImportRecord {
                    id: Uuid::now_v7(),
                    key_id: author.key_id,
                    created_at: Utc::now(),
                    dry_run,
                    format: format.as_str().to_owned(),
                    records,
                    counts: serde_json::to_value(counts).map_err(Error::internal)?,
                },
            )
        })
        .await?;
        let import = Import::try_from(record)?;
        Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/v1/imports/{}", import.id)))
            .json(import))
    }
}

crate::operation! {
    get "/v1/imports/{id}" in "imports" as "getImport" [
        params(("id" = Uuid, Path, description = "Import id")),
        responses(
            (status = 200, description = "The import", body = Import),
            ReadErrors,
        )
    ];
    /// Gets the record of an import: who sent it, when, and what it did.
    pub async fn get(pool: web::Data<PgPool>, id: web::Path<Uuid>) -> Result<HttpResponse, Error> {
        let id = *id;
        let record = db::run(&pool, move |conn| store::find(conn, id)).await?;
        Ok(HttpResponse::Ok().json(Import::try_from(record)?))
    }
}

crate::routes! {
    Write => create,
    Write => get,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_headers_name_members_and_list_elements() {
        assert_eq!(Column::parse("name"), Column::Member("name".into()));
        assert_eq!(
            Column::parse("identifier:district-hr"),
            Column::Identifier("district-hr".into())
        );
        assert_eq!(
            Column::parse("other_name:zh"),
            Column::OtherName(Some("zh".into()))
        );
        assert_eq!(Column::parse("other_name"), Column::OtherName(None));
        assert_eq!(
            Column::parse("other_label:zh"),
            Column::OtherLabel(Some("zh".into()))
        );
        assert_eq!(Column::parse("other_labels"), Column::Unknown);
        assert_eq!(
            Column::parse("contact:phone"),
            Column::Contact("phone".into())
        );
        assert_eq!(Column::parse("source"), Column::Source);
        assert_eq!(Column::parse("link"), Column::Link);
        assert_eq!(Column::parse("nickname:x"), Column::Unknown);
        assert_eq!(Column::parse("identifiers"), Column::Unknown);
    }

    #[test]
    fn faults_are_named_under_their_record() {
        assert_eq!(field("people[2]", "name"), "people[2].name");
        assert_eq!(
            field("line 4", "other_names[0].lang"),
            "line 4.other_names[0].lang"
        );
        assert_eq!(field("line 4", "[0]"), "line 4[0]");
        assert_eq!(field("line 4", "body"), "line 4");
    }
}
