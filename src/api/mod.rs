//! The HTTP API: handlers, their request and response types, the routes and
//! the OpenAPI document generated from them.

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod common;
pub mod cursor;
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
pub mod values;

use crate::error::{ConflictingRecord, Error, FieldError, Problem};
use crate::store::api_keys::Scope;
use actix_web::{http::Method, web, FromRequest, Handler, HttpRequest, Resource, Responder};
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
    modifiers(&Security, &BodyRules),
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

/// Rules of request bodies that the derived schemas cannot state: "exactly
/// one of" two references (as `oneOf` of the two non-null choices beside
/// the object), and identifiers listed at most once (`uniqueItems`).
struct BodyRules;

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
        for (name, fields) in EXACTLY_ONE {
            let Some(object) = components.schemas.remove(*name) else {
                continue;
            };
            let choices = fields.iter().fold(OneOfBuilder::new(), |choices, field| {
                choices.item(
                    ObjectBuilder::new()
                        .required(*field)
                        .property(*field, ObjectBuilder::new().schema_type(Type::String)),
                )
            });
            components.schemas.insert(
                (*name).to_owned(),
                AllOfBuilder::new().item(object).item(choices).into(),
            );
        }
    }
}

/// The OpenAPI document as pretty-printed JSON with a final newline.
pub fn openapi_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// One `/v1` operation as registered: its path template, method and the
/// scope a key needs for it. The authorization check and the OpenAPI
/// document's `security` both read this, so a route's scope is declared once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub path: &'static str,
    pub method: &'static str,
    pub scope: Scope,
}

/// Declares the `/v1` routes once: [`ROUTES`] (for the OpenAPI document and
/// the tests) and `register_v1` (for the server). Each route is wrapped in
/// [`crate::auth::require`] with its own scope, so the decision follows
/// what the router matched, never a re-parse of the request path. GET
/// routes also answer HEAD.
macro_rules! routes {
    ($($path:literal { $($method:ident $scope:ident => $handler:path),+ $(,)? })*) => {
        /// Every `/v1` operation with the scope it needs.
        pub const ROUTES: &[RouteSpec] = &[
            $($(RouteSpec {
                path: concat!("/v1", $path),
                method: stringify!($method),
                scope: Scope::$scope,
            },)+)*
        ];

        fn register_v1(cfg: &mut web::ServiceConfig) {
            $(
                let resource = web::resource(concat!("/v1", $path));
                $(let resource = add_route(resource, Method::$method, Scope::$scope, $handler);)+
                let allow = allow_header(&[$(Method::$method),+]);
                cfg.service(resource.default_service(web::to(move || method_not_allowed(allow.clone()))));
            )*
        }
    };
}

routes! {
    "/organizations" {
        GET Read => organizations::list,
        POST Write => organizations::create,
    }
    "/organizations/by-identifier/{scheme}/{value}" {
        PUT Write => organizations::upsert,
    }
    "/organizations/{id}" {
        GET Read => organizations::get,
        PUT Write => organizations::replace,
        PATCH Write => organizations::update,
        DELETE Write => organizations::delete,
    }
    "/organizations/{id}/children" {
        GET Read => organizations::list_children,
    }
    "/organizations/{id}/members" {
        GET Read => roles::members,
    }
    "/people" {
        GET Read => people::list,
        POST Write => people::create,
    }
    "/people/by-identifier/{scheme}/{value}" {
        PUT Write => people::upsert,
    }
    "/people/{id}" {
        GET Read => people::get,
        PUT Write => people::replace,
        PATCH Write => people::update,
        DELETE Write => people::delete,
    }
    "/people/{id}/roles" {
        GET Read => roles::held_by,
    }
    "/roles" {
        GET Read => roles::list,
        POST Write => roles::create,
    }
    "/roles/by-identifier/{scheme}/{value}" {
        PUT Write => roles::upsert,
    }
    "/roles/{id}" {
        GET Read => roles::get,
        PUT Write => roles::replace,
        PATCH Write => roles::update,
        DELETE Write => roles::delete,
    }
    "/events" {
        GET Read => events::list,
        POST Write => events::create,
    }
    "/events/by-identifier/{scheme}/{value}" {
        PUT Write => events::upsert,
    }
    "/events/{id}" {
        GET Read => events::get,
        PUT Write => events::replace,
        PATCH Write => events::update,
        DELETE Write => events::delete,
    }
    "/events/{id}/participants" {
        GET Read => participants::list,
        POST Write => participants::create,
    }
    "/events/{id}/participants/{participant_id}" {
        GET Read => participants::get,
        PUT Write => participants::replace,
        PATCH Write => participants::update,
        DELETE Write => participants::delete,
    }
    "/api-keys" {
        GET Admin => api_keys::list,
        POST Admin => api_keys::create,
    }
    "/api-keys/{id}" {
        GET Admin => api_keys::get,
        DELETE Admin => api_keys::revoke,
    }
    "/changes" {
        GET Read => changes::list,
    }
    "/audit" {
        GET Admin => audit::list,
    }
}

/// The scope the operation `method` on the documented `path` needs.
pub fn route_scope(method: &str, path: &str) -> Option<Scope> {
    ROUTES
        .iter()
        .find(|route| route.path == path && route.method.eq_ignore_ascii_case(method))
        .map(|route| route.scope)
}

/// `resource` with `handler` serving `method` behind a check of `scope`
/// (and HEAD beside GET).
fn add_route<F, Args>(resource: Resource, method: Method, scope: Scope, handler: F) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let head = method == Method::GET;
    let resource = resource.route(
        web::method(method)
            .to(handler.clone())
            .wrap(crate::auth::require(scope)),
    );
    if head {
        resource.route(web::head().to(handler).wrap(crate::auth::require(scope)))
    } else {
        resource
    }
}

/// The `Allow` header of a resource serving `methods`.
fn allow_header(methods: &[Method]) -> String {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        names.insert(
            1 + names.iter().position(|m| *m == "GET").unwrap_or(0),
            "HEAD",
        );
    }
    names.join(", ")
}

/// Registers every API route: the probes, and the register under `/v1`,
/// each route behind API-key authentication with its own scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/health/live")
            .route(web::get().to(health::live))
            .route(web::head().to(health::live))
            .default_service(web::to(|| method_not_allowed("GET, HEAD".to_owned()))),
    )
    .service(
        web::resource("/health/ready")
            .route(web::get().to(health::ready))
            .route(web::head().to(health::ready))
            .default_service(web::to(|| method_not_allowed("GET, HEAD".to_owned()))),
    );
    register_v1(cfg);
}

async fn method_not_allowed(allow: String) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::MethodNotAllowed { allow })
}

/// Fallback for paths no route serves.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound(format!("no resource at {}", req.path())))
}
