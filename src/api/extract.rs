//! Request extractors whose failures are problem documents: JSON bodies
//! (415 for another media type, 413 over the size limit, 400 for malformed
//! JSON, 422 naming the field for well-formed but invalid content), query
//! strings (400 naming the parameter) and path segments.

use crate::domain::{faults, Faults};
use crate::error::{Error, FieldError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Largest accepted request body, in bytes. The app puts it in the app data
/// (from its settings); reading a body without it is a wiring bug (500).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body (`application/json`) parsed into `T`, with the
/// members that did not fit (see [`Parsed`]).
#[derive(Debug)]
pub struct JsonBody<T>(pub Parsed<T>);

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, &["application/json"]);
        Box::pin(async move { parse_json(&body.await?).map(JsonBody) })
    }
}

/// A body parsed as `T`, and the fields at fault: members that do not fit
/// `T` (wrong type, unknown value, unknown member) and missing required
/// ones, each replaced by a placeholder so that the rest can still be
/// checked. Only [`Parsed::check`] gets at the value, so a body with
/// faults is never written: it reports them together with what the check
/// finds in the other fields, in one 422.
#[derive(Debug)]
pub struct Parsed<T> {
    value: T,
    faults: Vec<FieldError>,
}

impl<T> Parsed<T> {
    /// A value without faults.
    fn ok(value: T) -> Self {
        Self {
            value,
            faults: Vec::new(),
        }
    }

    /// The value, to read what does not decide validity (e.g. which fields
    /// a body names); placeholders stand where [`Parsed::check`] reports
    /// faults.
    pub fn peek(&self) -> &T {
        &self.value
    }

    /// `check`'s result for the value when there were no faults; otherwise
    /// a 422 naming the faults and every field `check` finds invalid
    /// besides (not those the placeholders stand in).
    pub fn check<D>(self, check: impl FnOnce(T) -> Result<D, Error>) -> Result<D, Error> {
        if self.faults.is_empty() {
            return check(self.value);
        }
        match check(self.value) {
            Err(Error::Validation(more)) => Err(Error::Validation(joined(self.faults, more))),
            _ => Err(Error::Validation(self.faults)),
        }
    }
}

/// `faults` and those of `more` that are not inside one of them (where a
/// placeholder stood).
fn joined(mut faults: Vec<FieldError>, more: Vec<FieldError>) -> Vec<FieldError> {
    let more: Vec<FieldError> = more
        .into_iter()
        .filter(|found| {
            !faults
                .iter()
                .any(|fault| within(&found.field, &fault.field))
        })
        .collect();
    faults.extend(more);
    faults
}

/// Whether the field path `field` is `outer` or lies inside it.
fn within(field: &str, outer: &str) -> bool {
    field
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// A JSON merge patch body (`application/merge-patch+json`, or plain
/// `application/json`) parsed into the patch type `T` (see [`Parsed`]).
#[derive(Debug)]
pub struct MergePatchBody<T>(pub Parsed<T>);

/// Media type of merge patch bodies.
pub const MERGE_PATCH_JSON: &str = "application/merge-patch+json";

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for MergePatchBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, &[MERGE_PATCH_JSON, "application/json"]);
        Box::pin(async move { parse_json(&body.await?).map(MergePatchBody) })
    }
}

/// Reads the whole body after checking its media type against `accepted`
/// and its size against the configured [`BodyLimit`].
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    accepted: &'static [&'static str],
) -> LocalBoxFuture<'static, Result<Bytes, Error>> {
    match req.app_data::<BodyLimit>() {
        Some(&limit) => read_body_within(req, payload, accepted, limit),
        None => Box::pin(std::future::ready(Err(Error::internal(
            "no BodyLimit in the app data",
        )))),
    }
}

/// Like [`read_body`], with `limit` as the limit.
pub fn read_body_within(
    req: &HttpRequest,
    payload: &mut Payload,
    accepted: &'static [&'static str],
    BodyLimit(limit): BodyLimit,
) -> LocalBoxFuture<'static, Result<Bytes, Error>> {
    let checked = check_media_type(req, accepted)
        .and_then(|()| check_length(req, limit))
        .map(|()| limit);
    let mut payload = payload.take();
    Box::pin(async move {
        let limit = checked?;
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|err| Error::BadRequest {
                detail: format!("cannot read the request body: {err}"),
                errors: Vec::new(),
            })?;
            if body.len() + chunk.len() > limit {
                return Err(Error::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    })
}

fn check_media_type(req: &HttpRequest, accepted: &[&str]) -> Result<(), Error> {
    // Bodies are read as sent: an encoded one (gzip, …) is not JSON.
    if let Some(encoding) = req.headers().get(header::CONTENT_ENCODING) {
        if !encoding.as_bytes().eq_ignore_ascii_case(b"identity") {
            return Err(Error::UnsupportedMediaType {
                found: format!(
                    "{} with Content-Encoding {}",
                    req.content_type(),
                    String::from_utf8_lossy(encoding.as_bytes())
                ),
                expected: format!("{} without Content-Encoding", accepted.join(" or ")),
            });
        }
    }
    let found = req.content_type();
    if accepted.iter().any(|m| m.eq_ignore_ascii_case(found)) {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType {
            found: found.to_owned(),
            expected: accepted.join(" or "),
        })
    }
}

fn check_length(req: &HttpRequest, limit: usize) -> Result<(), Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => Err(Error::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// Parses a JSON request body into `T`, which the contract describes as
/// an object: syntax errors are 400 with serde's message; a duplicate key
/// anywhere and a body that is not an object are 422; members that do not
/// fit `T` are faults of the [`Parsed`] value, with `T`'s schema example
/// standing in for them.
pub fn parse_json<T: DeserializeOwned + ToSchema>(bytes: &[u8]) -> Result<Parsed<T>, Error> {
    let Value::Object(members) = parse_document(bytes)? else {
        return Err(Error::invalid("body", "must be a JSON object"));
    };
    parse_object(members)
}

/// The members of a JSON object parsed into `T` (see [`parse_members`]),
/// with `T`'s schema example standing in for those at fault.
pub fn parse_object<T: DeserializeOwned + ToSchema>(
    members: Map<String, Value>,
) -> Result<Parsed<T>, Error> {
    parse_members(members, || {
        let schema = serde_json::to_value(T::schema()).unwrap_or_default();
        let example = match schema.get("example") {
            Some(Value::Object(example)) => example.clone(),
            _ => Map::new(),
        };
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        (example, required)
    })
}

/// Parses a JSON document, refusing duplicate keys (422 naming the key):
/// `{"name": "a", "name": "b"}` has no single meaning, and what another
/// parser makes of it need not be what this one does.
pub fn parse_document(bytes: &[u8]) -> Result<Value, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map(|StrictValue(value)| value)
        .map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    Error::Validation(vec![field_error(&path, &inner.to_string())])
                }
                _ => malformed(&inner),
            }
        })?;
    de.end().map_err(|err| malformed(&err))?;
    Ok(value)
}

/// A JSON value whose objects have no duplicate keys.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let StrictValue(value) = map.next_value()?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

fn malformed(err: &serde_json::Error) -> Error {
    Error::BadRequest {
        detail: format!("malformed JSON: {err}"),
        errors: Vec::new(),
    }
}

/// Deserializes `T` from the members of an object. The common case — all
/// fit — takes one pass. Otherwise each member is tried alone over `base`
/// (from `hints`, with the required member names), which costs one pass
/// over the body in all, however many members are at fault: the members
/// that fit are kept, the others become faults (their first error each),
/// as do required members that are missing, and `base`'s values stand in
/// for those.
pub fn parse_members<T: DeserializeOwned>(
    members: Map<String, Value>,
    hints: impl FnOnce() -> (Map<String, Value>, Vec<String>),
) -> Result<Parsed<T>, Error> {
    let whole = Value::Object(members);
    let first = match serde_path_to_error::deserialize::<_, T>(&whole) {
        Ok(value) => return Ok(Parsed::ok(value)),
        Err(err) => faults_of(err),
    };
    let Value::Object(members) = whole else {
        return Err(Error::Validation(first));
    };
    if first.len() >= faults::MAX_FAULTS {
        // So many faults that they are named as found, the first ones only.
        return Err(Error::Validation(first));
    }
    let (base, required) = hints();
    let named: Vec<String> = members.keys().cloned().collect();
    let mut faults: Vec<FieldError> = required
        .into_iter()
        .filter(|name| !named.contains(name))
        .map(|name| FieldError::new(name.clone(), format!("missing field `{name}`")))
        .collect();
    // Placeholders only where a member is at fault or missing: fields the
    // body leaves out stay out (they may take part in its rules).
    let mut merged: Map<String, Value> = faults
        .iter()
        .filter_map(|missing| Some((missing.field.clone(), base.get(&missing.field)?.clone())))
        .collect();
    for (name, member) in members {
        let mut alone = base.clone();
        alone.insert(name.clone(), member);
        let alone = Value::Object(alone);
        if let Err(err) = serde_path_to_error::deserialize::<_, T>(&alone) {
            let found = faults_of(err);
            if found.iter().all(|found| within(&found.field, &name)) {
                faults.extend(found);
                if let Some(placeholder) = base.get(&name) {
                    merged.insert(name, placeholder.clone());
                }
                continue;
            }
        }
        if let Value::Object(mut alone) = alone {
            if let Some(member) = alone.remove(&name) {
                merged.insert(name, member);
            }
        }
    }
    if faults.is_empty() {
        faults = first;
    } else {
        // In the order the type reports them (a record's: its members').
        let order: std::collections::HashMap<&str, usize> = first
            .iter()
            .enumerate()
            .map(|(i, found)| (found.field.as_str(), i))
            .collect();
        faults.sort_by_key(|fault| {
            order
                .get(fault.field.as_str())
                .copied()
                .unwrap_or(first.len())
        });
    }
    match serde_path_to_error::deserialize::<_, T>(&Value::Object(merged)) {
        Ok(value) => Ok(Parsed { value, faults }),
        Err(_) => Err(Error::Validation(faults)),
    }
}

/// The fields at fault in a deserialization error, with their messages:
/// every fault a record or list carries (see [`Faults`]), or the one.
fn faults_of(err: serde_path_to_error::Error<serde_json::Error>) -> Vec<FieldError> {
    let path = err.path().to_string();
    let message = err.into_inner().to_string();
    match Faults::read(&message) {
        Some(found) => {
            let base = if path == "." { "" } else { path.as_str() };
            found
                .into_iter()
                .map(|(inner, message)| FieldError::new(faults::join(base, &inner), message))
                .collect()
        }
        None => vec![field_error(&path, &message)],
    }
}

/// The field at fault and a message, from a serde error and its path. serde
/// reports missing and unknown fields at the enclosing object, naming the
/// field only inside the message; it is moved into the path here.
pub fn field_error(path: &str, message: &str) -> FieldError {
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    let named = [
        "missing field `",
        "unknown field `",
        "duplicate field `",
        "duplicate key `",
    ]
    .iter()
    .find_map(|prefix| message.strip_prefix(prefix))
    .and_then(|rest| rest.split('`').next());
    let base = if path == "." { "" } else { path };
    let field = match named {
        Some(name) if base.is_empty() => name.to_owned(),
        Some(name) if !base.ends_with(name) => format!("{base}.{name}"),
        _ if base.is_empty() => "body".to_owned(),
        _ => base.to_owned(),
    };
    FieldError::new(field, message)
}

/// Implements `FromRequest` for an extractor read from the request alone
/// (never the body): `|req| { … }` gives `Result<Self, Error>`.
#[macro_export]
macro_rules! from_head {
    (impl$([$($generics:tt)*])? for $T:ty, |$req:ident| $body:block) => {
        impl$(<$($generics)*>)? ::actix_web::FromRequest for $T {
            type Error = $crate::error::Error;
            type Future = ::std::future::Ready<Result<Self, $crate::error::Error>>;

            // The closure lets the body `return` early.
            #[allow(clippy::redundant_closure_call)]
            fn from_request(
                $req: &::actix_web::HttpRequest,
                _: &mut ::actix_web::dev::Payload,
            ) -> Self::Future {
                ::std::future::ready((|| -> Result<Self, $crate::error::Error> { $body })())
            }
        }
    };
}

/// Query parameters deserialized into `T`; failures are 400 naming the
/// parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

crate::from_head!(impl[T: DeserializeOwned] for Query<T>, |req| {
    let pairs = url::form_urlencoded::parse(req.query_string().as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
        .map(Query)
        .map_err(|err| {
            let path = err.path().to_string();
            let fe = field_error(&path, &err.into_inner().to_string());
            Error::bad_parameter(fe.field, fe.message)
        })
});

/// Middleware function, for `from_fn`: a request target (path or query)
/// whose percent-encoded bytes are not UTF-8 is a 400, before any route
/// sees it — decoding would turn each such byte into U+FFFD, and distinct
/// identifiers such as `%FE` and `%FF` into the same one.
pub async fn utf8_target(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let decodes = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .is_ok()
    };
    let part = if !decodes(req.uri().path()) {
        "path"
    } else if !req.uri().query().is_none_or(decodes) {
        "query"
    } else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let err = Error::BadRequest {
        detail: format!("the request {part} is not UTF-8 once percent-decoded"),
        errors: vec![FieldError::new(
            part,
            "percent-encode UTF-8 bytes only, e.g. %E6%9D%A8 for 杨",
        )],
    };
    Ok(req
        .into_response(err.error_response())
        .map_into_right_body())
}

/// Error handler for path segments that do not parse (e.g. an id that is
/// not a UUID).
pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    Error::bad_parameter("path", err.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_unknown_fields_are_named() {
        assert_eq!(
            field_error(".", "missing field `name` at line 1 column 2").field,
            "name"
        );
        assert_eq!(
            field_error(
                "other_names[0]",
                "unknown field `nme`, expected one of `name`"
            )
            .field,
            "other_names[0].nme"
        );
        let fe = field_error(
            "kind",
            "unknown variant `x`, expected `alliance` at line 1 column 9",
        );
        assert_eq!(fe.field, "kind");
        assert_eq!(fe.message, "unknown variant `x`, expected `alliance`");
        assert_eq!(field_error(".", "invalid type: sequence").field, "body");
    }
}
