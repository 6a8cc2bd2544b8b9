//! The HTTP API: handlers, their request and response types, the routes and
//! the OpenAPI document generated from them.

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod common;
pub mod events;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod merge_patch;
pub mod organizations;
pub mod pagination;
pub mod participants;
pub mod people;
pub mod preconditions;
pub mod problems;
pub mod resource;
pub mod roles;
pub mod validation;

use crate::error::{ConflictingRecord, Error, FieldError, Problem};
use actix_web::{middleware::from_fn, web, HttpRequest};
use problems::Security;
use utoipa::OpenApi;

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
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        health::live,
        health::ready,
        organizations::list,
        organizations::create,
        organizations::get,
        organizations::replace,
        organizations::update,
        organizations::delete,
        organizations::list_children,
        organizations::upsert,
        roles::members,
        people::list,
        people::create,
        people::get,
        people::replace,
        people::update,
        people::delete,
        people::upsert,
        roles::held_by,
        roles::list,
        roles::create,
        roles::get,
        roles::replace,
        roles::update,
        roles::delete,
        roles::upsert,
        events::list,
        events::create,
        events::get,
        events::replace,
        events::update,
        events::delete,
        events::upsert,
        participants::list,
        participants::create,
        participants::get,
        participants::replace,
        participants::update,
        participants::delete,
        api_keys::list,
        api_keys::create,
        api_keys::get,
        api_keys::revoke,
        audit::list,
        changes::list,
    ),
    components(schemas(
        Problem,
        FieldError,
        ConflictingRecord,
        crate::store::NameSort,
        crate::store::CreatedSort,
        crate::store::events::EventSort,
        crate::store::participants::ParticipantRole,
        crate::store::events::EventKind,
        crate::store::events::EventStatus,
        crate::store::api_keys::Scope,
        crate::store::journal::JournalSort,
        audit::AuditEntityType,
        changes::FeedEntityType,
    )),
    modifiers(&Security),
    tags(
        (name = "organizations", description = "The alliance, its member units, their party organizations and the bodies around them"),
        (name = "people", description = "Officials and members"),
        (name = "roles", description = "Who holds which post in which organization, and which organizations are members of another"),
        (name = "events", description = "Seminars, their sessions, joint meetings and themed activities, with their participants"),
        (name = "api-keys", description = "The keys clients authenticate with (admin scope)"),
        (name = "audit", description = "Every change: when, by which key, which fields (admin scope)"),
        (name = "changes", description = "The change feed for syncing systems: every committed change, once, in commit order"),
        (name = "health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as pretty-printed JSON with a final newline.
pub fn openapi_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// Registers every API route: the probes, and the register under `/v1`
/// behind API-key authentication.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(health::live)))
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(
            web::scope("/v1")
                .wrap(from_fn(crate::auth::middleware))
                .service(
                    web::resource("/organizations")
                        .route(web::get().to(organizations::list))
                        .route(web::post().to(organizations::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/organizations/by-identifier/{scheme}/{value}")
                        .route(web::put().to(organizations::upsert))
                        .default_service(web::to(|| method_not_allowed("PUT"))),
                )
                .service(
                    web::resource("/organizations/{id}")
                        .route(web::get().to(organizations::get))
                        .route(web::put().to(organizations::replace))
                        .route(web::patch().to(organizations::update))
                        .route(web::delete().to(organizations::delete))
                        .default_service(web::to(|| method_not_allowed(ONE_RECORD))),
                )
                .service(
                    web::resource("/organizations/{id}/children")
                        .route(web::get().to(organizations::list_children))
                        .default_service(web::to(|| method_not_allowed("GET"))),
                )
                .service(
                    web::resource("/organizations/{id}/members")
                        .route(web::get().to(roles::members))
                        .default_service(web::to(|| method_not_allowed("GET"))),
                )
                .service(
                    web::resource("/people")
                        .route(web::get().to(people::list))
                        .route(web::post().to(people::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/people/by-identifier/{scheme}/{value}")
                        .route(web::put().to(people::upsert))
                        .default_service(web::to(|| method_not_allowed("PUT"))),
                )
                .service(
                    web::resource("/people/{id}")
                        .route(web::get().to(people::get))
                        .route(web::put().to(people::replace))
                        .route(web::patch().to(people::update))
                        .route(web::delete().to(people::delete))
                        .default_service(web::to(|| method_not_allowed(ONE_RECORD))),
                )
                .service(
                    web::resource("/people/{id}/roles")
                        .route(web::get().to(roles::held_by))
                        .default_service(web::to(|| method_not_allowed("GET"))),
                )
                .service(
                    web::resource("/roles")
                        .route(web::get().to(roles::list))
                        .route(web::post().to(roles::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/roles/by-identifier/{scheme}/{value}")
                        .route(web::put().to(roles::upsert))
                        .default_service(web::to(|| method_not_allowed("PUT"))),
                )
                .service(
                    web::resource("/roles/{id}")
                        .route(web::get().to(roles::get))
                        .route(web::put().to(roles::replace))
                        .route(web::patch().to(roles::update))
                        .route(web::delete().to(roles::delete))
                        .default_service(web::to(|| method_not_allowed(ONE_RECORD))),
                )
                .service(
                    web::resource("/events")
                        .route(web::get().to(events::list))
                        .route(web::post().to(events::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/events/by-identifier/{scheme}/{value}")
                        .route(web::put().to(events::upsert))
                        .default_service(web::to(|| method_not_allowed("PUT"))),
                )
                .service(
                    web::resource("/events/{id}")
                        .route(web::get().to(events::get))
                        .route(web::put().to(events::replace))
                        .route(web::patch().to(events::update))
                        .route(web::delete().to(events::delete))
                        .default_service(web::to(|| method_not_allowed(ONE_RECORD))),
                )
                .service(
                    web::resource("/events/{id}/participants")
                        .route(web::get().to(participants::list))
                        .route(web::post().to(participants::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/events/{id}/participants/{participant_id}")
                        .route(web::get().to(participants::get))
                        .route(web::put().to(participants::replace))
                        .route(web::patch().to(participants::update))
                        .route(web::delete().to(participants::delete))
                        .default_service(web::to(|| method_not_allowed(ONE_RECORD))),
                )
                .service(
                    web::resource("/api-keys")
                        .route(web::get().to(api_keys::list))
                        .route(web::post().to(api_keys::create))
                        .default_service(web::to(|| method_not_allowed("GET, POST"))),
                )
                .service(
                    web::resource("/api-keys/{id}")
                        .route(web::get().to(api_keys::get))
                        .route(web::delete().to(api_keys::revoke))
                        .default_service(web::to(|| method_not_allowed("GET, DELETE"))),
                )
                .service(
                    web::resource("/changes")
                        .route(web::get().to(changes::list))
                        .default_service(web::to(|| method_not_allowed("GET"))),
                )
                .service(
                    web::resource("/audit")
                        .route(web::get().to(audit::list))
                        .default_service(web::to(|| method_not_allowed("GET"))),
                ),
        );
}

/// Methods of a single record.
const ONE_RECORD: &str = "GET, PUT, PATCH, DELETE";

async fn method_not_allowed(allow: &'static str) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::MethodNotAllowed { allow })
}

/// Fallback for paths no route serves.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound(format!("no resource at {}", req.path())))
}
