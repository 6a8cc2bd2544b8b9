//! The `Idempotency-Key` header of POST requests: a retry with the same key
//! and the same request replays the first response (status, headers,
//! body) without writing again; the same key with another request is a 422.
//! Keys live in PostgreSQL (they work across instances) and expire.

use crate::error::Error;
use crate::store::idempotency::StoredResponse;
use actix_web::http::header::HeaderName;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use sha2::{Digest, Sha256};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::IntoParams;

/// The header.
pub const HEADER: &str = "Idempotency-Key";

/// Header marking a replayed response.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// How long a key is remembered; put in the app data.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyTtl(pub chrono::Duration);

/// The idempotency key of a POST, with what identifies the request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    /// Method and path of the request (the body is added to the hash later).
    target: String,
    pub ttl: chrono::Duration,
}

impl IdempotencyKey {
    /// The hash that tells "the same request" from another: method, path
    /// and the body as parsed.
    pub fn request_hash(&self, body: &impl serde::Serialize) -> Result<Vec<u8>, Error> {
        let mut hasher = Sha256::new();
        hasher.update(self.target.as_bytes());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(body).map_err(Error::internal)?);
        Ok(hasher.finalize().to_vec())
    }
}

/// The optional `Idempotency-Key` of a request (1–255 printable ASCII
/// characters; 400 otherwise).
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyKey>);

crate::from_head!(impl for Idempotency, |req| {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(Idempotency(None));
    };
    let key = value
        .to_str()
        .ok()
        .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()));
    let Some(key) = key else {
        return Err(Error::BadHeader {
            header: HEADER,
            reason: "expected 1 to 255 printable ASCII characters".into(),
        });
    };
    let ttl = req
        .app_data::<IdempotencyTtl>()
        .map_or(chrono::Duration::hours(24), |t| t.0);
    Ok(Idempotency(Some(IdempotencyKey {
        key: key.to_owned(),
        target: format!("{} {}", req.method(), req.path()),
        ttl,
    })))
});

/// Documents the header on the operations that take it.
pub struct IdempotencyKeyHeader;

impl IntoParams for IdempotencyKeyHeader {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name(HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes the POST safe to retry: the same key with the same body replays the \
                 first response (with `Idempotent-Replayed: true`) without writing again; the \
                 same key with another body is a 422. Keys are per API key and expire.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .build()]
    }
}

/// Turns a stored response into an HTTP response.
pub fn to_http(stored: &StoredResponse, replayed: bool) -> Result<HttpResponse, Error> {
    let status = StatusCode::from_u16(stored.status).map_err(Error::internal)?;
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        response.insert_header((
            HeaderName::try_from(name.as_str()).map_err(Error::internal)?,
            value.as_str(),
        ));
    }
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    Ok(response.body(stored.body.clone()))
}
