//! The one error type of the service and its rendering as an RFC 9457
//! problem document (`application/problem+json`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field at fault, e.g. `name` or `other_names[1].lang`.
    #[schema(example = "name")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must not be empty")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A column whose new value the store refuses, and why: what the API
/// reports as an invalid field, in the store's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError {
    /// The column at fault, e.g. `parent_id`.
    pub column: &'static str,
    /// What is wrong with its value, e.g. `no organization has id …`.
    pub message: String,
}

/// A record that prevents an operation, e.g. a live child organization that
/// prevents deleting its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConflictingRecord {
    /// Kind of record, e.g. `organization`.
    #[schema(example = "organization")]
    pub entity_type: String,
    pub id: Uuid,
    /// Display name of the record.
    #[schema(example = "Party Branch of Bilibili")]
    pub name: String,
}

/// An RFC 9457 problem document, returned with every 4xx and 5xx response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "name", "message": "must not be empty"}]
}))]
pub struct Problem {
    /// URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The fields at fault (validation and bad-request problems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The records that prevent the operation (conflicts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ConflictingRecord>,
}

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be understood: malformed JSON, a bad query
    /// parameter or path segment (400).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request is well-formed but its content is invalid (422).
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// The store refuses the values of these columns, e.g. references to no
    /// live record. The API reports them as the fields that wrote them
    /// (422); unnamed they are a bug (500).
    #[error("refused column values: {0:?}")]
    Columns(Vec<ColumnError>),
    /// No such (live) record (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (409).
    #[error("{detail}")]
    Conflict {
        detail: String,
        conflicts: Vec<ConflictingRecord>,
    },
    /// An `If-Match` precondition did not hold (412); `current_version` is
    /// `None` when there is no such record.
    #[error("{}", match current_version {
        Some(version) => format!("the record has changed: current version is {version}"),
        None => "no record matches If-Match".to_owned(),
    })]
    PreconditionFailed { current_version: Option<i64> },
    /// The resource is no longer available, e.g. a change-feed cursor past
    /// retention (410).
    #[error("{0}")]
    Gone(String),
    /// A header the request sent is not acceptable (400).
    #[error("invalid {header} header: {reason}")]
    BadHeader {
        header: &'static str,
        reason: String,
    },
    /// No usable bearer token (401, with `WWW-Authenticate`).
    #[error("{detail}")]
    Unauthorized {
        detail: String,
        /// The token was present but refused (unknown, revoked, expired).
        invalid_token: bool,
    },
    /// The key lacks the scope the operation needs (403).
    #[error("this operation needs an API key with the {scope} scope")]
    Forbidden { scope: &'static str },
    /// The key sent more requests than its rate allows (429).
    #[error("rate limit exceeded; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// The body is of a media type this endpoint does not take (415).
    #[error("unsupported media type {found:?}; send {expected}")]
    UnsupportedMediaType { found: String, expected: String },
    /// The body is larger than the configured limit (413).
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// No route has this method (405).
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: String },
    /// The database cannot be reached or no pooled connection became free
    /// in time (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500); the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn not_found(entity: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("no {entity} has id {id}"))
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self::BadRequest {
            detail: format!("invalid parameter {field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (slug, title) = match self {
            Self::BadRequest { .. } | Self::BadHeader { .. } => ("bad-request", "Bad request"),
            Self::Validation(_) => ("validation", "Validation failed"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::Conflict { .. } => ("conflict", "Conflict"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::Gone(_) => ("gone", "Gone"),
            Self::Unauthorized { .. } => ("unauthorized", "Unauthorized"),
            Self::Forbidden { .. } => ("forbidden", "Forbidden"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::UnsupportedMediaType { .. } => {
                ("unsupported-media-type", "Unsupported media type")
            }
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) | Self::Columns(_) => ("internal", "Internal server error"),
        };
        let detail = match self {
            Self::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            Self::Validation(errors) if errors.len() >= crate::domain::faults::MAX_FAULTS => {
                format!(
                    "at least {} fields are invalid; the first {} are named",
                    errors.len(),
                    errors.len()
                )
            }
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            Self::Unavailable(_) => "the database is unavailable or busy; retry shortly".to_owned(),
            Self::Internal(_) | Self::Columns(_) => {
                "an unexpected error occurred; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match self {
            Self::Validation(errors) | Self::BadRequest { errors, .. } => errors.clone(),
            Self::BadHeader { header, reason } => vec![FieldError::new(*header, reason.clone())],
            _ => Vec::new(),
        };
        let conflicts = match self {
            Self::Conflict { conflicts, .. } => conflicts.clone(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            conflicts,
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::BadHeader { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Columns(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::PreconditionFailed {
                current_version: Some(version),
            } => {
                response.insert_header((header::ETAG, format!("\"{version}\"")));
            }
            Self::Unauthorized { invalid_token, .. } => {
                let challenge = if *invalid_token {
                    r#"Bearer realm="alliance-registry", error="invalid_token""#
                } else {
                    r#"Bearer realm="alliance-registry""#
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<DieselError> for Error {
    fn from(err: DieselError) -> Self {
        use crate::metrics::{database_error, DatabaseFault};
        let DieselError::DatabaseError(kind, info) = err else {
            return match err {
                DieselError::NotFound => {
                    Self::NotFound("the requested record does not exist".into())
                }
                other => {
                    database_error(DatabaseFault::other);
                    Self::Internal(other.to_string())
                }
            };
        };
        let message = info.message();
        let (fault, error) = match kind {
            DatabaseErrorKind::UniqueViolation
            | DatabaseErrorKind::ForeignKeyViolation
            | DatabaseErrorKind::SerializationFailure => (
                DatabaseFault::constraint,
                Self::Conflict {
                    detail: format!(
                        "the change conflicts with existing data ({})",
                        info.constraint_name().unwrap_or(message)
                    ),
                    conflicts: Vec::new(),
                },
            ),
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => (
                DatabaseFault::constraint,
                Self::invalid(
                    info.column_name().unwrap_or("body"),
                    format!(
                        "violates constraint {}",
                        info.constraint_name().unwrap_or(message)
                    ),
                ),
            ),
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => (
                DatabaseFault::connection,
                Self::Unavailable(message.to_owned()),
            ),
            // statement_timeout (57014), lock_timeout (55P03) or a deadlock
            // PostgreSQL broke by aborting this transaction (40P01): busy,
            // not broken — nothing was written, and the same request
            // succeeds when retried.
            _ if message.contains("statement timeout") || message.contains("lock timeout") => (
                DatabaseFault::timeout,
                Self::Unavailable(message.to_owned()),
            ),
            _ if message.contains("deadlock detected") => (
                DatabaseFault::deadlock,
                Self::Unavailable(message.to_owned()),
            ),
            _ => (
                DatabaseFault::other,
                Self::Internal(format!("database error: {message}")),
            ),
        };
        database_error(fault);
        error
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorInformation;

    struct Info(&'static str);
    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "duplicate key"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some(self.0)
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db_error(kind: DatabaseErrorKind) -> Error {
        DieselError::DatabaseError(kind, Box::new(Info("some_constraint"))).into()
    }

    #[test]
    fn database_errors_map_to_client_statuses() {
        use DatabaseErrorKind::*;
        for (kind, status) in [
            (UniqueViolation, 409),
            (ForeignKeyViolation, 409),
            (SerializationFailure, 409),
            (CheckViolation, 422),
            (ClosedConnection, 503),
        ] {
            let err = db_error(kind);
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
            assert_eq!(err.problem().status, status);
        }
        let not_found: Error = DieselError::NotFound.into();
        assert_eq!(not_found.status_code(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn column_errors_the_api_did_not_name_are_internal() {
        let err = Error::Columns(vec![ColumnError {
            column: "parent_id",
            message: "no organization has id 1".into(),
        }]);
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(err.problem().errors.is_empty());
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = Error::internal("password=hunter2 leaked in a message");
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("hunter2"));
        assert_eq!(err.problem().status, 500);
    }
}
