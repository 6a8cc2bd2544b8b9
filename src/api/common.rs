//! Value types shared by the register's resources (Popolo-style): other
//! names, contact details, sources, external identifiers and references.

use crate::{api::validation::Validator, error::Error};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest name, title or other short text.
pub const MAX_NAME_CHARS: usize = 500;
/// Longest note or label.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Longest description or biography.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Most entries in a list of other names, contact details or sources.
pub const MAX_LIST_ITEMS: usize = 100;

/// Another name of a record: in another language, a former or short name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}))]
pub struct OtherName {
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: String,
    /// BCP 47 language tag, e.g. `zh` or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
}

/// A way to reach a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "phone", "value": "+86 21 6543 0000", "label": "office"}))]
pub struct ContactDetail {
    /// Medium, e.g. `phone`, `email`, `address`, `website`, `wechat`.
    #[serde(rename = "type")]
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub contact_type: String,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$"
    )]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub label: Option<String>,
}

/// Where information about a record comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html", "note": "People's Daily Online, 2023-05-23"}))]
pub struct Source {
    /// Absolute http(s) URL naming its host by domain (ASCII: write an
    /// internationalized domain in its `xn--` form).
    #[schema(
        max_length = 2000,
        pattern = r"^[ \t\r\n]*https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?[ \t\r\n]*$"
    )]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
}

/// A list of value objects as the JSON stored in a jsonb column.
pub fn to_json<T: Serialize>(list: Vec<T>) -> Result<serde_json::Value, Error> {
    serde_json::to_value(list).map_err(Error::internal)
}

/// The list of value objects stored as JSON in a jsonb column.
pub fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<Vec<T>, Error> {
    serde_json::from_value(value).map_err(Error::internal)
}

/// Validates and normalizes a list of other names under `field`.
pub fn other_names(v: &mut Validator, field: &str, list: &[OtherName]) -> Vec<OtherName> {
    v.max_items(field, list.len(), MAX_LIST_ITEMS);
    list.iter()
        .enumerate()
        .map(|(i, item)| OtherName {
            name: v.text(&format!("{field}[{i}].name"), &item.name, MAX_NAME_CHARS),
            lang: item
                .lang
                .as_deref()
                .map(|lang| v.language_tag(&format!("{field}[{i}].lang"), lang)),
            note: v.optional_text(
                &format!("{field}[{i}].note"),
                item.note.as_deref(),
                MAX_NOTE_CHARS,
            ),
        })
        .collect()
}

/// Validates and normalizes a list of contact details under `field`.
pub fn contact_details(
    v: &mut Validator,
    field: &str,
    list: &[ContactDetail],
) -> Vec<ContactDetail> {
    v.max_items(field, list.len(), MAX_LIST_ITEMS);
    list.iter()
        .enumerate()
        .map(|(i, item)| ContactDetail {
            contact_type: v.text(&format!("{field}[{i}].type"), &item.contact_type, 50),
            value: v.text(&format!("{field}[{i}].value"), &item.value, MAX_NOTE_CHARS),
            label: v.optional_text(
                &format!("{field}[{i}].label"),
                item.label.as_deref(),
                MAX_NAME_CHARS,
            ),
        })
        .collect()
}

/// Validates and normalizes a list of sources under `field`.
pub fn sources(v: &mut Validator, field: &str, list: &[Source]) -> Vec<Source> {
    v.max_items(field, list.len(), MAX_LIST_ITEMS);
    list.iter()
        .enumerate()
        .map(|(i, item)| Source {
            url: v.http_url(&format!("{field}[{i}].url"), &item.url),
            note: v.optional_text(
                &format!("{field}[{i}].note"),
                item.note.as_deref(),
                MAX_NOTE_CHARS,
            ),
        })
        .collect()
}

pub use crate::store::identifiers::Identifier;

/// Most identifiers a record may carry.
pub const MAX_IDENTIFIERS: usize = 20;

/// Pattern of `scheme:value` in query filters and references: a scheme
/// ([`is_scheme`]), a colon, and a value without control characters.
pub const IDENTIFIER_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$";

/// Whether `scheme` names a naming system: 1–64 ASCII letters, digits,
/// `.`, `_` or `-`, starting with a letter or digit (the pattern of
/// `Identifier.scheme`).
pub fn is_scheme(scheme: &str) -> bool {
    (1..=64).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphanumeric())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Validates and normalizes a list of external identifiers under `field`:
/// schemes of letters, digits, `.`, `_`, `-`; values trimmed; no pair twice.
pub fn identifiers(v: &mut Validator, field: &str, list: &[Identifier]) -> Vec<Identifier> {
    v.max_items(field, list.len(), MAX_IDENTIFIERS);
    let mut seen: Vec<Identifier> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let scheme = item.scheme.clone();
        if !is_scheme(&scheme) {
            v.error(
                format!("{field}[{i}].scheme"),
                "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            );
        }
        let value = v.text(&format!("{field}[{i}].value"), &item.value, 200);
        let identifier = Identifier { scheme, value };
        if seen.contains(&identifier) {
            v.error(
                format!("{field}[{i}]"),
                "the same identifier is listed twice",
            );
        } else {
            seen.push(identifier);
        }
    }
    seen
}

/// The identifier written `scheme:value` ([`IDENTIFIER_PATTERN`]), `None`
/// when `text` does not have that shape; `Err` when it holds control
/// characters.
fn split_identifier(text: &str) -> Result<Option<Identifier>, &'static str> {
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(match text.split_once(':') {
        Some((scheme, value)) if is_scheme(scheme) && !value.is_empty() => Some(Identifier {
            scheme: scheme.to_owned(),
            value: value.to_owned(),
        }),
        _ => None,
    })
}

/// An identifier given as `scheme:value` in a query parameter (400).
pub fn parse_identifier(field: &str, text: &str) -> Result<Identifier, Error> {
    split_identifier(text)
        .and_then(|found| found.ok_or("expected scheme:value, e.g. yangpu-party-org:310110-0042"))
        .map_err(|reason| Error::bad_parameter(field, reason))
}

/// The identifier named by the path of a `…/by-identifier/{scheme}/{value}`
/// request, validated like identifiers in bodies (422).
pub fn by_identifier((scheme, value): (String, String)) -> Result<Identifier, Error> {
    let mut v = Validator::default();
    let list = identifiers(&mut v, "identifier", &[Identifier { scheme, value }]);
    v.finish()?;
    list.into_iter()
        .next()
        .ok_or_else(|| Error::internal("no identifier"))
}

/// A reference to another record: its id, or one of its external
/// identifiers as `scheme:value` (resolved when the request is processed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Id(uuid::Uuid),
    Identifier(Identifier),
}

impl Reference {
    /// The id referred to; identifiers must have been resolved before.
    pub fn id(&self) -> Result<uuid::Uuid, Error> {
        match self {
            Self::Id(id) => Ok(*id),
            Self::Identifier(i) => Err(Error::internal(format!(
                "unresolved reference {}:{}",
                i.scheme, i.value
            ))),
        }
    }
}

impl From<uuid::Uuid> for Reference {
    fn from(id: uuid::Uuid) -> Self {
        Self::Id(id)
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(serializer),
            Self::Identifier(i) => serializer.serialize_str(&format!("{}:{}", i.scheme, i.value)),
        }
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if let Ok(id) = uuid::Uuid::parse_str(&text) {
            return Ok(Self::Id(id));
        }
        split_identifier(&text)
            .and_then(|found| found.ok_or("expected a UUID or an identifier as scheme:value"))
            .map(Self::Identifier)
            .map_err(serde::de::Error::custom)
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
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
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

impl ToSchema for Reference {}
