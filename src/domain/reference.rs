//! External identifiers (`scheme:value`) and references to records by id
//! or identifier.

use super::{string_value, Name, Parse};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use uuid::Uuid;

/// Pattern of an identifier scheme.
const SCHEME_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// Longest identifier scheme.
const MAX_SCHEME_CHARS: usize = 64;

/// A naming system of external identifiers: 1–64 ASCII letters, digits,
/// `.`, `_` or `-`, starting with a letter or digit (no `:`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scheme(String);

impl Parse for Scheme {
    fn parse(text: &str) -> Result<Self, String> {
        let ok = (1..=MAX_SCHEME_CHARS).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(
                "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"
                    .to_owned(),
            )
        }
    }

    fn schema() -> ObjectBuilder {
        super::string_schema()
            .min_length(Some(1))
            .max_length(Some(MAX_SCHEME_CHARS))
            .pattern(Some(SCHEME_PATTERN))
    }
}

string_value! {
    impl for Scheme;
}

/// The value of an identifier in its scheme: a name of up to 200
/// characters.
pub type IdentifierValue = Name<200>;

crate::record! {
    /// One external identifier of a record.
    #[example = serde_json::json!({"scheme": "yangpu-party-org", "value": "310110-0042"})]
    pub struct Identifier {
        /// The naming system: letters, digits, `.`, `_` and `-` (no `:`).
        pub scheme: Scheme,
        /// The record's identifier in that system.
        pub value: IdentifierValue,
    }
}

impl Identifier {
    /// The identifier named by a path's `{scheme}` and `{value}` segments,
    /// by the same rules as in bodies (else the faults of each).
    pub fn from_parts(scheme: &str, value: &str) -> Result<Self, Vec<(&'static str, String)>> {
        match (Scheme::parse(scheme), IdentifierValue::parse(value)) {
            (Ok(scheme), Ok(value)) => Ok(Self { scheme, value }),
            (scheme, value) => Err([("scheme", scheme.err()), ("value", value.err())]
                .into_iter()
                .filter_map(|(part, fault)| Some((part, fault?)))
                .collect()),
        }
    }

    /// The identifier written `scheme:value` (as in filters and references).
    pub fn parse_pair(text: &str) -> Result<Self, &'static str> {
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        let invalid = "expected scheme:value, e.g. yangpu-party-org:310110-0042";
        let (scheme, value) = text.split_once(':').ok_or(invalid)?;
        if value.is_empty() {
            return Err(invalid);
        }
        Ok(Self {
            scheme: Scheme::parse(scheme).map_err(|_| invalid)?,
            value: IdentifierValue::parse(value).map_err(|_| invalid)?,
        })
    }
}

impl std::fmt::Display for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.scheme, self.value)
    }
}

/// Pattern of `scheme:value` in query filters and references: a scheme, a
/// colon, and a value without control characters.
pub const IDENTIFIER_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$";

/// A reference to another record: its id, or one of its external
/// identifiers as `scheme:value`. Which record it names is known once the
/// store has resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Id(Uuid),
    Identifier(Identifier),
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(serializer),
            Self::Identifier(i) => serializer.collect_str(i),
        }
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        // Only the hyphenated form (the documented pattern) is an id:
        // `urn:uuid:…` and the like read as identifiers.
        if let Ok(id) = uuid::fmt::Hyphenated::from_str(&text) {
            return Ok(Self::Id(id.into_uuid()));
        }
        if text.chars().any(char::is_control) {
            return Err(serde::de::Error::custom(
                "must not contain control characters",
            ));
        }
        Identifier::parse_pair(&text)
            .map(Self::Identifier)
            .map_err(|_| {
                serde::de::Error::custom("expected a UUID or an identifier as scheme:value")
            })
    }
}

/// Pattern of a [`Reference`]: a UUID, or [`IDENTIFIER_PATTERN`].
pub fn reference_pattern() -> String {
    let identifier = &IDENTIFIER_PATTERN[1..IDENTIFIER_PATTERN.len() - 1];
    format!(
        "^([0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}|{identifier})$"
    )
}

impl utoipa::PartialSchema for Reference {
    fn schema() -> RefOr<Schema> {
        super::string_schema()
            .description(Some(
                "A record's id (UUID), or one of its external identifiers as `scheme:value`",
            ))
            .pattern(Some(reference_pattern()))
            .examples([
                "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
                "yangpu-party-org:310110-0042",
            ])
            .into()
    }
}

impl utoipa::ToSchema for Reference {}

impl super::Field for Reference {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::Ref::from_schema_name("Reference").into()
    }

    fn components(out: &mut super::field::Components) {
        out.push((
            "Reference".to_owned(),
            <Self as utoipa::PartialSchema>::schema(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hyphenated_uuid_is_an_id_other_forms_are_identifiers() {
        let id = Uuid::now_v7();
        let read = |text: String| serde_json::from_value::<Reference>(text.into()).unwrap();
        assert_eq!(read(id.to_string()), Reference::Id(id));
        assert!(matches!(
            read(format!("urn:uuid:{id}")),
            Reference::Identifier(_)
        ));
        assert!(serde_json::from_value::<Reference>(id.simple().to_string().into()).is_err());
    }
}
