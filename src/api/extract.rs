//! Request extractors whose failures are problem documents: JSON bodies
//! (415 for another media type, 413 over the size limit, 400 for malformed
//! JSON, 422 naming the field for well-formed but invalid content), query
//! strings (400 naming the parameter) and path segments.

use crate::error::{Error, FieldError};
use actix_web::{
    dev::Payload,
    http::header,
    web::{Bytes, BytesMut},
    FromRequest, HttpMessage, HttpRequest,
};
use futures_util::{future::LocalBoxFuture, StreamExt};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;
use std::future::{ready, Ready};

/// Largest accepted request body, in bytes; put in the app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body (`application/json`) deserialized into `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, &["application/json"]);
        Box::pin(async move { parse_json(&body.await?).map(JsonBody) })
    }
}

/// Reads the whole body after checking its media type against `accepted`
/// and its size against the configured [`BodyLimit`].
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    accepted: &'static [&'static str],
) -> LocalBoxFuture<'static, Result<Bytes, Error>> {
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(crate::config::Settings::DEFAULT_MAX_BODY_BYTES, |l| l.0);
    let checked = check_media_type(req, accepted).and_then(|()| check_length(req, limit));
    let mut payload = payload.take();
    Box::pin(async move {
        checked?;
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
/// anywhere, a body that is not an object, and content that does not fit
/// `T` are 422 naming every field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match parse_document(bytes)? {
        Value::Object(members) => from_json_value(Value::Object(members)),
        _ => Err(Error::invalid("body", "must be a JSON object")),
    }
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

/// Deserializes `T` from an already parsed JSON value; failures are 422
/// naming every field at fault: a member that does not fit is reported,
/// set aside and the rest deserialized again, until what remains fits or a
/// required member is missing.
pub fn from_json_value<T: DeserializeOwned>(mut value: Value) -> Result<T, Error> {
    let mut errors: Vec<FieldError> = Vec::new();
    // Each round removes one member, so this ends; the bound is a guard.
    for _ in 0..=MAX_REPORTED_FIELDS {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) if errors.is_empty() => return Ok(parsed),
            Ok(_) => break,
            Err(err) => err,
        };
        let path: Vec<Segment> = err.path().iter().cloned().collect();
        let fault = field_error(&err.path().to_string(), &err.into_inner().to_string());
        if errors.iter().any(|known| known.field == fault.field) {
            // A member set aside above is required where it was: set aside
            // the top-level member holding it instead, if it is nested.
            if path.len() > 1 && remove_at(&mut value, &path[..1]) {
                continue;
            }
            break;
        }
        errors.push(fault);
        if !remove_at(&mut value, &path) {
            break;
        }
    }
    Err(Error::Validation(errors))
}

/// Most fields one 422 reports from deserialization.
const MAX_REPORTED_FIELDS: usize = 64;

/// Removes the object member at `path` from `value`; false when there is
/// none (the fault is the enclosing value itself, or an array item).
fn remove_at(value: &mut Value, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut target = value;
    for segment in parents {
        target = match (segment, target) {
            (Segment::Map { key }, Value::Object(map)) => match map.get_mut(key) {
                Some(child) => child,
                None => return false,
            },
            (Segment::Seq { index }, Value::Array(items)) => match items.get_mut(*index) {
                Some(child) => child,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, target) {
        (Segment::Map { key }, Value::Object(map)) => map.remove(key).is_some(),
        // Removing an item would renumber the items after it, and their
        // faults would be reported under the wrong index.
        _ => false,
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

/// Query parameters deserialized into `T`; failures are 400 naming the
/// parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = url::form_urlencoded::parse(req.query_string().as_bytes());
        let result = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let fe = field_error(&path, &err.into_inner().to_string());
                Error::bad_parameter(fe.field, fe.message)
            });
        ready(result)
    }
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
