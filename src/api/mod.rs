//! The HTTP API: handlers, their request and response types, the routes and
//! the OpenAPI document generated from them.

pub mod api_keys;
pub mod areas;
pub mod audit;
pub mod changes;
pub mod common;
pub mod cursor;
pub mod events;
pub mod exports;
pub mod extract;
pub mod health;
pub mod holders;
pub mod idempotency;
pub mod import_entries;
pub mod imports;
pub mod input;
pub mod organizations;
pub mod pagination;
pub mod participants;
pub mod people;
pub mod popolo;
pub mod positions;
pub mod posts;
pub mod preconditions;
pub mod problems;
pub mod resource;
pub mod roles;
pub mod routes;
pub mod schemas;
pub mod withheld;

use crate::error::{ConflictingRecord, Error, FieldError, Problem};
use actix_web::{web, HttpRequest};
use problems::Security;
use routes::Route;
use std::sync::LazyLock;
use utoipa::{Modify, OpenApi};

/// The OpenAPI document of the service (committed as `openapi/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alliance Registry API",
        description = "The register of an alliance of organizations: its member units, the people \
in them, the posts (roles) they hold and the events the alliance runs.\n\n\
Every `/v1` operation needs `Authorization: Bearer <token>` of an API key with the scope \
the operation names. Errors are RFC 9457 problem documents (`application/problem+json`). Records carry a `version`; \
its ETag enables conditional reads (`If-None-Match`) and optimistic concurrency \
(`If-Match`). Lists are keyset-paginated: follow `next_cursor` or the `Link` header.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
        contact(name = "Alliance Registry maintainers"),
    ),
    servers((
        url = "/",
        description = "The server this document is served from (`/openapi.json`): paths are \
relative to its origin. Clients reading the committed copy set the base URL of their deployment."
    )),
    components(schemas(
        Problem,
        FieldError,
        ConflictingRecord,
        crate::store::NameSort,
        crate::store::CreatedSort,
        crate::store::posts::LabelSort,
        crate::store::events::EventSort,
        crate::store::participants::ParticipantRole,
        crate::store::events::EventKind,
        crate::store::events::EventStatus,
        crate::store::api_keys::Scope,
        crate::store::journal::JournalSort,
        audit::AuditEntityType,
        changes::FeedEntityType,
        imports::ImportResource,
        imports::ImportFile,
        imports::DocumentFormat,
        exports::ExportFormat,
    )),
    tags(
        (name = "organizations", description = "The alliance, its member units, their party organizations and the bodies around them"),
        (name = "people", description = "Officials and members"),
        (name = "roles", description = "Who holds which post in which organization, and which organizations are members of another"),
        (name = "areas", description = "The places the register's bodies serve (a city, its districts and streets), in a tree"),
        (name = "posts", description = "Positions in an organization that exist whoever holds them, optionally for an area, and who holds them"),
        (name = "events", description = "Seminars, their sessions, joint meetings and themed activities, with their participants"),
        (name = "api-keys", description = "The keys clients authenticate with (admin scope)"),
        (name = "audit", description = "Every change: when, by which key, which fields (admin scope)"),
        (name = "changes", description = "The change feed for syncing systems: every committed change exactly once, each after the changes it depends on"),
        (name = "imports", description = "A whole register in one request: JSON, NDJSON or CSV, all or nothing, re-runnable"),
        (name = "health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

/// Rules of request bodies that the derived schemas cannot state: "exactly
/// one of" two references (as `oneOf` of the two non-null choices beside
/// the object), how an event is dated, and identifiers listed at most once
/// (`uniqueItems`).
struct BodyRules;

/// How an event is dated (the rules of `Events::rules`, as JSON Schema
/// beside the event's object): not both `starts_at` and `start_date`; one
/// of them unless the event is `planned` (the default) or `recurring`; an
/// end only with its start.
fn event_dating() -> Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>> {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let given = |member: &str| {
        ObjectBuilder::new()
            .required(member)
            .property(member, ObjectBuilder::new().schema_type(Type::String))
    };
    let none = |member: &str| {
        ObjectBuilder::new().property(member, ObjectBuilder::new().schema_type(Type::Null))
    };
    let undated = ObjectBuilder::new().property(
        "status",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(
                crate::store::events::EventStatus::UNDATED.map(|s| s.as_str()),
            )),
    );
    [
        AnyOfBuilder::new()
            .item(none("starts_at"))
            .item(none("start_date")),
        AnyOfBuilder::new()
            .item(given("starts_at"))
            .item(given("start_date"))
            .item(undated),
        AnyOfBuilder::new()
            .item(none("ends_at"))
            .item(given("starts_at")),
        AnyOfBuilder::new()
            .item(none("end_date"))
            .item(given("start_date")),
    ]
    .into_iter()
    .map(Into::into)
    .collect()
}

/// Input schemas whose two references exactly one must be given.
const EXACTLY_ONE: &[(&str, [&str; 2])] = &[
    ("RoleInput", ["person_id", "member_organization_id"]),
    ("ParticipantInput", ["person_id", "organization_id"]),
];

impl utoipa::Modify for BodyRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema, Type},
            RefOr,
        };
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::Object(object)) = schema else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(identifiers))) =
                object.properties.get_mut("identifiers")
            {
                identifiers.unique_items = true;
            }
        }
        if let Some(event) = components.schemas.remove("EventInput") {
            let rules = event_dating().into_iter();
            components.schemas.insert(
                "EventInput".to_owned(),
                rules
                    .fold(AllOfBuilder::new().item(event), |all, rule| all.item(rule))
                    .into(),
            );
        }
        for (name, fields) in EXACTLY_ONE {
            let Some(object) = components.schemas.remove(*name) else {
                continue;
            };
            let choices: Schema = fields
                .iter()
                .fold(OneOfBuilder::new(), |choices, field| {
                    choices.item(
                        ObjectBuilder::new()
                            .required(*field)
                            .property(*field, ObjectBuilder::new().schema_type(Type::String)),
                    )
                })
                .into();
            components.schemas.insert(
                (*name).to_owned(),
                AllOfBuilder::new()
                    .item(object)
                    .item(choices.clone())
                    .into(),
            );
            // The import's participants are the participant input with their
            // event: the same rule holds for them.
            if *name == "ParticipantInput" {
                let participants =
                    components
                        .schemas
                        .get_mut("ImportFile")
                        .and_then(|file| match file {
                            RefOr::T(Schema::Object(file)) => {
                                file.properties.get_mut("participants")
                            }
                            _ => None,
                        });
                if let Some(RefOr::T(Schema::Array(list))) = participants {
                    if let utoipa::openapi::schema::ArrayItems::RefOrSchema(item) = &mut list.items
                    {
                        let plain = std::mem::replace(item.as_mut(), RefOr::T(Schema::default()));
                        **item = AllOfBuilder::new().item(plain).item(choices).into();
                    }
                }
            }
        }
    }
}

/// The OpenAPI document: [`ApiDoc`] with every route's operation.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for route in ROUTES.iter() {
        doc.merge(route.doc());
    }
    Security.modify(&mut doc);
    BodyRules.modify(&mut doc);
    doc
}

/// The OpenAPI document as pretty-printed JSON with a final newline.
pub fn openapi_json() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// Every route of the service, resource by resource, each declared once
/// in its module (see [`routes`]).
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    [
        health::routes(),
        organizations::routes(),
        people::routes(),
        roles::routes(),
        areas::routes(),
        posts::routes(),
        holders::routes(),
        events::routes(),
        participants::routes(),
        api_keys::routes(),
        audit::routes(),
        changes::routes(),
        imports::routes(),
        // Before `/v1/exports/{resource}`, which would take `popolo` for a resource.
        popolo::routes(),
        exports::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::register(cfg, &ROUTES);
}

/// Fallback for paths no route serves.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound(format!("no resource at {}", req.path())))
}
