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
use serde::de::DeserializeOwned;
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

/// Parses a JSON document: syntax errors are 400 with serde's message;
/// content that does not fit `T` is 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
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

fn malformed(err: &serde_json::Error) -> Error {
    Error::BadRequest {
        detail: format!("malformed JSON: {err}"),
        errors: Vec::new(),
    }
}

/// Deserializes `T` from an already parsed JSON value; failures are 422
/// naming the field.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        Error::Validation(vec![field_error(&path, &err.into_inner().to_string())])
    })
}

/// The field at fault and a message, from a serde error and its path. serde
/// reports missing and unknown fields at the enclosing object, naming the
/// field only inside the message; it is moved into the path here.
pub fn field_error(path: &str, message: &str) -> FieldError {
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    let named = ["missing field `", "unknown field `"]
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
