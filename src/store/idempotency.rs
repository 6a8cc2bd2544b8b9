//! Idempotency keys of POST requests: the first response to a key is
//! stored in the transaction of its write, so a retry replays it instead of
//! writing again. Keys are scoped by API key and expire after a TTL.

use crate::db::schema::idempotency_keys::dsl;
use crate::error::Error;
use chrono::{Duration, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;
use uuid::Uuid;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A stored first response and the hash of the request that produced it.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub request_hash: Vec<u8>,
    pub response: StoredResponse,
}

/// The unexpired entry for idempotency key `key` of API key `key_id`.
pub fn find(
    conn: &mut PgConnection,
    key_id: Uuid,
    key: &str,
    ttl: Duration,
) -> Result<Option<Remembered>, Error> {
    let row: Option<(Vec<u8>, i16, Value, Vec<u8>)> = dsl::idempotency_keys
        .filter(dsl::key_id.eq(key_id))
        .filter(dsl::key.eq(key))
        .filter(dsl::created_at.gt(Utc::now() - ttl))
        .select((dsl::request_hash, dsl::status, dsl::headers, dsl::body))
        .first(conn)
        .optional()?;
    row.map(|(request_hash, status, headers, body)| {
        Ok(Remembered {
            request_hash,
            response: StoredResponse {
                status: u16::try_from(status).map_err(Error::internal)?,
                headers: serde_json::from_value(headers).map_err(Error::internal)?,
                body,
            },
        })
    })
    .transpose()
}

/// Stores the first response for `key`, in the transaction of the write it
/// describes. A concurrent request with the same key that stored its
/// response first makes this fail (the caller then replays that one);
/// expired entries are removed on the way.
pub fn remember(
    conn: &mut PgConnection,
    key_id: Uuid,
    key: &str,
    ttl: Duration,
    request_hash: &[u8],
    response: &StoredResponse,
) -> Result<(), Error> {
    diesel::delete(dsl::idempotency_keys.filter(dsl::created_at.le(Utc::now() - ttl)))
        .execute(conn)?;
    let inserted = diesel::insert_into(dsl::idempotency_keys)
        .values((
            dsl::key_id.eq(key_id),
            dsl::key.eq(key),
            dsl::request_hash.eq(request_hash),
            dsl::status.eq(response.status as i16),
            dsl::headers.eq(serde_json::to_value(&response.headers).map_err(Error::internal)?),
            dsl::body.eq(&response.body),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(Error::Conflict {
                detail: format!(
                    "a request with Idempotency-Key {key:?} was processed concurrently"
                ),
                conflicts: Vec::new(),
            })
        }
        Err(err) => Err(err.into()),
    }
}
