//! The shape every resource of the register shares — create (POST), read
//! (GET with `If-None-Match`), replace (PUT) and change (PATCH, a JSON merge
//! patch) under `If-Match`, soft delete — written once, generic over
//! [`Resource`]. Each resource module implements the trait and keeps thin,
//! annotated handlers that call these functions.

use crate::{
    api::{
        merge_patch::MergePatch,
        preconditions::{etag, IfNoneMatch},
    },
    db::{self, PgPool},
    error::Error,
    store::VersionCheck,
};
use actix_web::{
    http::{
        header::{self, CacheControl, CacheDirective, ETag},
        StatusCode,
    },
    HttpResponse,
};
use diesel::pg::PgConnection;
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

/// A resource of the register: how its records are validated, presented
/// and stored.
pub trait Resource: 'static {
    /// What records are scoped by: `()` for top-level resources, the event
    /// id for event participants.
    type Scope: Copy + Send + 'static;
    /// A stored record.
    type Record: Send + 'static;
    /// The writable fields, as clients send them (POST, PUT; the base a
    /// merge patch applies to).
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// Validated content, ready to store.
    type Data: Send + 'static;
    /// The representation clients get.
    type Output: Serialize;

    /// The merge-patch member that moves a record within its tree, if the
    /// resource forms one (such changes take the tree lock first).
    const PARENT_FIELD: Option<&'static str> = None;

    fn version(record: &Self::Record) -> i64;
    /// The URL path of `record`.
    fn location(record: &Self::Record) -> String;
    /// The input that would recreate `record`.
    fn input_of(record: &Self::Record) -> Result<Self::Input, Error>;
    /// Validates and normalizes input (422 naming every invalid field).
    fn validate(scope: Self::Scope, input: Self::Input) -> Result<Self::Data, Error>;
    /// Whether storing `data` may move the record within its tree.
    fn reparents(_data: &Self::Data) -> bool {
        false
    }
    fn present(record: Self::Record) -> Result<Self::Output, Error>;

    fn find(conn: &mut PgConnection, scope: Self::Scope, id: Uuid) -> Result<Self::Record, Error>;
    fn create(conn: &mut PgConnection, data: &Self::Data) -> Result<Self::Record, Error>;
    fn update(
        conn: &mut PgConnection,
        scope: Self::Scope,
        id: Uuid,
        check: &VersionCheck,
        may_reparent: bool,
        change: impl FnOnce(&Self::Record) -> Result<Self::Data, Error>,
    ) -> Result<Self::Record, Error>;
    fn delete(
        conn: &mut PgConnection,
        scope: Self::Scope,
        id: Uuid,
        check: &VersionCheck,
    ) -> Result<(), Error>;
}

/// A response carrying `record` with its ETag; clients revalidate
/// (`Cache-Control: no-cache`).
fn respond<R: Resource>(status: StatusCode, record: R::Record) -> Result<HttpResponse, Error> {
    let version = R::version(&record);
    Ok(HttpResponse::build(status)
        .insert_header(ETag(etag(version)))
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .json(R::present(record)?))
}

/// POST: 201 with `Location` and `ETag`.
pub async fn create<R: Resource>(
    pool: &PgPool,
    scope: R::Scope,
    input: R::Input,
) -> Result<HttpResponse, Error> {
    let data = R::validate(scope, input)?;
    let record = db::transaction(pool, move |conn| R::create(conn, &data)).await?;
    let location = R::location(&record);
    let mut response = respond::<R>(StatusCode::CREATED, record)?;
    response.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(Error::internal)?,
    );
    Ok(response)
}

/// GET: 200 with `ETag`, or 304 when `If-None-Match` holds the current one.
pub async fn get<R: Resource>(
    pool: &PgPool,
    scope: R::Scope,
    id: Uuid,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let record = db::run(pool, move |conn| R::find(conn, scope, id)).await?;
    let version = R::version(&record);
    if if_none_match.matches(&etag(version)) {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(etag(version)))
            .finish());
    }
    respond::<R>(StatusCode::OK, record)
}

/// PUT: replaces every writable field (omitted optional ones are cleared).
pub async fn replace<R: Resource>(
    pool: &PgPool,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    input: R::Input,
) -> Result<HttpResponse, Error> {
    let data = R::validate(scope, input)?;
    let may_reparent = R::reparents(&data);
    let record = db::transaction(pool, move |conn| {
        R::update(conn, scope, id, &check, may_reparent, |_| Ok(data))
    })
    .await?;
    respond::<R>(StatusCode::OK, record)
}

/// PATCH: applies a JSON merge patch to the current record; the result is
/// validated as a whole. A patch that changes nothing keeps the version.
pub async fn patch<R: Resource>(
    pool: &PgPool,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    patch: MergePatch,
) -> Result<HttpResponse, Error> {
    let may_reparent = R::PARENT_FIELD.is_some_and(|field| patch.sets(field));
    let record = db::transaction(pool, move |conn| {
        R::update(conn, scope, id, &check, may_reparent, |current| {
            R::validate(scope, patch.apply(&R::input_of(current)?)?)
        })
    })
    .await?;
    respond::<R>(StatusCode::OK, record)
}

/// DELETE: soft delete, 204.
pub async fn delete<R: Resource>(
    pool: &PgPool,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
) -> Result<HttpResponse, Error> {
    db::transaction(pool, move |conn| R::delete(conn, scope, id, &check)).await?;
    Ok(HttpResponse::NoContent().finish())
}
