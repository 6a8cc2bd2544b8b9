//! The error responses of the OpenAPI document: every 4xx and 5xx is a
//! problem document. Each type below is a set of them that operations list
//! in `responses(...)`, so a kind of operation documents the same statuses
//! everywhere. [`Security`] documents the bearer scheme and [`secure`] an
//! operation's scope (see [`crate::api::routes`]).

use crate::error::PROBLEM_JSON;
use std::collections::BTreeMap;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, ObjectBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Type,
};
use utoipa::{IntoResponses, Modify};

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

fn with_retry_after(mut response: Response) -> Response {
    response.headers.insert(
        "Retry-After".to_owned(),
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .description(Some("Seconds to wait before retrying"))
            .build()
            .into(),
    );
    response
}

fn unavailable() -> Response {
    with_retry_after(problem("The database is unreachable or busy; retry later"))
}

const BAD_REQUEST: (&str, &str) = (
    "400",
    "Malformed JSON, or an invalid path segment, query parameter or header; `errors` names it",
);
const NOT_FOUND: (&str, &str) = ("404", "No live record has this id");
const PARENT_NOT_FOUND: (&str, &str) = ("404", "No live record has the id in the path");
const CONFLICT: (&str, &str) = (
    "409",
    "The change conflicts with other records; `conflicts` names them",
);
const PRECONDITION_FAILED: (&str, &str) = (
    "412",
    "`If-Match` does not match the current version (its ETag is in the `ETag` header)",
);
const TOO_LARGE: (&str, &str) = ("413", "The body is larger than the configured limit");
const MEDIA_TYPE: (&str, &str) = ("415", "The body is not of the documented media type");
const INVALID: (&str, &str) = ("422", "A field is invalid; `errors` names every one");
const INTERNAL: (&str, &str) = ("500", "Unexpected error; the cause is logged, not shown");
const BAD_TARGET: (&str, &str) = (
    "400",
    "The request path or query is not UTF-8 once percent-decoded; `errors` names which",
);

fn responses(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    let mut map: BTreeMap<String, RefOr<Response>> = list
        .iter()
        .map(|(status, description)| (status.to_string(), problem(description).into()))
        .collect();
    map.insert("503".to_owned(), unavailable().into());
    map
}

/// Defines a set of error responses, for `responses(...)` of operations.
macro_rules! error_set {
    ($(#[$meta:meta])* $name:ident: [$($status:ident),* $(,)?]) => {
        $(#[$meta])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                responses(&[$($status),*])
            }
        }
    };
}

error_set!(
    /// Errors of a list operation.
    ListErrors: [BAD_REQUEST, INTERNAL]
);
error_set!(
    /// Errors of reading one record or what belongs to it.
    ReadErrors: [BAD_REQUEST, NOT_FOUND, INTERNAL]
);
error_set!(
    /// Errors of creating a record.
    CreateErrors: [BAD_REQUEST, CONFLICT, TOO_LARGE, MEDIA_TYPE, INVALID, INTERNAL]
);
error_set!(
    /// Errors of creating a record inside another (which must be live).
    CreateInErrors: [BAD_REQUEST, PARENT_NOT_FOUND, CONFLICT, TOO_LARGE, MEDIA_TYPE, INVALID, INTERNAL]
);
error_set!(
    /// Errors of changing a record (PUT, PATCH).
    UpdateErrors: [
        BAD_REQUEST,
        NOT_FOUND,
        CONFLICT,
        PRECONDITION_FAILED,
        TOO_LARGE,
        MEDIA_TYPE,
        INVALID,
        INTERNAL,
    ]
);
error_set!(
    /// Errors of deleting a record.
    DeleteErrors: [BAD_REQUEST, NOT_FOUND, CONFLICT, PRECONDITION_FAILED, INTERNAL]
);
error_set!(
    /// Errors of a probe that needs the database.
    ProbeErrors: [INTERNAL]
);
error_set!(
    /// Errors of the readiness probe: a request target that does not
    /// decode, or the database.
    ReadinessErrors: [BAD_TARGET, INTERNAL]
);

/// Errors of a probe that does not use the database: only a request
/// target that does not decode, refused before any route sees it.
pub struct LivenessErrors;

impl IntoResponses for LivenessErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let (status, description) = BAD_TARGET;
        BTreeMap::from([(status.to_owned(), problem(description).into())])
    }
}

/// Documents authentication: the bearer scheme.
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key's token: `Authorization: Bearer ar_…`. Keys carry scopes: \
                         `read` (GETs), `write` (changes; implies `read`), `pii` (personal data \
                         of people), `admin` (API keys and the audit trail). A key can only \
                         create keys with scopes it holds itself.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `operation` as one that needs a key with `scope`: its `security`, and
/// the 401, 403 and 429 answers of the authentication check.
pub fn secure(operation: &mut Operation, scope: &str) {
    operation.security = Some(vec![SecurityRequirement::new("bearer", [scope])]);
    let responses = &mut operation.responses.responses;
    responses.insert(
        "401".to_owned(),
        problem(
            "No bearer token, or one that is unknown, revoked or expired (see `WWW-Authenticate`)",
        )
        .into(),
    );
    responses.insert(
        "403".to_owned(),
        problem(&format!(
            "The API key lacks the `{scope}` scope (or `pii`, to write personal data)"
        ))
        .into(),
    );
    responses.insert(
        "429".to_owned(),
        with_retry_after(problem("The API key exceeded its request rate")).into(),
    );
}
