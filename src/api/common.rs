//! Value types shared by the register's resources (Popolo-style): other
//! names, contact details and sources.

use crate::api::validation::Validator;
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
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    )]
    pub name: String,
    /// BCP 47 language tag, e.g. `zh` or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
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
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    )]
    pub contact_type: String,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    )]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub label: Option<String>,
}

/// Where information about a record comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html", "note": "People's Daily Online, 2023-05-23"}))]
pub struct Source {
    /// Absolute http(s) URL. (The schema's pattern admits ASCII URLs; the
    /// server also takes internationalized ones.)
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

/// A list of value objects as the JSON stored in a jsonb column.
pub fn to_json<T: Serialize>(list: Vec<T>) -> Result<serde_json::Value, crate::error::Error> {
    serde_json::to_value(list).map_err(crate::error::Error::internal)
}

/// The list of value objects stored as JSON in a jsonb column.
pub fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<Vec<T>, crate::error::Error> {
    serde_json::from_value(value).map_err(crate::error::Error::internal)
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
