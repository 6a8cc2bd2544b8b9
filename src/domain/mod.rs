//! The register's values, each a type that owns its rule: it is parsed
//! once, at the edge, and states the same rule in the OpenAPI document
//! (its `schema()` is built from the constants its `parse` checks). Code
//! past the edge takes these types, so an unchecked value cannot reach it.
//!
//! This layer names no HTTP, store or database type.

pub mod faults;
pub mod field;
mod list;
mod popolo;
mod reference;
mod text;
mod time;
mod web;

pub use faults::Faults;
pub use field::Field;
pub use list::{Identifiers, List, Optional, Topics};
pub use popolo::{ContactDetail, Link, OtherName, Source};
pub use reference::{
    reference_pattern, Identifier, IdentifierValue, Reference, Scheme, IDENTIFIER_PATTERN,
};
pub use text::{blank_or_name_pattern, name_fault, Name, Search, Text, NAME_PATTERN, TEXT_PATTERN};
pub use time::{Date, DayOrInstant, Instant, PartialDate, Timezone, YEARS};
pub use web::{Email, HttpUrl, LanguageTag, Phone, EMAIL_PATTERN, URL_PATTERN};

use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

/// A value written as one JSON string: parsed by its rule, written back in
/// its normal form.
pub trait Parse: Sized + AsRef<str> {
    /// The value `text` stands for, or what is wrong with it (said to the
    /// client, after the field's name).
    fn parse(text: &str) -> Result<Self, String>;

    /// The normal form, as stored and returned.
    fn as_str(&self) -> &str {
        self.as_ref()
    }

    /// Whether `text` is blank, as this type trims: where a value may be
    /// left out, a blank one is none (see [`Optional`]).
    fn is_blank(text: &str) -> bool {
        // White space as JSON Schema's `\s` reads it (U+FEFF included).
        text.chars().all(|c| c.is_whitespace() || c == '\u{FEFF}')
    }

    /// The most characters a value may have (as sent), if there is a most.
    fn max_chars() -> Option<usize> {
        None
    }

    /// The JSON Schema of the string: its rule as `pattern`, lengths and a
    /// description.
    fn schema() -> ObjectBuilder;

    /// The JSON Schema of the string or blank (for [`Optional`]).
    fn blank_schema() -> ObjectBuilder {
        Self::schema()
    }
}

/// Implements serde and utoipa for [`Parse`] types: deserialized through
/// `parse` (so an invalid value is a deserialization error naming the
/// field), serialized in normal form.
macro_rules! string_value {
    ($(impl$([$($generics:tt)*])? for $ty:ty;)*) => {$(
        impl<'de, $($($generics)*)?> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                <Self as $crate::domain::Parse>::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl$(<$($generics)*>)? AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl$(<$($generics)*>)? serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_ref())
            }
        }

        impl$(<$($generics)*>)? utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <Self as $crate::domain::Parse>::schema().into()
            }
        }

        impl$(<$($generics)*>)? utoipa::ToSchema for $ty {}

        impl$(<$($generics)*>)? $crate::domain::Field for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <Self as $crate::domain::Parse>::schema().into()
            }
        }

        impl$(<$($generics)*>)? std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_ref())
            }
        }
    )*};
}
pub(crate) use string_value;

/// The schema of a string, to state a rule in.
fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(utoipa::openapi::Type::String)
}

/// `schema` also admitting `null`: a `null` type beside an inline schema's
/// own, `oneOf` the schema and `null` otherwise. Already nullable schemas
/// stay as they are.
pub fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
    use utoipa::openapi::schema::{OneOfBuilder, SchemaType, Type};
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.schema_type = match object.schema_type {
                SchemaType::Type(Type::Null) => SchemaType::Type(Type::Null),
                SchemaType::Type(one) => SchemaType::from_iter([one, Type::Null]),
                SchemaType::Array(mut types) => {
                    if !types.contains(&Type::Null) {
                        types.push(Type::Null);
                    }
                    SchemaType::Array(types)
                }
                SchemaType::AnyValue => SchemaType::AnyValue,
            };
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::Array(mut array)) => {
            array.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
            RefOr::T(Schema::Array(array))
        }
        RefOr::T(Schema::OneOf(one_of))
            if one_of.items.iter().any(|item| {
                matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
            }) =>
        {
            RefOr::T(Schema::OneOf(one_of))
        }
        other => OneOfBuilder::new()
            .item(other)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into(),
    }
}

/// Asserts that `pattern` (as documented) admits exactly the `samples`
/// that `parses` accepts.
#[cfg(test)]
pub(crate) fn assert_pattern_agrees(
    pattern: &str,
    parses: impl Fn(&str) -> bool,
    samples: &[&str],
) {
    let regex = regex_lite::Regex::new(pattern).expect("a valid pattern");
    for sample in samples {
        assert_eq!(
            regex.is_match(sample),
            parses(sample),
            "{pattern} on {sample:?}"
        );
    }
}
