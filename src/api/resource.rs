//! The shape every resource of the register shares — create (POST, with
//! `Idempotency-Key`), read (GET with `If-None-Match`), replace (PUT) and
//! change (PATCH, a JSON merge patch) under `If-Match`, upsert by external
//! identifier, soft delete — written once, generic over [`Resource`]. Each
//! resource module implements the trait and keeps thin, annotated handlers
//! that call these functions.

use crate::{
    api::{
        extract::Parsed,
        idempotency::{self, IdempotencyKey},
        merge_patch::MergePatch,
        preconditions::{etag, IfNoneMatch},
    },
    db::{self, PgPool},
    error::{Error, FieldError},
    store::{
        api_keys::Principal,
        idempotency::{self as remembered, StoredResponse},
        identifiers::{self, Identifier},
        refs::Table,
        VersionCheck,
    },
};
use actix_web::{http::header, HttpResponse};
use diesel::pg::PgConnection;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
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

    /// The table, when records carry external identifiers (and can be
    /// upserted by one).
    const TABLE: Option<Table> = None;
    /// Input fields that refer to other records, each with the table it
    /// refers to: they take an id or a `scheme:value` identifier.
    const REFERENCES: &'static [(&'static str, Table)] = &[];
    /// The merge-patch member that moves a record within its tree, if the
    /// resource forms one (such changes take the tree lock first).
    const PARENT_FIELD: Option<&'static str> = None;

    fn version(record: &Self::Record) -> i64;
    /// The version `viewer` sees (and names in `If-Match`): for viewers
    /// with hidden fields, one that changes to those fields do not move.
    fn visible_version(record: &Self::Record, _viewer: &Principal) -> i64 {
        Self::version(record)
    }
    /// The URL path of `record`.
    fn location(record: &Self::Record) -> String;
    /// The input that would recreate `record`.
    fn input_of(record: &Self::Record) -> Result<Self::Input, Error>;
    /// Validates and normalizes input (422 naming every invalid field).
    /// References are resolved to ids by then.
    fn validate(scope: Self::Scope, input: Self::Input) -> Result<Self::Data, Error>;
    /// Whether storing `input` may move the record within its tree.
    fn reparents(_input: &Self::Input) -> bool {
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

/// `record` as a response with its ETag; clients revalidate, shared caches
/// keep nothing (`Cache-Control: private, no-cache`).
fn stored<R: Resource>(
    status: u16,
    record: R::Record,
    viewer: &Principal,
    location: bool,
) -> Result<StoredResponse, Error> {
    let mut headers = vec![
        (
            header::ETAG.to_string(),
            etag(R::visible_version(&record, viewer)).to_string(),
        ),
        (
            header::CACHE_CONTROL.to_string(),
            "private, no-cache".to_owned(),
        ),
        (
            header::CONTENT_TYPE.to_string(),
            "application/json".to_owned(),
        ),
    ];
    if location {
        headers.push((header::LOCATION.to_string(), R::location(&record)));
    }
    let body = serde_json::to_vec(&R::present(record, viewer)?).map_err(Error::internal)?;
    Ok(StoredResponse {
        status,
        headers,
        body,
    })
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
    let hidden = R::hidden_fields(viewer);
    if hidden.is_empty() {
        return Ok(input.clone());
    }
    let mut value = serde_json::to_value(input).map_err(Error::internal)?;
    let stored = serde_json::to_value(R::input_of(current)?).map_err(Error::internal)?;
    for field in hidden {
        value[*field] = stored.get(*field).cloned().unwrap_or(Value::Null);
    }
    serde_json::from_value(value).map_err(Error::internal)
}

/// Replaces `scheme:value` references among the members of `doc` with the
/// ids of the live records carrying those identifiers (422 naming every
/// reference that matches none).
fn resolve_members<R: Resource>(
    conn: &mut PgConnection,
    doc: &mut Map<String, Value>,
) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (field, table) in R::REFERENCES {
        let Some(Value::String(text)) = doc.get(*field) else {
            continue;
        };
        if Uuid::parse_str(text).is_ok() {
            continue;
        }
        let Some((scheme, value)) = text.split_once(':') else {
            continue;
        };
        match identifiers::owner(conn, *table, scheme, value)? {
            Some(id) => {
                doc.insert((*field).to_owned(), Value::String(id.to_string()));
            }
            None => errors.push(FieldError::new(
                *field,
                format!("no {} has identifier {text}", table.entity),
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// `input` with its references resolved to ids.
fn resolve<R: Resource>(conn: &mut PgConnection, input: R::Input) -> Result<R::Input, Error> {
    if R::REFERENCES.is_empty() {
        return Ok(input);
    }
    let Value::Object(mut doc) = serde_json::to_value(input).map_err(Error::internal)? else {
        return Err(Error::internal("input is not an object"));
    };
    resolve_members::<R>(conn, &mut doc)?;
    serde_json::from_value(Value::Object(doc)).map_err(Error::internal)
}

/// `check` (from `If-Match`, in the versions `viewer` sees) as a check of
/// the stored version of record `id`. Where the viewer's versions are the
/// stored ones this is `check` itself; otherwise the current record is read
/// and a match becomes a check of its stored version, which the write then
/// verifies under the row lock (so a change in between still fails).
fn stored_check<R: Resource>(
    conn: &mut PgConnection,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    viewer: &Principal,
) -> Result<VersionCheck, Error> {
    let VersionCheck::OneOf(expected) = &check else {
        return Ok(check);
    };
    if R::hidden_fields(viewer).is_empty() {
        return Ok(check);
    }
    let current = R::find(conn, scope, id)?;
    let seen = R::visible_version(&current, viewer);
    if expected.contains(&seen) {
        Ok(VersionCheck::OneOf(vec![R::version(&current)]))
    } else {
        Err(Error::PreconditionFailed {
            current_version: Some(seen),
        })
    }
}

/// `err` as `viewer` may see it: a failed precondition names a stored
/// version only to viewers who see stored versions.
fn seen_by<R: Resource>(err: Error, viewer: &Principal) -> Error {
    match err {
        Error::PreconditionFailed { .. } if !R::hidden_fields(viewer).is_empty() => {
            Error::PreconditionFailed {
                current_version: None,
            }
        }
        other => other,
    }
}

/// POST: 201 with `Location` and `ETag`. With an `Idempotency-Key`, the
/// first response is stored with the write and replayed for retries.
pub async fn create<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    input: Parsed<R::Input>,
    idempotency: Option<IdempotencyKey>,
) -> Result<HttpResponse, Error> {
    let input_value = serde_json::to_value(input.peek()).map_err(Error::internal)?;
    refuse_hidden::<R>(&viewer, &input_value)?;
    let remember = match &idempotency {
        Some(key) => {
            let hash = key.request_hash(&input_value)?;
            if let Some(response) = replay(pool, &viewer, key, &hash).await? {
                return Ok(response);
            }
            Some((key.clone(), hash))
        }
        None => None,
    };
    let author = viewer.clone();
    let outcome = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let data = input.check(|input| R::validate(scope, resolve::<R>(conn, input)?))?;
        let record = R::create(conn, &data)?;
        let response = stored::<R>(201, record, &author, true)?;
        if let Some((key, hash)) = &remember {
            remembered::remember(conn, author.key_id, &key.key, key.ttl, hash, &response)?;
        }
        Ok(response)
    })
    .await;
    match (outcome, &idempotency) {
        (Ok(response), _) => idempotency::to_http(&response, false),
        // A concurrent request with the same key may have won: replay it.
        (Err(err), Some(key)) => {
            let hash = key.request_hash(&input_value)?;
            match replay(pool, &viewer, key, &hash).await? {
                Some(response) => Ok(response),
                None => Err(err),
            }
        }
        (Err(err), None) => Err(err),
    }
}

/// The stored response for `key`, if there is one: replayed when the
/// request is the same, 422 when it is another.
async fn replay(
    pool: &PgPool,
    viewer: &Principal,
    key: &IdempotencyKey,
    hash: &[u8],
) -> Result<Option<HttpResponse>, Error> {
    let (key_id, name, ttl) = (viewer.key_id, key.key.clone(), key.ttl);
    let found = db::run(pool, move |conn| remembered::find(conn, key_id, &name, ttl)).await?;
    match found {
        None => Ok(None),
        Some(first) if first.request_hash == hash => {
            Ok(Some(idempotency::to_http(&first.response, true)?))
        }
        Some(_) => Err(Error::invalid(
            idempotency::HEADER,
            "this key was used for a different request; use a new key",
        )),
    }
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
    let version = R::visible_version(&record, &viewer);
    if if_none_match.matches(&etag(version)) {
        return Ok(HttpResponse::NotModified()
            .insert_header(header::ETag(etag(version)))
            .finish());
    }
    idempotency::to_http(&stored::<R>(200, record, &viewer, false)?, false)
}

/// PUT: replaces every writable field (omitted optional ones are cleared,
/// except those hidden from the writer, which keep their values).
pub async fn replace<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    input: Parsed<R::Input>,
) -> Result<HttpResponse, Error> {
    refuse_hidden::<R>(
        &viewer,
        &serde_json::to_value(input.peek()).map_err(Error::internal)?,
    )?;
    let may_reparent = R::reparents(input.peek());
    let author = viewer.clone();
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let input = input.try_map(|input| resolve::<R>(conn, input))?;
        let check = stored_check::<R>(conn, scope, id, check, &author)?;
        let record = R::update(conn, scope, id, &check, may_reparent, |current| {
            input.check(|input| R::validate(scope, keep_hidden::<R>(&author, &input, current)?))
        })
        .map_err(|err| seen_by::<R>(err, &author))?;
        stored::<R>(200, record, &author, false)
    })
    .await?;
    idempotency::to_http(&response, false)
}

/// PUT by external identifier: replaces the live record carrying
/// `scheme:value` (200), or creates it (201). The identifier is added to
/// the body's identifiers when missing. Sending the same body again changes
/// nothing: same version, no journal entry. Concurrent upserts of one new
/// identifier create one record. With `If-Match` (a version or `*`) no
/// record is created: when none carries the identifier, 412.
pub async fn upsert<R: Resource<Scope = ()>>(
    pool: &PgPool,
    viewer: Principal,
    identifier: Identifier,
    check: VersionCheck,
    input: Parsed<R::Input>,
) -> Result<HttpResponse, Error> {
    let table = R::TABLE.ok_or_else(|| Error::internal("resource without identifiers"))?;
    let Value::Object(mut doc) = serde_json::to_value(input.peek()).map_err(Error::internal)?
    else {
        return Err(Error::internal("input is not an object"));
    };
    refuse_hidden::<R>(&viewer, &Value::Object(doc.clone()))?;
    let listed = doc
        .entry("identifiers")
        .or_insert_with(|| Value::Array(Vec::new()));
    let carried = serde_json::to_value(&identifier).map_err(Error::internal)?;
    if let Value::Array(list) = listed {
        if !list.contains(&carried) {
            list.push(carried);
        }
    }
    let input =
        input.try_map(|_| serde_json::from_value(Value::Object(doc)).map_err(Error::internal))?;
    let may_reparent = R::reparents(input.peek());
    let author = viewer.clone();
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        identifiers::lock(conn, table, &identifier.scheme, &identifier.value)?;
        let input = input.try_map(|input| resolve::<R>(conn, input))?;
        match identifiers::owner(conn, table, &identifier.scheme, &identifier.value)? {
            Some(id) => {
                let check = stored_check::<R>(conn, (), id, check, &author)?;
                let record = R::update(conn, (), id, &check, may_reparent, |current| {
                    input
                        .check(|input| R::validate((), keep_hidden::<R>(&author, &input, current)?))
                })
                .map_err(|err| seen_by::<R>(err, &author))?;
                stored::<R>(200, record, &author, false)
            }
            None => {
                // `If-Match` (a version, or `*`) needs a current record.
                if check.requires_record() {
                    return Err(Error::PreconditionFailed {
                        current_version: None,
                    });
                }
                let record = R::create(conn, &input.check(|input| R::validate((), input))?)?;
                stored::<R>(201, record, &author, true)
            }
        }
    })
    .await?;
    idempotency::to_http(&response, false)
}

/// PATCH: applies a JSON merge patch to the current record; the result is
/// validated as a whole. A patch that changes nothing keeps the version.
pub async fn patch<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: R::Scope,
    id: Uuid,
    check: VersionCheck,
    mut patch: MergePatch,
) -> Result<HttpResponse, Error> {
    if R::hidden_fields(&viewer)
        .iter()
        .any(|field| patch.names(field))
    {
        return Err(Error::Forbidden { scope: "pii" });
    }
    let may_reparent = R::PARENT_FIELD.is_some_and(|field| patch.sets(field));
    let author = viewer.clone();
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        resolve_members::<R>(conn, patch.members_mut())?;
        let check = stored_check::<R>(conn, scope, id, check, &author)?;
        let record = R::update(conn, scope, id, &check, may_reparent, |current| {
            patch
                .apply(&R::input_of(current)?)?
                .check(|input| R::validate(scope, input))
        })
        .map_err(|err| seen_by::<R>(err, &author))?;
        stored::<R>(200, record, &author, false)
    })
    .await?;
    idempotency::to_http(&response, false)
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
        let check = stored_check::<R>(conn, scope, id, check, &viewer)?;
        R::delete(conn, scope, id, &check).map_err(|err| seen_by::<R>(err, &viewer))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Defines the standard handlers of a top-level resource over the generic
/// functions above — `create` (POST, with `Idempotency-Key`), `replace`
/// (PUT), `update` (PATCH, merge patch), `delete` and `upsert` (PUT by
/// external identifier) — with their OpenAPI annotations. Everything the
/// handlers name is named by its full path.
#[macro_export]
macro_rules! standard_handlers {
    (
        resource = $R:ident,
        input = $Input:ident,
        patch = $Patch:ident,
        output = $Output:ident,
        tag = $tag:tt,
        collection = $collection:tt,
        item = $item:tt,
        by_identifier = $by_identifier:tt,
        operation_ids = [$create:tt, $replace:tt, $update:tt, $delete:tt, $upsert:tt],
        summaries = [$create_s:tt, $replace_s:tt, $update_s:tt, $delete_s:tt, $upsert_s:tt],
    ) => {
        #[utoipa::path(
            post,
            path = $collection,
            tag = $tag,
            operation_id = $create,
            summary = $create_s,
            params($crate::api::idempotency::IdempotencyKeyHeader),
            request_body(content = $Input, content_type = "application/json"),
            responses(
                (status = 201, description = "Created", body = $Output, headers(
                    ("Location" = String, description = "URL of the new record"),
                    ("ETag" = String, description = "Entity tag of the new version"))),
                $crate::api::problems::CreateErrors,
            )
        )]
        pub async fn create(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            $crate::api::idempotency::Idempotency(idempotency): $crate::api::idempotency::Idempotency,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::create::<$R>(&pool, viewer, (), body.0, idempotency).await
        }

        #[utoipa::path(
            put,
            path = $item,
            tag = $tag,
            operation_id = $replace,
            summary = $replace_s,
            params(("id" = Uuid, Path, description = "Record id"), $crate::api::preconditions::IfMatch),
            request_body(content = $Input, content_type = "application/json"),
            responses(
                (status = 200, description = "Replaced (omitted optional fields are cleared)", body = $Output,
                    headers(("ETag" = String, description = "Entity tag of the new version"))),
                $crate::api::problems::UpdateErrors,
            )
        )]
        pub async fn replace(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            id: ::actix_web::web::Path<::uuid::Uuid>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::replace::<$R>(&pool, viewer, (), *id, check, body.0).await
        }

        #[utoipa::path(
            patch,
            path = $item,
            tag = $tag,
            operation_id = $update,
            summary = $update_s,
            params(("id" = Uuid, Path, description = "Record id"), $crate::api::preconditions::IfMatch),
            request_body(content = $Patch, content_type = "application/merge-patch+json"),
            responses(
                (status = 200, description = "Updated (a patch that changes nothing keeps the version)", body = $Output,
                    headers(("ETag" = String, description = "Entity tag of the new version"))),
                $crate::api::problems::UpdateErrors,
            )
        )]
        pub async fn update(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            id: ::actix_web::web::Path<::uuid::Uuid>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            patch: $crate::api::merge_patch::MergePatch,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::patch::<$R>(&pool, viewer, (), *id, check, patch).await
        }

        #[utoipa::path(
            delete,
            path = $item,
            tag = $tag,
            operation_id = $delete,
            summary = $delete_s,
            params(("id" = Uuid, Path, description = "Record id"), $crate::api::preconditions::IfMatch),
            responses(
                (status = 204, description = "Deleted; the record is kept as a tombstone"),
                $crate::api::problems::DeleteErrors,
            )
        )]
        pub async fn delete(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            id: ::actix_web::web::Path<::uuid::Uuid>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::delete::<$R>(&pool, viewer, (), *id, check).await
        }

        #[utoipa::path(
            put,
            path = $by_identifier,
            tag = $tag,
            operation_id = $upsert,
            summary = $upsert_s,
            params(
                ("scheme" = String, Path, description = "Identifier scheme",
                    min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
                ("value" = String, Path, description = "Identifier value (percent-encoded)",
                    min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"),
                $crate::api::preconditions::IfMatch,
            ),
            request_body(content = $Input, content_type = "application/json"),
            responses(
                (status = 200, description = "Replaced (the same body again changes nothing: same version)", body = $Output,
                    headers(("ETag" = String, description = "Entity tag of the current version"))),
                (status = 201, description = "Created", body = $Output, headers(
                    ("Location" = String, description = "URL of the new record"),
                    ("ETag" = String, description = "Entity tag of the new version"))),
                $crate::api::problems::UpdateErrors,
            )
        )]
        pub async fn upsert(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            path: ::actix_web::web::Path<(String, String)>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            let identifier = $crate::api::common::by_identifier(path.into_inner())?;
            $crate::api::resource::upsert::<$R>(&pool, viewer, identifier, check, body.0).await
        }
    };
}

/// Defines the standard `get` handler of a top-level resource (GET with
/// `If-None-Match`), with its OpenAPI annotation.
#[macro_export]
macro_rules! standard_get {
    (resource = $R:ident, output = $Output:ident, tag = $tag:tt, item = $item:tt, operation_id = $get:tt, summary = $summary:tt,) => {
        #[utoipa::path(
                    get,
                    path = $item,
                    tag = $tag,
                    operation_id = $get,
                    summary = $summary,
                    params(("id" = Uuid, Path, description = "Record id"), $crate::api::preconditions::IfNoneMatch),
                    responses(
                        (status = 200, description = "The record", body = $Output,
                            headers(("ETag" = String, description = "Entity tag of this version"))),
                        (status = 304, description = "The client's copy (If-None-Match) is current",
                            headers(("ETag" = String, description = "Entity tag of this version"))),
                        $crate::api::problems::ReadErrors,
                    )
                )]
        pub async fn get(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            id: ::actix_web::web::Path<::uuid::Uuid>,
            if_none_match: $crate::api::preconditions::IfNoneMatch,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::get::<$R>(&pool, viewer, (), *id, if_none_match).await
        }
    };
}
