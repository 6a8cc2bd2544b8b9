//! What the resources' handlers share beyond [`super::resource`]: the
//! `…/by-identifier?scheme=…&value=…` upserts, query filters by identifier or
//! search text, and the representation of stored value lists.

use crate::domain::{Identifier, IdentifierValue, Parse, Reference, Scheme};
use crate::error::{Error, FieldError};
use crate::store::identifiers;
use crate::store::rows::Rows;
use crate::store::text::TextValues;
use actix_web::HttpRequest;
use diesel::pg::PgConnection;
use serde::de::IntoDeserializer;
use serde::Deserialize;
use std::marker::PhantomData;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::IntoParams;
use uuid::Uuid;

/// The version of a record, as representations describe it.
pub const VERSION_NOTE: &str = "Incremented by every change; the ETag is this number in quotes.";

/// A member's schema as stored: references are the ids they resolved to.
fn as_stored(schema: RefOr<Schema>) -> RefOr<Schema> {
    use utoipa::openapi::{schema::SchemaFormat, KnownFormat, Type};
    let is_reference = |schema: &RefOr<Schema>| matches!(schema, RefOr::Ref(r) if r.ref_location.ends_with("/Reference"));
    // Written as an id or an identifier, stored and shown as the id.
    let id = |nullable: bool, description: String| {
        let description = description.replace(" (id or `scheme:value`)", "");
        let id = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .description((!description.is_empty()).then_some(description));
        if nullable {
            crate::domain::nullable(id.into())
        } else {
            id.into()
        }
    };
    match schema {
        RefOr::Ref(reference) if reference.ref_location.ends_with("/Reference") => {
            id(false, reference.description)
        }
        RefOr::T(Schema::OneOf(one_of)) if one_of.items.iter().any(is_reference) => {
            let description = one_of
                .items
                .iter()
                .find_map(|item| match item {
                    RefOr::Ref(r) => Some(r.description.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            id(true, description)
        }
        other => other,
    }
}

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
            let schema = as_stored(schema);
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

/// Defines the representation of a resource's records: `id`, the members
/// of its input `$Input` as stored, `version`, `created_at`, `updated_at`
/// and `deleted_at`, then any lists of `extra` records (left out unless
/// embedded); its schema follows from the input's, and it is made from
/// the store's record.
#[macro_export]
macro_rules! representation {
    (
        $(#[doc = $doc:literal])*
        pub struct $Output:ident of $Input:ident from $Record:ident($Data:ident);
        example = $example:expr;
        $(extra {
            $($(#[doc = $extra_doc:literal])* $extra:ident: $Item:ident,)+
        })?
        $(one {
            $($(#[doc = $one_doc:literal])* $one:ident: $OneItem:ident,)+
        })?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, serde::Serialize)]
        pub struct $Output {
            pub id: ::uuid::Uuid,
            #[serde(flatten)]
            pub content: $Data,
            pub version: i64,
            pub created_at: ::chrono::DateTime<::chrono::Utc>,
            pub updated_at: ::chrono::DateTime<::chrono::Utc>,
            pub deleted_at: Option<::chrono::DateTime<::chrono::Utc>>,
            $($(
                $(#[doc = $extra_doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $extra: Option<Vec<$Item>>,
            )+)?
            $($(
                $(#[doc = $one_doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $one: Option<Box<$OneItem>>,
            )+)?
        }

        impl utoipa::PartialSchema for $Output {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                #[allow(unused_mut)]
                let mut schema = $crate::api::common::representation_schema(
                    &$crate::domain::field::doc_text(&[$($doc),*]),
                    <$Input as utoipa::PartialSchema>::schema(),
                    (&[], ""),
                    $crate::api::common::VERSION_NOTE,
                    $example,
                );
                $($(
                    if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) = &mut schema {
                        let items = utoipa::openapi::schema::ArrayBuilder::new()
                            .items(utoipa::openapi::Ref::from_schema_name(stringify!($Item)))
                            .description(Some($crate::domain::field::doc_text(&[$($extra_doc),*])));
                        object.properties.insert(stringify!($extra).to_owned(), items.into());
                    }
                )+)?
                $($(
                    if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) = &mut schema {
                        let mut item = utoipa::openapi::Ref::from_schema_name(stringify!($OneItem));
                        item.description = $crate::domain::field::doc_text(&[$($one_doc),*]);
                        object.properties.insert(stringify!($one).to_owned(), item.into());
                    }
                )+)?
                schema
            }
        }

        impl utoipa::ToSchema for $Output {
            fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                <$Input as utoipa::ToSchema>::schemas(out);
                $($(
                    if stringify!($Item) != stringify!($Output) {
                        out.push((stringify!($Item).to_owned(), <$Item as utoipa::PartialSchema>::schema()));
                        <$Item as utoipa::ToSchema>::schemas(out);
                    }
                )+)?
                $($(
                    out.push((stringify!($OneItem).to_owned(), <$OneItem as utoipa::PartialSchema>::schema()));
                    <$OneItem as utoipa::ToSchema>::schemas(out);
                )+)?
            }
        }

        impl TryFrom<$Record> for $Output {
            type Error = $crate::error::Error;

            fn try_from(r: $Record) -> Result<Self, $crate::error::Error> {
                Ok(Self {
                    id: r.id,
                    content: r.data,
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    deleted_at: r.deleted_at,
                    $($($extra: None,)+)?
                    $($($one: None,)+)?
                })
            }
        }
    };
}

/// The record of table `T` that the path's `{id}` names: by its id, or by one of
/// its identifiers as `scheme:value` (a UUID never contains `:`).
pub struct PathRef<T>(Reference, PhantomData<fn() -> T>);

// Not derived: that would ask `T: Clone` of the table.
impl<T> Clone for PathRef<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<T: Rows> PathRef<T> {
    /// The id of the live record named; 404 when there is none.
    pub fn live(&self, conn: &mut PgConnection) -> Result<Uuid, Error> {
        identifiers::live_id(conn, T::TABLE, &self.0)
    }
}

/// The path parameter `name`, percent-decoded (empty when the route has
/// none; 400 when it does not decode to UTF-8). The router leaves the
/// reserved characters (`%2F`, `%25`, …) encoded; they are decoded here,
/// once.
pub fn path_segment(req: &HttpRequest, name: &str) -> Result<String, Error> {
    let raw = req.match_info().get(name).unwrap_or_default();
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| Error::bad_parameter(name, "not UTF-8 once percent-decoded"))
}

crate::from_head!(impl[T] for PathRef<T>, |req| {
    Reference::deserialize(path_segment(req, "id")?.into_deserializer())
        .map(|reference| Self(reference, PhantomData))
        .map_err(|err: serde::de::value::Error| Error::bad_parameter("id", err.to_string()))
});

/// The identifier an upsert names: the query parameters `scheme` and
/// `value` of `…/by-identifier?scheme=…&value=…` (400 naming each one
/// missing, repeated or invalid, and any other parameter), or the path
/// parameters of the deprecated alias `…/by-identifier/{scheme}/{value}`
/// (422 naming the one at fault, as before). Parsed like identifiers in
/// bodies.
#[derive(Debug)]
pub struct ByIdentifier(pub Identifier);

crate::from_head!(impl for ByIdentifier, |req| {
    let in_path = req.match_info().get("scheme").is_some();
    let (scheme, value) = match in_path {
        true => (path_segment(req, "scheme")?, path_segment(req, "value")?),
        false => identifier_query(req)?,
    };
    Identifier::from_parts(&scheme, &value)
        .map(Self)
        .map_err(|faults| {
            let errors = faults
                .into_iter()
                .map(|(part, message)| FieldError::new(part, message))
                .collect();
            match in_path {
                true => Error::Validation(errors),
                false => Error::BadRequest {
                    detail: "invalid identifier parameters".to_owned(),
                    errors,
                },
            }
        })
});

/// The query parameters `scheme` and `value`, each given once, and no
/// other (400 naming every parameter at fault).
fn identifier_query(req: &HttpRequest) -> Result<(String, String), Error> {
    let (mut scheme, mut value) = (None, None);
    let mut errors = Vec::new();
    for (name, text) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let slot = match name.as_ref() {
            "scheme" => &mut scheme,
            "value" => &mut value,
            other => {
                errors.push(FieldError::new(
                    other,
                    "unknown parameter; expected scheme and value",
                ));
                continue;
            }
        };
        if slot.replace(text.into_owned()).is_some() {
            errors.push(FieldError::new(name, "given more than once"));
        }
    }
    match (scheme, value) {
        (Some(scheme), Some(value)) if errors.is_empty() => Ok((scheme, value)),
        (scheme, value) => {
            for (name, given) in [("scheme", scheme.is_some()), ("value", value.is_some())] {
                if !given {
                    errors.push(FieldError::new(name, "is required"));
                }
            }
            Err(Error::BadRequest {
                detail: "invalid identifier parameters".to_owned(),
                errors,
            })
        }
    }
}

impl IntoParams for ByIdentifier {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let part = |name: &str, description: &str, schema: utoipa::openapi::ObjectBuilder| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(utoipa::openapi::Required::True)
                .description(Some(description))
                .schema(Some(schema))
                .build()
        };
        vec![
            part("scheme", "Identifier scheme", Scheme::schema()),
            part(
                "value",
                "Identifier value (percent-encoded as a query parameter)",
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

/// A query parameter naming one or more values of a closed set, separated
/// by commas (`embed=person,post`); a value named twice counts once. Its
/// pattern is built from the same set its parser accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommaSet<E>(pub Vec<E>);

impl<E: TextValues> CommaSet<E> {
    /// Whether `value` is named.
    pub fn has(&self, value: E) -> bool {
        self.0.contains(&value)
    }

    /// The values named in `text`, or what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut values = Vec::new();
        for name in text.split(',') {
            let value = E::named(name).ok_or_else(|| {
                format!(
                    "unknown value {name:?}; use one or more of {}, separated by commas",
                    Self::names().join(", ")
                )
            })?;
            if !values.contains(&value) {
                values.push(value);
            }
        }
        Ok(Self(values))
    }

    fn names() -> Vec<&'static str> {
        E::all().iter().map(|value| (*value).into()).collect()
    }

    fn pattern() -> String {
        let names: Vec<String> = Self::names()
            .iter()
            .map(|name| name.replace('.', "\\."))
            .collect();
        let one = names.join("|");
        format!("^({one})(,({one}))*$")
    }
}

impl<'de, E: TextValues> Deserialize<'de> for CommaSet<E> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<E: TextValues> utoipa::PartialSchema for CommaSet<E> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::pattern()))
            .into()
    }
}

impl<E: TextValues> utoipa::ToSchema for CommaSet<E> {}

#[cfg(test)]
mod comma_set_tests {
    use super::CommaSet;
    use crate::store::text::text_values;

    text_values! {
        pub enum Part {
            A => "a",
            Dotted => "b.c",
        }
    }

    #[test]
    fn comma_sets_admit_what_their_pattern_admits() {
        let regex = regex_lite::Regex::new(&CommaSet::<Part>::pattern()).unwrap();
        for sample in [
            "a", "b.c", "a,b.c", "b.c,a", "", "a,", ",a", "bxc", "a,a", "A", "a, b.c",
        ] {
            let parsed = CommaSet::<Part>::parse(sample).is_ok();
            assert_eq!(regex.is_match(sample), parsed, "{sample:?}");
        }
        assert!(CommaSet::<Part>::parse("a,b.c").unwrap().has(Part::Dotted));
        assert_eq!(CommaSet::<Part>::parse("a,a").unwrap().0, [Part::A]);
    }
}
