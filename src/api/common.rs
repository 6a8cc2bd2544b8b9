//! What the resources' handlers share beyond [`super::resource`]: the
//! `…/by-identifier/{scheme}/{value}` path, query filters by identifier or
//! search text, and the representation of stored value lists.

use crate::{
    domain::{Identifier, IdentifierValue, Parse, Scheme},
    error::{Error, FieldError},
};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use std::future::{ready, Ready};
use utoipa::{
    openapi::path::{Parameter, ParameterBuilder, ParameterIn},
    IntoParams,
};

/// The identifier a `…/by-identifier/{scheme}/{value}` path names, parsed
/// like identifiers in bodies (422 naming the `scheme` or `value` at
/// fault).
#[derive(Debug)]
pub struct ByIdentifier(pub Identifier);

impl FromRequest for ByIdentifier {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = web::Path::<(String, String)>::from_request(req, payload).into_inner();
        ready(match parts {
            Err(err) => Err(Error::bad_parameter("path", err.to_string())),
            Ok(parts) => {
                let (scheme, value) = parts.into_inner();
                Identifier::from_parts(&scheme, &value)
                    .map(Self)
                    .map_err(|faults| {
                        Error::Validation(
                            faults
                                .into_iter()
                                .map(|(part, message)| FieldError::new(part, message))
                                .collect(),
                        )
                    })
            }
        })
    }
}

impl IntoParams for ByIdentifier {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let part = |name: &str, description: &str, schema: utoipa::openapi::ObjectBuilder| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some(description))
                .schema(Some(schema))
                .build()
        };
        vec![
            part("scheme", "Identifier scheme", Scheme::schema()),
            part(
                "value",
                "Identifier value (percent-encoded)",
                IdentifierValue::schema(),
            ),
        ]
    }
}

/// The identifier (scheme, value) a query filter gives as `scheme:value`
/// (400 naming the parameter otherwise).
pub fn identifier_filter(
    name: &str,
    text: Option<&str>,
) -> Result<Option<(String, String)>, Error> {
    text.map(|text| {
        Identifier::parse_pair(text)
            .map(|i| (i.scheme.as_str().to_owned(), i.value.as_str().to_owned()))
            .map_err(|reason| Error::bad_parameter(name, reason))
    })
    .transpose()
}

/// Longest free-text search (`q`, `title`).
pub const MAX_SEARCH_CHARS: usize = 200;

/// A free-text search parameter: trimmed, blank means absent, at most
/// `max` characters, no control characters but tab and line breaks (the
/// rule of [`crate::domain::Text`]; 400 otherwise).
pub fn search_param(
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, Error> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match crate::domain::Text::<MAX_SEARCH_CHARS>::parse(&value) {
        Ok(text) if text.as_str().chars().count() <= max => Ok(Some(text.into())),
        _ => Err(Error::bad_parameter(
            name,
            format!("must be at most {max} characters, without control characters but tab and line breaks"),
        )),
    }
}
