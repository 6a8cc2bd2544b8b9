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
    openapi::{
        path::{Parameter, ParameterBuilder, ParameterIn},
        ObjectBuilder, RefOr, Schema,
    },
    IntoParams,
};

/// The schema of a record's representation built from its `input`'s: `id`,
/// then every member of the input as stored (the `hidden` ones, shown only
/// to some keys, with `hidden_note` and not required), then `version` (with
/// `version_note`), `created_at`, `updated_at` and `deleted_at`.
pub fn representation_schema(
    description: &str,
    input: RefOr<Schema>,
    (hidden, hidden_note): (&[&str], &str),
    version_note: &str,
    example: serde_json::Value,
) -> RefOr<Schema> {
    use utoipa::openapi::{schema::SchemaFormat, KnownFormat, Type};
    let string = |format: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property(
            "id",
            string(KnownFormat::Uuid).description(Some("Server-assigned, time-ordered (UUID v7).")),
        )
        .required("id");
    if let RefOr::T(Schema::Object(input)) = input {
        for (name, schema) in input.properties {
            object = if hidden.contains(&name.as_str()) {
                object.property(
                    name,
                    crate::domain::field::described(schema, &[hidden_note]),
                )
            } else {
                object.property(name.clone(), schema).required(name)
            };
        }
    }
    let deleted_at = crate::domain::nullable(string(KnownFormat::DateTime).into());
    #[allow(deprecated)]
    let object = object
        .property(
            "version",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some(version_note)),
        )
        .property("created_at", string(KnownFormat::DateTime))
        .property("updated_at", string(KnownFormat::DateTime))
        .property(
            "deleted_at",
            crate::domain::field::described(
                deleted_at,
                &[
                    "When the record was deleted; only tombstones (`include_deleted`,",
                    "the change feed) have one.",
                ],
            ),
        )
        .required("version")
        .required("created_at")
        .required("updated_at")
        .required("deleted_at")
        .example(Some(example));
    object.into()
}

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
