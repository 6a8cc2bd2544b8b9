//! The HTTP API: handlers, their request and response types, the routes and
//! the OpenAPI document generated from them.

pub mod common;
pub mod events;
pub mod extract;
pub mod health;
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
use actix_web::{web, HttpRequest};
use utoipa::OpenApi;

/// The OpenAPI document of the service (committed as `openapi/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alliance Registry API",
        description = "The register of an alliance of organizations: its member units, the people \
in them, the posts (roles) they hold and the events the alliance runs.\n\n\
Errors are RFC 9457 problem documents (`application/problem+json`). Records carry a `version`; \
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
        roles::members,
        people::list,
        people::create,
        people::get,
        people::replace,
        people::update,
        people::delete,
        roles::held_by,
        roles::list,
        roles::create,
        roles::get,
        roles::replace,
        roles::update,
        roles::delete,
        events::list,
        events::create,
        events::get,
        events::replace,
        events::update,
        events::delete,
        participants::list,
        participants::create,
        participants::get,
        participants::replace,
        participants::update,
        participants::delete,
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
    )),
    tags(
        (name = "organizations", description = "The alliance, its member units, their party organizations and the bodies around them"),
        (name = "people", description = "Officials and members"),
        (name = "roles", description = "Who holds which post in which organization, and which organizations are members of another"),
        (name = "events", description = "Seminars, their sessions, joint meetings and themed activities, with their participants"),
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

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(health::live)))
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(
            web::resource("/v1/organizations")
                .route(web::get().to(organizations::list))
                .route(web::post().to(organizations::create))
                .default_service(web::to(|| method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource("/v1/organizations/{id}")
                .route(web::get().to(organizations::get))
                .route(web::put().to(organizations::replace))
                .route(web::patch().to(organizations::update))
                .route(web::delete().to(organizations::delete))
                .default_service(web::to(|| method_not_allowed("GET, PUT, PATCH, DELETE"))),
        )
        .service(
            web::resource("/v1/organizations/{id}/children")
                .route(web::get().to(organizations::list_children))
                .default_service(web::to(|| method_not_allowed("GET"))),
        )
        .service(
            web::resource("/v1/organizations/{id}/members")
                .route(web::get().to(roles::members))
                .default_service(web::to(|| method_not_allowed("GET"))),
        )
        .service(
            web::resource("/v1/people")
                .route(web::get().to(people::list))
                .route(web::post().to(people::create))
                .default_service(web::to(|| method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource("/v1/people/{id}")
                .route(web::get().to(people::get))
                .route(web::put().to(people::replace))
                .route(web::patch().to(people::update))
                .route(web::delete().to(people::delete))
                .default_service(web::to(|| method_not_allowed("GET, PUT, PATCH, DELETE"))),
        )
        .service(
            web::resource("/v1/people/{id}/roles")
                .route(web::get().to(roles::held_by))
                .default_service(web::to(|| method_not_allowed("GET"))),
        )
        .service(
            web::resource("/v1/roles")
                .route(web::get().to(roles::list))
                .route(web::post().to(roles::create))
                .default_service(web::to(|| method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource("/v1/roles/{id}")
                .route(web::get().to(roles::get))
                .route(web::put().to(roles::replace))
                .route(web::patch().to(roles::update))
                .route(web::delete().to(roles::delete))
                .default_service(web::to(|| method_not_allowed("GET, PUT, PATCH, DELETE"))),
        )
        .service(
            web::resource("/v1/events")
                .route(web::get().to(events::list))
                .route(web::post().to(events::create))
                .default_service(web::to(|| method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource("/v1/events/{id}")
                .route(web::get().to(events::get))
                .route(web::put().to(events::replace))
                .route(web::patch().to(events::update))
                .route(web::delete().to(events::delete))
                .default_service(web::to(|| method_not_allowed("GET, PUT, PATCH, DELETE"))),
        )
        .service(
            web::resource("/v1/events/{id}/participants")
                .route(web::get().to(participants::list))
                .route(web::post().to(participants::create))
                .default_service(web::to(|| method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource("/v1/events/{id}/participants/{participant_id}")
                .route(web::get().to(participants::get))
                .route(web::put().to(participants::replace))
                .route(web::patch().to(participants::update))
                .route(web::delete().to(participants::delete))
                .default_service(web::to(|| method_not_allowed("GET, PUT, PATCH, DELETE"))),
        );
}

async fn method_not_allowed(allow: &'static str) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::MethodNotAllowed { allow })
}

/// Fallback for paths no route serves.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound(format!("no resource at {}", req.path())))
}
