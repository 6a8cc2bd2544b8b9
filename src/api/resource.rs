//! The shape every resource of the register shares — create (POST, with
//! `Idempotency-Key`), read (GET with `If-None-Match`), replace (PUT) and
//! change (PATCH, a JSON merge patch) under `If-Match`, upsert by external
//! identifier, soft delete — written once, generic over [`Resource`], with
//! their handlers ([`handlers!`](crate::handlers)).
//!
//! Every body is parsed into its typed input and checked by the resource's
//! rules before a connection is taken; inside the transaction only what
//! needs the database remains: references resolve in the store, and a
//! patch applies to the current record.

use crate::api::common::path_segment;
use crate::api::extract::{parse_object, Parsed};
use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::input::{Input, Refs, Target};
use crate::api::preconditions::{etag, IfNoneMatch};
use crate::db::{self, PgPool};
use crate::domain::{Identifier, Parse, Reference};
use crate::error::{ConflictingRecord, Error, FieldError};
use crate::store::api_keys::Principal;
use crate::store::crud::Crud;
use crate::store::idempotency::{self as remembered, StoredResponse};
use crate::store::refs::{Table, EVENTS};
use crate::store::{identifiers, VersionCheck};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::Deserialize;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// What a resource is made of: where it is stored, what clients send and
/// get, where it lives. Declared with the resource by
/// [`handlers!`](crate::handlers); its behaviour is [`Resource`].
pub trait ResourceTypes: 'static {
    /// Where records are stored: reads and writes go through it. Its
    /// scope (what the collection's path names: nothing for top-level
    /// resources, the event for participants), record and content are the
    /// resource's ([`ScopeOf`], [`RecordOf`], [`DataOf`]).
    type Store: Crud<Scope: Scope, Record: Send + 'static, Data: Send + 'static>;
    /// The writable fields, as clients send them (POST, PUT; the base a
    /// merge patch applies to, see [`PatchOf`]).
    type Input: Input<
            Data = DataOf<Self>,
            Scope = ScopeOf<Self>,
            Patch: DeserializeOwned + utoipa::ToSchema + Send + 'static,
        > + Serialize
        + DeserializeOwned
        + utoipa::ToSchema
        + Send
        + 'static;
    /// The representation clients get.
    type Output: Serialize;

    /// The path of the collection, before the records' ids.
    const PATH: &'static str;
}

/// A resource of the register: its rules, how its records are presented
/// and stored.
pub trait Resource: ResourceTypes {
    /// The version of `record`.
    fn version(record: &RecordOf<Self>) -> i64 {
        Self::Store::version(record)
    }
    /// The version `viewer` sees (and names in `If-Match`): for viewers
    /// with hidden fields, one that changes to those fields do not move.
    fn visible_version(record: &RecordOf<Self>, _viewer: &Principal) -> i64 {
        Self::version(record)
    }
    /// The URL path of `record`.
    fn location(record: &RecordOf<Self>) -> String {
        format!("{}/{}", Self::PATH, Self::Store::id(record))
    }
    /// The stored content of `record`.
    fn data(record: &RecordOf<Self>) -> DataOf<Self> {
        Self::Store::data(record)
    }
    /// The rules across fields (422 naming each field at fault), checked
    /// before the input is stored.
    fn rules(_input: &Self::Input) -> Vec<FieldError> {
        Vec::new()
    }
    /// The rules only the stored content can be checked by (references
    /// resolved).
    fn data_rules(_data: &DataOf<Self>) -> Vec<FieldError> {
        Vec::new()
    }
    /// Whether storing `input` may move the record within its tree (such
    /// writes take the tree lock first).
    fn moves(_input: &Self::Input) -> bool {
        false
    }
    /// Whether `patch` may move the record within its tree.
    fn patch_moves(_patch: &PatchOf<Self>) -> bool {
        false
    }
    /// Whether `viewer` may neither see nor write some fields (personal
    /// data without the `pii` scope).
    fn hides(_viewer: &Principal) -> bool {
        false
    }
    /// Whether `input` sets a field that [`Self::hides`] hides.
    fn sets_hidden(_input: &Self::Input) -> bool {
        false
    }
    /// Whether `patch` names a field that [`Self::hides`] hides.
    fn patch_names_hidden(_patch: &PatchOf<Self>) -> bool {
        false
    }
    /// Whether the input member `field` is one [`Self::hides`] hides.
    fn is_hidden(_field: &str) -> bool {
        false
    }
    /// `data` with the hidden fields' values of `current` (a PUT by a
    /// viewer who cannot see them keeps them).
    fn keep_hidden(_data: &mut DataOf<Self>, _current: &RecordOf<Self>) {}
    /// The representation of `record` for `viewer`.
    fn present(record: RecordOf<Self>, viewer: &Principal) -> Result<Self::Output, Error>;
    /// The input field that writes stored column `column`, for the problem
    /// documents of writes the store refuses: by default the field of the
    /// same name.
    fn field_of(column: &'static str) -> &'static str {
        column
    }

    /// The live record `id` in `scope`, or 404 (see [`Crud`] for this and
    /// the writes below).
    fn find(
        conn: &mut PgConnection,
        scope: ScopeOf<Self>,
        id: Uuid,
    ) -> Result<RecordOf<Self>, Error> {
        Self::Store::find(conn, scope, id)
    }
    /// (`data` names its scope where the record has one.)
    fn create(
        conn: &mut PgConnection,
        _scope: ScopeOf<Self>,
        data: &DataOf<Self>,
    ) -> Result<RecordOf<Self>, Error> {
        Self::Store::create(conn, data).map_err(in_fields::<Self>)
    }
    /// (See [`Crud::create_many`].)
    fn create_many(
        conn: &mut PgConnection,
        data: &[DataOf<Self>],
    ) -> Result<Vec<RecordOf<Self>>, Error> {
        Self::Store::create_many(conn, data).map_err(in_fields::<Self>)
    }
    fn update(
        conn: &mut PgConnection,
        scope: ScopeOf<Self>,
        id: Uuid,
        check: &VersionCheck,
        may_reparent: bool,
        change: impl FnOnce(&mut PgConnection, &RecordOf<Self>) -> Result<DataOf<Self>, Error>,
    ) -> Result<RecordOf<Self>, Error> {
        Self::Store::update(conn, scope, id, check, may_reparent, change).map_err(in_fields::<Self>)
    }
    fn delete(
        conn: &mut PgConnection,
        scope: ScopeOf<Self>,
        id: Uuid,
        check: &VersionCheck,
    ) -> Result<(), Error> {
        Self::Store::delete(conn, scope, id, check)
    }
}

/// `err` in the terms of `R`'s input: the columns the store refused become
/// the fields that wrote them (422).
fn in_fields<R: Resource + ?Sized>(err: Error) -> Error {
    match err {
        Error::Columns(errors) => Error::Validation(
            errors
                .into_iter()
                .map(|e| FieldError::new(R::field_of(e.column), e.message))
                .collect(),
        ),
        other => other,
    }
}

/// Resources whose records carry identifiers are what references name.
impl<R: Resource> Target for R {
    const TABLE: Table = match <R::Store as Crud>::IDENTIFIED {
        Some(table) => table,
        None => panic!("a reference to records without identifiers"),
    };
}

/// What a resource's records are scoped by, as its paths name it.
pub trait Scope: Copy + Send + 'static {
    /// The path parameter naming a record in its item paths.
    const RECORD: &'static str;
    /// The scope as a path names it, before it is looked up.
    type Named: Send + 'static;
    /// The scope a request's path names (its `{id}`, where there is one).
    fn of(req: &HttpRequest) -> Result<Self::Named, Error>;
    /// The scope `named` names (404 when it names no live record).
    fn resolve(conn: &mut PgConnection, named: &Self::Named) -> Result<Self, Error>;
}

impl Scope for () {
    const RECORD: &'static str = "id";
    type Named = ();

    fn of(_: &HttpRequest) -> Result<(), Error> {
        Ok(())
    }

    fn resolve(_: &mut PgConnection, (): &()) -> Result<(), Error> {
        Ok(())
    }
}

/// The scope of the only scoped records, event participants: their event,
/// by its id or one of its identifiers.
impl Scope for Uuid {
    const RECORD: &'static str = "participant_id";
    type Named = Reference;

    fn of(req: &HttpRequest) -> Result<Reference, Error> {
        Reference::deserialize(path_segment(req, "id")?.into_deserializer())
            .map_err(|err: serde::de::value::Error| Error::bad_parameter("id", err.to_string()))
    }

    fn resolve(conn: &mut PgConnection, event: &Reference) -> Result<Uuid, Error> {
        identifiers::live_id(conn, EVENTS, event)
    }
}

/// `R`'s scope as a path names it.
pub type NamedScopeOf<R> = <ScopeOf<R> as Scope>::Named;

/// What `R`'s records are scoped by.
pub type ScopeOf<R> = <<R as ResourceTypes>::Store as Crud>::Scope;
/// A stored record of `R`.
pub type RecordOf<R> = <<R as ResourceTypes>::Store as Crud>::Record;
/// The stored content of `R`'s records.
pub type DataOf<R> = <<R as ResourceTypes>::Store as Crud>::Data;
/// A merge patch of `R`'s input.
pub type PatchOf<R> = <<R as ResourceTypes>::Input as Input>::Patch;

/// The record an item path names: its scope, and the record by its id or
/// by one of its identifiers as `scheme:value` (a UUID never contains
/// `:`), resolved where it is read ([`Item::id`]).
pub struct Item<R: Resource>(pub NamedScopeOf<R>, pub Reference);

impl<R: Resource> Item<R> {
    /// The scope and id of the record named (404 when the path names no
    /// live scope or record).
    pub fn key(&self, conn: &mut PgConnection) -> Result<(ScopeOf<R>, Uuid), Error> {
        Ok((ScopeOf::<R>::resolve(conn, &self.0)?, self.id(conn)?))
    }

    /// The id of the record named: the one given, or that of the live
    /// record carrying the identifier (404 when none does).
    pub fn id(&self, conn: &mut PgConnection) -> Result<Uuid, Error> {
        match &self.1 {
            Reference::Id(id) => Ok(*id),
            Reference::Identifier(identifier) => {
                let table = <R::Store as Crud>::IDENTIFIED
                    .ok_or_else(|| Error::internal("resource without identifiers"))?;
                identifiers::owner_of(conn, table, identifier)
            }
        }
    }
}

crate::from_head!(impl[R: Resource] for Item<R>, |req| {
    let scope = ScopeOf::<R>::of(req)?;
    let segment = path_segment(req, <ScopeOf<R> as Scope>::RECORD)?;
    Reference::deserialize(segment.as_str().into_deserializer())
        .map(|reference| Self(scope, reference))
        .map_err(|err: serde::de::value::Error| {
            Error::bad_parameter(<ScopeOf<R> as Scope>::RECORD, err.to_string())
        })
});

/// The scope a collection path names.
pub struct InScope<R: Resource>(pub NamedScopeOf<R>);

crate::from_head!(impl[R: Resource] for InScope<R>, |req| {
    ScopeOf::<R>::of(req).map(Self)
});

/// `record` as a response with its ETag; clients revalidate, shared caches
/// keep nothing (`Cache-Control: private, no-cache`).
fn stored<R: Resource>(
    status: u16,
    record: RecordOf<R>,
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

/// Refuses (403) a write by a viewer who `hides` fields that `touches`
/// one.
fn refuse_hidden(hides: bool, touches: bool) -> Result<(), Error> {
    if hides && touches {
        Err(Error::Forbidden { scope: "pii" })
    } else {
        Ok(())
    }
}

/// The members of an object (e.g. one record of an import) as `R`'s input,
/// parsed and checked as a POST body is: 403 when they set fields hidden
/// from `viewer`, 422 naming every field at fault.
pub fn input_of<R: Resource>(
    viewer: &Principal,
    members: Map<String, Value>,
) -> Result<R::Input, Error> {
    let input = parse_object::<R::Input>(members)?;
    refuse_hidden(R::hides(viewer), R::sets_hidden(input.peek()))?;
    checked::<R>(input)
}

/// The body's input, checked by the resource's rules: a 422 naming every
/// field at fault, the rules' findings with the faults of parsing.
fn checked<R: Resource>(input: Parsed<R::Input>) -> Result<R::Input, Error> {
    input.check(|input| {
        let faults = R::rules(&input);
        if faults.is_empty() {
            Ok(input)
        } else {
            Err(Error::Validation(faults))
        }
    })
}

/// The content `input` becomes: references resolved, then the rules of
/// the stored content.
pub fn to_data<R: Resource>(
    conn: &mut PgConnection,
    scope: ScopeOf<R>,
    input: R::Input,
) -> Result<DataOf<R>, Error> {
    let data = Refs::resolve(conn, |refs| input.into_data(scope, refs))?;
    let faults = R::data_rules(&data);
    if faults.is_empty() {
        Ok(data)
    } else {
        Err(Error::Validation(faults))
    }
}

/// `check` (from `If-Match`, in the versions `viewer` sees) as a check of
/// the stored version of record `id`. Where the viewer's versions are the
/// stored ones this is `check` itself; otherwise the current record is read
/// and a match becomes a check of its stored version, which the write then
/// verifies under the row lock (so a change in between still fails).
fn stored_check<R: Resource>(
    conn: &mut PgConnection,
    scope: ScopeOf<R>,
    id: Uuid,
    check: VersionCheck,
    viewer: &Principal,
) -> Result<VersionCheck, Error> {
    let VersionCheck::OneOf(expected) = &check else {
        return Ok(check);
    };
    if !R::hides(viewer) {
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
        Error::PreconditionFailed { .. } if R::hides(viewer) => Error::PreconditionFailed {
            current_version: None,
        },
        other => other,
    }
}

/// POST: 201 with `Location` and `ETag`. With an `Idempotency-Key`, the
/// first response is stored with the write and replayed for retries.
pub async fn create<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: NamedScopeOf<R>,
    input: Parsed<R::Input>,
    idempotency: Option<IdempotencyKey>,
) -> Result<HttpResponse, Error> {
    refuse_hidden(R::hides(&viewer), R::sets_hidden(input.peek()))?;
    let input = checked::<R>(input)?;
    let remember = match &idempotency {
        Some(key) => {
            let hash = key.request_hash(&input)?;
            if let Some(response) = replay(pool, &viewer, key, &hash).await? {
                return Ok(response);
            }
            Some((key.clone(), hash))
        }
        None => None,
    };
    let author = viewer.clone();
    let hash = remember.as_ref().map(|(_, hash)| hash.clone());
    let outcome = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let scope = ScopeOf::<R>::resolve(conn, &scope)?;
        let data = to_data::<R>(conn, scope, input)?;
        let record = R::create(conn, scope, &data)?;
        let response = stored::<R>(201, record, &author, true)?;
        if let Some((key, hash)) = &remember {
            remembered::remember(conn, author.key_id, &key.key, key.ttl, hash, &response)?;
        }
        Ok(response)
    })
    .await;
    match (outcome, &idempotency, hash) {
        (Ok(response), _, _) => idempotency::to_http(&response, false),
        // A concurrent request with the same key may have won: replay it.
        (Err(err), Some(key), Some(hash)) => match replay(pool, &viewer, key, &hash).await? {
            Some(response) => Ok(response),
            None => Err(err),
        },
        (Err(err), _, _) => Err(err),
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
    item: Item<R>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, Error> {
    let record = db::run(pool, move |conn| {
        let (scope, id) = item.key(conn)?;
        R::find(conn, scope, id)
    })
    .await?;
    let version = R::visible_version(&record, &viewer);
    if if_none_match.matches(&etag(version)) {
        return Ok(HttpResponse::NotModified()
            .insert_header(header::ETag(etag(version)))
            .finish());
    }
    idempotency::to_http(&stored::<R>(200, record, &viewer, false)?, false)
}

/// Writes `input` over record `id` (checked against its version by
/// `check`), keeping the fields hidden from `author`; `before` gets the
/// version it had.
fn overwrite<R: Resource>(
    conn: &mut PgConnection,
    author: &Principal,
    (scope, id): (ScopeOf<R>, Uuid),
    check: VersionCheck,
    input: R::Input,
    before: &mut Option<i64>,
) -> Result<RecordOf<R>, Error> {
    let check = stored_check::<R>(conn, scope, id, check, author)?;
    let may_move = R::moves(&input);
    let hides = R::hides(author);
    R::update(conn, scope, id, &check, may_move, |conn, current| {
        *before = Some(R::version(current));
        let mut data = to_data::<R>(conn, scope, input)?;
        if hides {
            R::keep_hidden(&mut data, current);
        }
        Ok(data)
    })
    .map_err(|err| seen_by::<R>(err, author))
}

/// PUT: replaces every writable field (omitted optional ones are cleared,
/// except those hidden from the writer, which keep their values).
pub async fn replace<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    item: Item<R>,
    check: VersionCheck,
    input: Parsed<R::Input>,
) -> Result<HttpResponse, Error> {
    refuse_hidden(R::hides(&viewer), R::sets_hidden(input.peek()))?;
    let input = checked::<R>(input)?;
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let (scope, id) = item.key(conn)?;
        let record = overwrite::<R>(conn, &viewer, (scope, id), check, input, &mut None)?;
        stored::<R>(200, record, &viewer, false)
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
pub async fn upsert<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    scope: NamedScopeOf<R>,
    identifier: Identifier,
    check: VersionCheck,
    input: Parsed<R::Input>,
) -> Result<HttpResponse, Error> {
    refuse_hidden(R::hides(&viewer), R::sets_hidden(input.peek()))?;
    let mut input = checked::<R>(input)?;
    let listed = input
        .identifiers()
        .ok_or_else(|| Error::internal("resource without identifiers"))?;
    if !listed.0.contains(&identifier) {
        listed.0.push(identifier.clone());
    }
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let scope = ScopeOf::<R>::resolve(conn, &scope)?;
        match upsert_in::<R>(
            conn,
            &viewer,
            (scope, &identifier, None),
            Lock::Wait,
            check,
            input,
        )? {
            (Written::Created, record) => stored::<R>(201, record, &viewer, true),
            (_, record) => stored::<R>(200, record, &viewer, false),
        }
    })
    .await?;
    idempotency::to_http(&response, false)
}

/// Whether an upsert waits for concurrent upserts of its identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Wait,
    None,
}

/// What writing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// The record already held what was written: same version, no journal
    /// entry.
    Unchanged,
}

/// Inside a transaction: writes `input` (checked by the resource's rules,
/// carrying `identifier`) as the record of `R` in `scope` that carries
/// `identifier` — replacing the live one that does (under `check`), else
/// the live record `or_id` (a record a file names by its id, which takes
/// the identifier, unless it carries another of the identifier's scheme:
/// then the file names it by that one, and the record is not written twice
/// under two names — 409), else creating it. Concurrent writers of one new
/// identifier create one record: with `Lock::Wait` the second waits for the
/// first and replaces what it wrote; with `Lock::None` (for bulk writes,
/// which would hold one lock a record) the second fails on the identifier's
/// unique key.
pub fn upsert_in<R: Resource>(
    conn: &mut PgConnection,
    author: &Principal,
    (scope, identifier, or_id): (ScopeOf<R>, &Identifier, Option<Uuid>),
    lock: Lock,
    check: VersionCheck,
    input: R::Input,
) -> Result<(Written, RecordOf<R>), Error> {
    let table = <R::Store as Crud>::IDENTIFIED
        .ok_or_else(|| Error::internal("resource without identifiers"))?;
    let (scheme, value) = (identifier.scheme.as_str(), identifier.value.as_str());
    if lock == Lock::Wait {
        identifiers::lock(conn, table, scheme, value)?;
    }
    let owner = match (identifiers::owner(conn, table, scheme, value)?, or_id) {
        (Some(id), _) => Some(id),
        (None, Some(id)) => match <R::Store as Crud>::find(conn, scope, id) {
            Ok(_) => match identifiers::value_of(conn, table, id, scheme)? {
                None => Some(id),
                Some(known) => {
                    return Err(Error::Conflict {
                        detail: format!(
                            "id {id} is the {entity} known as {scheme}:{known}: name it by \
                             that id (an object of the file may not write it under another)",
                            entity = table.entity
                        ),
                        conflicts: vec![ConflictingRecord {
                            entity_type: table.entity.to_owned(),
                            id,
                            name: format!("{scheme}:{known}"),
                        }],
                    })
                }
            },
            Err(Error::NotFound(_)) => None,
            Err(err) => return Err(err),
        },
        (None, None) => None,
    };
    match owner {
        Some(id) => {
            let mut before = None;
            let record = overwrite::<R>(conn, author, (scope, id), check, input, &mut before)
                .map_err(|err| match err {
                    // The owner is live (its identifier is locked): it lies
                    // outside `scope`, e.g. a participant of another event.
                    Error::NotFound(_) => Error::Conflict {
                        detail: format!(
                            "identifier {identifier} belongs to a {} outside this path",
                            table.entity
                        ),
                        conflicts: vec![ConflictingRecord {
                            entity_type: table.entity.to_owned(),
                            id,
                            name: identifier.to_string(),
                        }],
                    },
                    other => other,
                })?;
            let written = match before == Some(R::version(&record)) {
                true => Written::Unchanged,
                false => Written::Updated,
            };
            Ok((written, record))
        }
        None => {
            // `If-Match` (a version, or `*`) needs a current record.
            if check.requires_record() {
                return Err(Error::PreconditionFailed {
                    current_version: None,
                });
            }
            Ok((Written::Created, create_in::<R>(conn, scope, input)?))
        }
    }
}

/// Inside a transaction: creates a record of `R` in `scope` from `input`
/// (checked by the resource's rules).
pub fn create_in<R: Resource>(
    conn: &mut PgConnection,
    scope: ScopeOf<R>,
    input: R::Input,
) -> Result<RecordOf<R>, Error> {
    let data = to_data::<R>(conn, scope, input)?;
    R::create(conn, scope, &data)
}

/// PATCH: applies a JSON merge patch to the current record; the result is
/// checked as a whole. A patch that changes nothing keeps the version.
pub async fn patch<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    item: Item<R>,
    check: VersionCheck,
    patch: Parsed<PatchOf<R>>,
) -> Result<HttpResponse, Error> {
    refuse_hidden(R::hides(&viewer), R::patch_names_hidden(patch.peek()))?;
    let patch = patch.check(Ok)?;
    let may_move = R::patch_moves(&patch);
    let response = db::transaction(pool, Some(viewer.key_id), move |conn| {
        let (scope, id) = item.key(conn)?;
        let check = stored_check::<R>(conn, scope, id, check, &viewer)?;
        let hides = R::hides(&viewer);
        let record = R::update(conn, scope, id, &check, may_move, |conn, current| {
            let unseen = |field: &str| hides && R::is_hidden(field);
            let mut input = R::Input::from_data(R::data(current), &unseen)?;
            input.apply(patch);
            let faults = R::rules(&input);
            if !faults.is_empty() {
                return Err(Error::Validation(faults));
            }
            let mut data = to_data::<R>(conn, scope, input)?;
            if hides {
                R::keep_hidden(&mut data, current);
            }
            Ok(data)
        })
        .map_err(|err| seen_by::<R>(err, &viewer))?;
        stored::<R>(200, record, &viewer, false)
    })
    .await?;
    idempotency::to_http(&response, false)
}

/// DELETE: soft delete, 204.
pub async fn delete<R: Resource>(
    pool: &PgPool,
    viewer: Principal,
    item: Item<R>,
    check: VersionCheck,
) -> Result<HttpResponse, Error> {
    db::transaction(pool, Some(viewer.key_id), move |conn| {
        let (scope, id) = item.key(conn)?;
        let check = stored_check::<R>(conn, scope, id, check, &viewer)?;
        R::delete(conn, scope, id, &check).map_err(|err| seen_by::<R>(err, &viewer))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Declares a resource — its struct and [`ResourceTypes`] — and defines its
/// standard handlers over the generic functions above, with their OpenAPI
/// operations: `create` (POST, with
/// `Idempotency-Key`), `get`, `replace` (PUT), `update` (PATCH, merge
/// patch), `delete` and, for resources with identifiers, `upsert` (PUT by
/// external identifier). The paths' parameters are documented as given
/// (the scope's, then the record's); everything the handlers name is named
/// by its full path.
#[macro_export]
macro_rules! handlers {
    // A top-level resource at `$path` (items at `$path/{id}`, upserts at
    // `$path/by-identifier?scheme=…&value=…`, formerly — still served, not
    // documented — at `$path/by-identifier/{scheme}/{value}`): the standard operations are
    // named after `$Noun` and summarized with `$a`/`$the` (a person, the
    // person) unless given; `routes` lists the module's other handlers.
    (
        $(#[doc = $doc:literal])*
        pub struct $R:ident: $Input:ident, $Patch:ident => $Output:ident in $Store:path,
        $tag:literal at $path:literal for $Noun:literal ($a:literal, $the:literal),
        routes [$($scope:ident => $handler:ident $(from $reads:ident)?),* $(,)?],
        $(own $own:ident,)?
        $(get $get:literal,)?
        $(replace $replace:literal,)?
        $(update $update:literal,)?
        delete $delete:literal $(,)?
    ) => {
        $crate::handlers!(@types [$(#[doc = $doc])*] $R, $Input, $Output, $Store, $path);
        $crate::handlers!(@create $R, $Input, $Output, $tag, $path, (), concat!("create", $Noun), concat!("Creates ", $a, "."), $crate::api::problems::CreateErrors);
        $crate::handlers!(@unless [$($own)?] @get $R, $Output, $tag, concat!($path, "/{id}"), (("id" = $crate::domain::Reference, Path, description = "The record: its id, or one of its identifiers as `scheme:value`")), concat!("get", $Noun), $crate::handlers!(@or [$($get)?] concat!("Gets ", $a, ".")));
        $crate::handlers!(@replace $R, $Input, $Output, $tag, concat!($path, "/{id}"), (("id" = $crate::domain::Reference, Path, description = "The record: its id, or one of its identifiers as `scheme:value`")), concat!("replace", $Noun), $crate::handlers!(@or [$($replace)?] concat!("Replaces ", $a, " (every writable field; omitted optional fields are cleared).")));
        $crate::handlers!(@update $R, $Patch, $Output, $tag, concat!($path, "/{id}"), (("id" = $crate::domain::Reference, Path, description = "The record: its id, or one of its identifiers as `scheme:value`")), concat!("update", $Noun), $crate::handlers!(@or [$($update)?] concat!("Changes some fields of ", $a, " (JSON merge patch).")));
        $crate::handlers!(@delete $R, $tag, concat!($path, "/{id}"), (("id" = $crate::domain::Reference, Path, description = "The record: its id, or one of its identifiers as `scheme:value`")), concat!("delete", $Noun), $delete);
        $crate::handlers!(@upsert $R, $Input, $Output, $tag, concat!($path, "/by-identifier"), (), concat!("upsert", $Noun, "ByIdentifier"), concat!("Creates or replaces ", $the, " carrying an external identifier."));
        $crate::routes! {
            $($scope => $handler $(from $reads)?,)*
            Write => create,
            Write => upsert aka concat!($path, "/by-identifier/{scheme}/{value}"),
            Read => get,
            Write => replace,
            Write => update,
            Write => delete,
        }
    };
    (@unless [get] $($skipped:tt)*) => {};
    (@unless [] $($arm:tt)*) => { $crate::handlers!($($arm)*); };
    (@or [$given:literal] $default:expr) => { $given };
    (@or [] $default:expr) => { $default };
    // A resource inside another, as its paths' parameters say.
    (
        $(#[doc = $doc:literal])*
        pub struct $R:ident: $Input:ident, $Patch:ident => $Output:ident in $Store:path, under $base:literal,
        $tag:literal at $collection:literal $scope_params:tt / $item:literal $item_params:tt,
        routes [$($scope:ident => $handler:ident $(from $reads:ident)?),* $(,)?],
        create ($create:literal, $create_summary:literal),
        get ($get:literal, $get_summary:literal),
        replace ($replace:literal, $replace_summary:literal),
        update ($update:literal, $update_summary:literal),
        delete ($delete:literal, $delete_summary:literal),
        upsert ($upsert:literal, $upsert_summary:literal) $(,)?
    ) => {
        $crate::handlers!(@types [$(#[doc = $doc])*] $R, $Input, $Output, $Store, $base);
        $crate::handlers!(@upsert $R, $Input, $Output, $tag, concat!($collection, "/by-identifier"), $scope_params, $upsert, $upsert_summary);
        $crate::handlers!(@create $R, $Input, $Output, $tag, $collection, $scope_params, $create, $create_summary, $crate::api::problems::CreateInErrors);
        $crate::handlers!(@get $R, $Output, $tag, $item, $item_params, $get, $get_summary);
        $crate::handlers!(@replace $R, $Input, $Output, $tag, $item, $item_params, $replace, $replace_summary);
        $crate::handlers!(@update $R, $Patch, $Output, $tag, $item, $item_params, $update, $update_summary);
        $crate::handlers!(@delete $R, $tag, $item, $item_params, $delete, $delete_summary);
        $crate::routes! {
            $($scope => $handler $(from $reads)?,)*
            Write => create,
            Write => upsert aka concat!($collection, "/by-identifier/{scheme}/{value}"),
            Read => get,
            Write => replace,
            Write => update,
            Write => delete,
        }
    };
    (@types [$($doc:tt)*] $R:ident, $Input:ty, $Output:ty, $Store:ty, $path:expr) => {
        $($doc)*
        pub struct $R;

        impl $crate::api::resource::ResourceTypes for $R {
            type Input = $Input;
            type Output = $Output;
            type Store = $Store;

            const PATH: &'static str = $path;
        }
    };
    (@create $R:ty, $Input:ty, $Output:ty, $tag:literal, $path:expr, ($($param:tt),*), $id:expr, $summary:expr, $errors:path) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)* $crate::api::idempotency::IdempotencyKeyHeader),
            request_body(content = $Input, content_type = "application/json"),
            responses(
                (status = 201, description = "Created", body = $Output, headers(
                    ("Location" = String, description = "URL of the new record"),
                    ("ETag" = String, description = "Entity tag of the new version"))),
                $errors,
            )
        )]
        pub async fn create(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            $crate::api::resource::InScope(scope): $crate::api::resource::InScope<$R>,
            $crate::api::idempotency::Idempotency(idempotency): $crate::api::idempotency::Idempotency,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::create::<$R>(&pool, viewer, scope, body.0, idempotency).await
        }
    };
    (@get $R:ty, $Output:ty, $tag:literal, $path:expr, ($($param:tt),+), $id:expr, $summary:expr) => {
        #[utoipa::path(
            get,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)+ $crate::api::preconditions::IfNoneMatch),
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
            key: $crate::api::resource::Item<$R>,
            if_none_match: $crate::api::preconditions::IfNoneMatch,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::get::<$R>(&pool, viewer, key, if_none_match).await
        }
    };
    (@replace $R:ty, $Input:ty, $Output:ty, $tag:literal, $path:expr, ($($param:tt),+), $id:expr, $summary:expr) => {
        #[utoipa::path(
            put,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)+ $crate::api::preconditions::IfMatch),
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
            key: $crate::api::resource::Item<$R>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::replace::<$R>(&pool, viewer, key, check, body.0).await
        }
    };
    (@update $R:ty, $Patch:ty, $Output:ty, $tag:literal, $path:expr, ($($param:tt),+), $id:expr, $summary:expr) => {
        #[utoipa::path(
            patch,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)+ $crate::api::preconditions::IfMatch),
            request_body(content(($Patch = "application/merge-patch+json"), ($Patch = "application/json"))),
            responses(
                (status = 200, description = "Updated (a patch that changes nothing keeps the version)", body = $Output,
                    headers(("ETag" = String, description = "Entity tag of the new version"))),
                $crate::api::problems::UpdateErrors,
            )
        )]
        pub async fn update(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            key: $crate::api::resource::Item<$R>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            body: $crate::api::extract::MergePatchBody<$Patch>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::patch::<$R>(&pool, viewer, key, check, body.0).await
        }
    };
    (@delete $R:ty, $tag:literal, $path:expr, ($($param:tt),+), $id:expr, $summary:expr) => {
        #[utoipa::path(
            delete,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)+ $crate::api::preconditions::IfMatch),
            responses(
                (status = 204, description = "Deleted; the record is kept as a tombstone"),
                $crate::api::problems::DeleteErrors,
            )
        )]
        pub async fn delete(
            pool: ::actix_web::web::Data<$crate::db::PgPool>,
            viewer: $crate::store::api_keys::Principal,
            key: $crate::api::resource::Item<$R>,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::delete::<$R>(&pool, viewer, key, check).await
        }
    };
    (@upsert $R:ty, $Input:ty, $Output:ty, $tag:literal, $path:expr, ($($param:tt),*), $id:expr, $summary:expr) => {
        #[utoipa::path(
            put,
            path = $path,
            tag = $tag,
            operation_id = $id,
            summary = $summary,
            params($($param,)* $crate::api::common::ByIdentifier, $crate::api::preconditions::IfMatch),
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
            $crate::api::resource::InScope(scope): $crate::api::resource::InScope<$R>,
            path: $crate::api::common::ByIdentifier,
            $crate::api::preconditions::IfMatch(check): $crate::api::preconditions::IfMatch,
            body: $crate::api::extract::JsonBody<$Input>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
            $crate::api::resource::upsert::<$R>(&pool, viewer, scope, path.0, check, body.0).await
        }
    };
}
