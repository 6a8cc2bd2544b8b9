//! `/v1/exports`: every live record of a resource, or the whole register,
//! in the import format — streamed page by page, so memory stays flat
//! however large the register is.
//!
//! A record is written as its input (what a PUT would send), members
//! without a value left out, and references by the referenced record's
//! identifier where it has one (else by id): an export imported into an
//! empty register and exported again gives the same bytes.

use crate::api::areas::Areas;
use crate::api::events::Events;
use crate::api::extract::Query;
use crate::api::imports::{members_of, Column, ImportResource, FORMULA_STARTS};
use crate::api::input::Input;
use crate::api::organizations::Organizations;
use crate::api::participants::Participants;
use crate::api::people::People;
use crate::api::posts::Posts;
use crate::api::problems::ReadErrors;
use crate::api::resource::{RecordOf, Resource, ResourceTypes};
use crate::api::roles::Roles;
use crate::db::replica::{self, Reads};
use crate::error::Error;
use crate::store::api_keys::{Principal, Scope};
use crate::store::areas::{self, AreaFilter};
use crate::store::events::{self, EventFilter, EventSort};
use crate::store::identifiers;
use crate::store::organizations::{self, OrganizationFilter};
use crate::store::participants::{self, ParticipantRow};
use crate::store::people::{self, PersonFilter};
use crate::store::posts::{self, LabelSort, PostFilter};
use crate::store::refs::{Table, AREAS, EVENTS, ORGANIZATIONS, PEOPLE, POSTS};
use crate::store::roles::{self, RoleFilter};
use crate::store::{After, CreatedSort, Keyset, NameSort, SortKey};
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use diesel::pg::PgConnection;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use utoipa::IntoParams;
use uuid::Uuid;

/// Records read per page of an export.
const PAGE: i64 = 500;

/// What can be exported: one resource, or the whole register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Export {
    One(ImportResource),
    /// Every resource, in the order an import writes them.
    Register(Register),
}

/// The whole register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Register,
}

impl Export {
    fn name(self) -> &'static str {
        match self {
            Self::One(resource) => resource.plural(),
            Self::Register(_) => "register",
        }
    }

    /// The resources it holds, in order.
    fn resources(self) -> Vec<ImportResource> {
        match self {
            Self::One(resource) => vec![resource],
            Self::Register(_) => ImportResource::ALL.to_vec(),
        }
    }
}

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One record a line, `{"type": "person", ...}`: what `POST
    /// /v1/imports` takes as `application/x-ndjson`.
    #[default]
    Ndjson,
    /// What `POST /v1/imports?resource=` takes as `text/csv` (areas,
    /// organizations, posts, people and roles): UTF-8 with a BOM, CRLF, a
    /// header row (see the import's column conventions). Notes of other
    /// names, other labels and sources and labels of contact details are
    /// left out.
    Csv,
}

/// Query parameters of the exports.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The format (default `ndjson`).
    format: Option<ExportFormat>,
}

/// A record's references: its members naming other records, with their
/// tables.
fn references(resource: ImportResource) -> &'static [(&'static str, Table)] {
    match resource {
        ImportResource::Areas => &[("parent_id", AREAS)],
        ImportResource::Organizations => &[("parent_id", ORGANIZATIONS), ("area_id", AREAS)],
        ImportResource::Posts => &[("organization_id", ORGANIZATIONS), ("area_id", AREAS)],
        ImportResource::People => &[],
        ImportResource::Roles => &[
            ("organization_id", ORGANIZATIONS),
            ("person_id", PEOPLE),
            ("member_organization_id", ORGANIZATIONS),
            ("on_behalf_of_id", ORGANIZATIONS),
            ("post_id", POSTS),
        ],
        ImportResource::Events => &[("parent_event_id", EVENTS)],
        ImportResource::Participants => &[
            ("event_id", EVENTS),
            ("person_id", PEOPLE),
            ("organization_id", ORGANIZATIONS),
            ("on_behalf_of_id", ORGANIZATIONS),
        ],
    }
}

/// `records` as import lines for `viewer` (members hidden from it left
/// out: `from_data` only spares them its checks), references by identifier where the record referred to has one.
fn lines<R: Resource>(
    conn: &mut PgConnection,
    viewer: &Principal,
    resource: ImportResource,
    records: &[RecordOf<R>],
    scope: impl Fn(&RecordOf<R>) -> Option<Uuid>,
) -> Result<Vec<Map<String, Value>>, Error> {
    let mut objects = Vec::with_capacity(records.len());
    for record in records {
        let mut line = Map::new();
        line.insert("type".into(), resource.singular().into());
        if let Some(event) = scope(record) {
            line.insert("event_id".into(), event.to_string().into());
        }
        line.extend(input_members::<R>(viewer, record)?);
        objects.push(line);
    }
    for &(member, table) in references(resource) {
        let ids: HashSet<Uuid> = objects
            .iter()
            .filter_map(|line| line.get(member)?.as_str()?.parse().ok())
            .collect();
        let ids: Vec<Uuid> = ids.into_iter().collect();
        let names = identifiers::names_of(conn, table, &ids)?;
        for line in &mut objects {
            let named = line
                .get(member)
                .and_then(Value::as_str)
                .and_then(|id| id.parse::<Uuid>().ok())
                .and_then(|id| names.get(&id));
            if let Some(name) = named {
                line.insert(member.into(), name.clone().into());
            }
        }
    }
    Ok(objects)
}

/// The members of `record`'s input (what a PUT would send) that `viewer`
/// sees and that have a value (no `null`, no empty list); references by
/// id.
pub fn input_members<R: Resource>(
    viewer: &Principal,
    record: &RecordOf<R>,
) -> Result<Map<String, Value>, Error> {
    let hides = R::hides(viewer);
    let unseen = |field: &str| hides && R::is_hidden(field);
    let input = <R as ResourceTypes>::Input::from_data(R::data(record), &unseen)?;
    let Value::Object(members) = serde_json::to_value(input).map_err(Error::internal)? else {
        return Err(Error::internal("an input that is not an object"));
    };
    Ok(members
        .into_iter()
        .filter(|(member, value)| match value {
            _ if unseen(member) => false,
            Value::Null => false,
            Value::Array(items) => !items.is_empty(),
            _ => true,
        })
        .collect())
}

/// How exported records are written.
enum Shape {
    /// One JSON object a line.
    Ndjson,
    /// A CSV row a record under these columns (see [`Column`]), CRLF.
    Csv(Vec<Column>),
}

impl Shape {
    fn write(&self, lines: Vec<Map<String, Value>>) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        match self {
            Self::Ndjson => {
                for line in lines {
                    serde_json::to_writer(&mut out, &line).map_err(Error::internal)?;
                    out.push(b'\n');
                }
            }
            Self::Csv(columns) => {
                let mut writer = csv_writer(&mut out);
                for line in lines {
                    writer
                        .write_record(csv_row(columns, line))
                        .map_err(Error::internal)?;
                }
                writer.flush().map_err(Error::internal)?;
            }
        }
        Ok(out)
    }
}

fn csv_writer<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// A record's cells under `columns`: plain members as text, the elements
/// of its lists each under the next column of its kind.
fn csv_row(columns: &[Column], mut line: Map<String, Value>) -> Vec<String> {
    let mut elements: HashMap<Column, VecDeque<String>> = HashMap::new();
    let text =
        |value: &Value, member: &str| value.get(member).and_then(Value::as_str).map(str::to_owned);
    let mut list = |member: &str, column: &dyn Fn(&Value) -> Option<Column>, cell: &str| {
        if let Some(Value::Array(items)) = line.remove(member) {
            for item in items {
                if let (Some(column), Some(cell)) = (column(&item), text(&item, cell)) {
                    elements.entry(column).or_default().push_back(cell);
                }
            }
        }
    };
    list(
        "identifiers",
        &|i| Some(Column::Identifier(text(i, "scheme")?)),
        "value",
    );
    list(
        "other_names",
        &|i| Some(Column::OtherName(text(i, "lang"))),
        "name",
    );
    list(
        "other_labels",
        &|i| Some(Column::OtherLabel(text(i, "lang"))),
        "name",
    );
    list("sources", &|_| Some(Column::Source), "url");
    list("links", &|_| Some(Column::Link), "url");
    list(
        "contact_details",
        &|i| Some(Column::Contact(text(i, "type")?)),
        "value",
    );
    columns
        .iter()
        .map(|column| match column {
            Column::Member(name) => match line.get(name) {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            },
            other => elements
                .get_mut(other)
                .and_then(VecDeque::pop_front)
                .unwrap_or_default(),
        })
        .map(|cell| match cell.starts_with(FORMULA_STARTS) {
            true => format!("'{cell}"),
            false => cell,
        })
        .collect()
}

/// The column a list element of a key goes under.
type ColumnOf = fn(Option<String>) -> Option<Column>;

#[derive(QueryableByName)]
struct Repeat {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Integer)]
    most: i32,
}

/// The members of `R`'s input that `viewer` sees.
fn seen_members<R: Resource>(viewer: &Principal) -> Vec<String> {
    let hides = R::hides(viewer);
    let mut members = members_of::<R>();
    members.retain(|member| !(hides && R::is_hidden(member)));
    members
}

/// The CSV columns of `resource` as `viewer` exports it: its plain
/// members, then each list element kind as often as one live record has
/// it (`identifier:<scheme>`, `other_name:<lang>`, `other_label:<lang>`,
/// `source`, `link`, `contact:<type>`).
fn csv_columns(
    conn: &mut PgConnection,
    viewer: &Principal,
    resource: ImportResource,
) -> Result<Vec<Column>, Error> {
    let (table, members) = match resource {
        ImportResource::Areas => ("areas", seen_members::<Areas>(viewer)),
        ImportResource::Organizations => ("organizations", seen_members::<Organizations>(viewer)),
        ImportResource::Posts => ("posts", seen_members::<Posts>(viewer)),
        ImportResource::People => ("people", seen_members::<People>(viewer)),
        ImportResource::Roles => ("roles", seen_members::<Roles>(viewer)),
        _ => {
            return Err(Error::bad_parameter(
                "format",
                "CSV exports are of areas, organizations, posts, people or roles",
            ))
        }
    };
    let mut columns: Vec<Column> = members
        .iter()
        .map(|member| Column::parse(member))
        .filter(|column| matches!(column, Column::Member(_)))
        .collect();
    let lists: [(&str, &str, ColumnOf); 6] = [
        ("identifiers", "scheme", |key| key.map(Column::Identifier)),
        ("other_names", "lang", |key| Some(Column::OtherName(key))),
        ("other_labels", "lang", |key| Some(Column::OtherLabel(key))),
        ("sources", "-", |_| Some(Column::Source)),
        ("links", "-", |_| Some(Column::Link)),
        ("contact_details", "type", |key| key.map(Column::Contact)),
    ];
    for (list, key, column) in lists {
        if !members.iter().any(|m| m == list) {
            continue;
        }
        let repeats: Vec<Repeat> = diesel::sql_query(format!(
            "SELECT key, max(n)::int AS most FROM (\
               SELECT t.id, e ->> '{key}' AS key, count(*) AS n \
                 FROM {table} t, jsonb_array_elements(t.{list}) e \
                WHERE t.deleted_at IS NULL GROUP BY t.id, key) c \
             GROUP BY key ORDER BY key NULLS FIRST"
        ))
        .load(conn)?;
        for repeat in repeats {
            if let Some(column) = column(repeat.key) {
                columns.extend(std::iter::repeat_n(column, repeat.most as usize));
            }
        }
    }
    Ok(columns)
}

/// One page of the live records of `resource` after `after`, as import
/// lines, with the position of its last record (none at the end).
fn page(
    conn: &mut PgConnection,
    viewer: &Principal,
    (resource, shape): (ImportResource, &Shape),
    after: Option<&After>,
) -> Result<(Vec<u8>, Option<After>), Error> {
    macro_rules! page_of {
        ($R:ty, $sort:expr, $scope:expr, |$keyset:ident| $rows:expr) => {{
            let $keyset = Keyset {
                sort: $sort,
                after,
                limit: PAGE,
            };
            let rows = $rows?;
            let last = rows.last().filter(|_| rows.len() as i64 == PAGE);
            let next = last.map(|row| $sort.key(row));
            (
                shape.write(lines::<$R>(conn, viewer, resource, &rows, $scope)?)?,
                next,
            )
        }};
    }
    Ok(match resource {
        ImportResource::Areas => {
            let filter = AreaFilter::default();
            page_of!(Areas, NameSort::CreatedAt, |_| None, |k| areas::list(
                conn, &filter, k
            ))
        }
        ImportResource::Posts => {
            let filter = PostFilter::default();
            page_of!(Posts, LabelSort::CreatedAt, |_| None, |k| posts::list(
                conn, &filter, k
            ))
        }
        ImportResource::Organizations => {
            let filter = OrganizationFilter::default();
            page_of!(Organizations, NameSort::CreatedAt, |_| None, |k| {
                organizations::list(conn, &filter, k)
            })
        }
        ImportResource::People => {
            let filter = PersonFilter {
                with_pii: viewer.has(Scope::Pii),
                ..Default::default()
            };
            page_of!(People, NameSort::CreatedAt, |_| None, |k| people::list(
                conn, &filter, k
            ))
        }
        ImportResource::Roles => {
            let filter = RoleFilter::default();
            page_of!(Roles, CreatedSort::CreatedAt, |_| None, |k| roles::list(
                conn, &filter, k
            ))
        }
        ImportResource::Events => {
            let filter = EventFilter::default();
            page_of!(Events, EventSort::CreatedAt, |_| None, |k| events::list(
                conn, &filter, k
            ))
        }
        ImportResource::Participants => {
            let event = |row: &ParticipantRow| Some(row.record.data.event_id);
            page_of!(Participants, CreatedSort::CreatedAt, event, |k| {
                participants::all(conn, k)
            })
        }
    })
}

crate::operation! {
    get "/v1/exports/{resource}" in "imports" as "exportRecords" [
        params(
            ("resource" = String, Path, description = "What to export",
                pattern = "^(areas|organizations|posts|people|roles|events|participants|register)$"),
            ExportParams,
        ),
        responses(
            (status = 200, description = "The records, streamed (chunked)",
                content((String = "application/x-ndjson"), (String = "text/csv")),
                headers(("Content-Disposition" = String, description = "`attachment` with a file name, e.g. `people.ndjson` or `people.csv`"))),
            ReadErrors,
        )
    ];
    /// Streams every live record of a resource (or, as `register`, of every
    /// resource in dependency order) in the import format, importable as is:
    /// NDJSON, one record a line, or (areas, organizations, posts, people,
    /// roles) CSV that opens in a spreadsheet. Personal data only with the `pii` scope.
    pub async fn export(
        reads: Reads,
        viewer: Principal,
        resource: web::Path<String>,
        Query(params): Query<ExportParams>,
    ) -> Result<HttpResponse, Error> {
        let export = Export::deserialize(serde::de::value::StrDeserializer::<
            serde::de::value::Error,
        >::new(&resource))
        .map_err(|_| {
            Error::NotFound(format!(
                "no export {:?}; exports: areas, organizations, posts, people, roles, events, participants, register",
                resource.as_str()
            ))
        })?;
        let format = params.format.unwrap_or_default();
        // The first page is read before answering, so that a database fault
        // then is an error response rather than a cut stream.
        let mut pending = export.resources().into_iter();
        let first = pending
            .next()
            .ok_or_else(|| Error::internal("an export of nothing"))?;
        let reader = viewer.clone();
        let (shape, head, after) = replica::read(&reads, move |conn| {
            let (shape, mut head) = match (format, export) {
                (ExportFormat::Ndjson, _) => (Shape::Ndjson, Vec::new()),
                (ExportFormat::Csv, Export::One(resource)) => {
                    let columns = csv_columns(conn, &reader, resource)?;
                    let mut head = "\u{feff}".as_bytes().to_vec();
                    let mut writer = csv_writer(&mut head);
                    writer
                        .write_record(columns.iter().map(Column::header))
                        .map_err(Error::internal)?;
                    writer.flush().map_err(Error::internal)?;
                    drop(writer);
                    (Shape::Csv(columns), head)
                }
                (ExportFormat::Csv, Export::Register(_)) => {
                    return Err(Error::bad_parameter(
                        "format",
                        "the register is exported as NDJSON; CSV exports are of one resource",
                    ))
                }
            };
            let (rows, after) = page(conn, &reader, (first, &shape), None)?;
            head.extend(rows);
            Ok((shape, head, after))
        })
        .await?;
        let shape = std::sync::Arc::new(shape);
        let current = match after {
            Some(_) => Some(first),
            None => pending.next(),
        };
        let state = (reads, viewer, current, pending, after, shape);
        let rest = futures_util::stream::try_unfold(
            state,
            |(reads, viewer, current, mut pending, after, shape)| async move {
                let Some(resource) = current else {
                    return Ok(None);
                };
                let (reader, written) = (viewer.clone(), shape.clone());
                let (bytes, next) = replica::read(&reads, move |conn| {
                    page(conn, &reader, (resource, &written), after.as_ref())
                })
                .await?;
                let current = match next {
                    Some(_) => Some(resource),
                    None => pending.next(),
                };
                Ok::<_, Error>(Some((
                    Bytes::from(bytes),
                    (reads, viewer, current, pending, next, shape),
                )))
            },
        );
        let stream = futures_util::stream::once(std::future::ready(Ok(Bytes::from(head)))).chain(rest);
        let (extension, media_type) = match format {
            ExportFormat::Ndjson => ("ndjson", "application/x-ndjson"),
            ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        };
        let file = format!("{}.{extension}", export.name());
        Ok(HttpResponse::Ok()
            .content_type(media_type)
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(file)],
            })
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .streaming(stream))
    }
}

crate::routes! {
    Read => export from replica,
}
