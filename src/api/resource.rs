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
    store::{api_keys::Principal, VersionCheck},
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
use serde_json::Value;
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
    type Input: Serialize + DeserializeOwned + Clone + Send + 'static;
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
    /// Input fields `viewer` may neither see nor write (personal data
    /// without the `pii` scope). Writes naming them are refused (403);
    /// a PUT keeps their current values.
    fn hidden_fields(_viewer: &Principal) -> &'static [&'static str] {
        &[]
    }
    /// The representation of `record` for `viewer`.
    fn present(record: Self::Record, viewer: &Principal) -> Result<Self::Output, Error>;

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

/// A response carrying `record` with its ETag; clients revalidate, shared
/// caches keep nothing (`Cache-Control: private, no-cache`).
fn respond<R: Resource>(
    status: StatusCode,
    record: R::Record,
    viewer: &Principal,
) -> Result<HttpResponse, Error> {
    let version = R::version(&record);
    Ok(HttpResponse::build(status)
        .insert_header(ETag(etag(version)))
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .json(R::present(record, viewer)?))
}

/// Refuses (403) input that sets a field hidden from `viewer`.
fn refuse_hidden<R: Resource>(viewer: &Principal, input: &Value) -> Result<(), Error> {
    match R::hidden_fields(viewer)
        .iter()
        .find(|field| input.get(**field).is_some_and(|value| !value.is_null()))
    {
        Some(_) => Err(Error::Forbidden { scope: "pii" }),
        None => Ok(()),
    }
}

/// `input` with the fields hidden from `viewer` taken from `current`.
fn keep_hidden<R: Resource>(
    viewer: &Principal,
    input: &R::Input,
    current: &R::Record,
) -> Result<R::Input, Error> {
    let mut value = serde_json::to_value(input).map_err(Error::internal)?;
    let stored = serde_json::to_value(R::input_of(current)?).map_err(Error::internal)?;
    for field in R::hidden_fields(viewer) {
        value[*field] = stored.get(*field).cloned().unwrap_or(Value::Null);
    }
    serde_json::from_value(value).map_err(Error::internal)
}

/// POST: 201 with `Location` and `ETag`.
pub async fn create<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    input: R::Input,
) -> Result<HttpResponse, Error> {
    refuse_hidden::<R>(
        &viewer,
        &serde_json::to_value(&input).map_err(Error::internal)?,
    )?;
    let data = R::validate(scope, input)?;
    let record = db::transaction(pool, Some(viewer.key_id), move |conn| {
        R::create(conn, &data)
    })
    .await?;
    let location = R::location(&record);
    let mut response = respond::<R>(StatusCode::CREATED, record, &viewer)?;
    response.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(Error::internal)?,
    );
    Ok(response)
}

/// GET: 200 with `ETag`, or 304 when `If-None-Match` holds the current one.
pub async fn get<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
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
    respond::<R>(StatusCode::OK, record, &viewer)
}

/// PUT: replaces every writable field (omitted optional ones are cleared,
/// except those hidden from the writer, which keep their values).
pub async fn replace<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    input: R::Input,
) -> Result<HttpResponse, Error> {
    refuse_hidden::<R>(
        &viewer,
        &serde_json::to_value(&input).map_err(Error::internal)?,
    )?;
    // Invalid input is refused before any database work.
    let may_reparent = R::reparents(&R::validate(scope, input.clone())?);
    let writer = viewer.clone();
    let record = db::transaction(pool, Some(viewer.key_id), move |conn| {
        R::update(conn, scope, id, &check, may_reparent, |current| {
            R::validate(scope, keep_hidden::<R>(&writer, &input, current)?)
        })
    })
    .await?;
    respond::<R>(StatusCode::OK, record, &viewer)
}

/// PATCH: applies a JSON merge patch to the current record; the result is
/// validated as a whole. A patch that changes nothing keeps the version.
pub async fn patch<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    patch: MergePatch,
) -> Result<HttpResponse, Error> {
    if R::hidden_fields(&viewer)
        .iter()
        .any(|field| patch.names(field))
    {
        return Err(Error::Forbidden { scope: "pii" });
    }
    let may_reparent = R::PARENT_FIELD.is_some_and(|field| patch.sets(field));
    let record = db::transaction(pool, Some(viewer.key_id), move |conn| {
        R::update(conn, scope, id, &check, may_reparent, |current| {
            R::validate(scope, patch.apply(&R::input_of(current)?)?)
        })
    })
    .await?;
    respond::<R>(StatusCode::OK, record, &viewer)
}

/// DELETE: soft delete, 204.
pub async fn delete<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
) -> Result<HttpResponse, Error> {
    db::transaction(pool, Some(viewer.key_id), move |conn| {
        R::delete(conn, scope, id, &check)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
