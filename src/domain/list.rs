//! Optional values and bounded lists.

use super::field::Components;
use super::{nullable, Faults, Field, Identifier, Name, Parse};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::openapi::{RefOr, Schema};

/// A value that may be left out, `null` or blank: all three mean none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Optional<T>(pub Option<T>);

impl<T> Default for Optional<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Parse> Deserialize<'de> for Optional<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)? {
            Some(text) if !T::is_blank(&text) => T::parse(&text)
                .map(|value| Self(Some(value)))
                .map_err(de::Error::custom),
            // Blank is none, within the length a value may have.
            Some(text) => match T::max_chars() {
                Some(max) if text.chars().count() > max => Err(de::Error::custom(format_args!(
                    "must be at most {max} characters"
                ))),
                _ => Ok(Self(None)),
            },
            None => Ok(Self(None)),
        }
    }
}

impl<T: Parse> Serialize for Optional<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(value) => serializer.serialize_str(value.as_str()),
            None => serializer.serialize_none(),
        }
    }
}

impl<T: Parse> Field for Optional<T> {
    fn schema() -> RefOr<Schema> {
        nullable(T::blank_schema().into())
    }

    fn absent() -> Option<Self> {
        Some(Self(None))
    }

    fn is_absent(&self) -> bool {
        self.0.is_none()
    }
}

/// A list of at most `MAX` values. Each element at fault is reported (at
/// `[i]` and inside it), not only the first; a longer list is refused as a
/// whole, unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T, const MAX: usize>(pub Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

/// The elements of an array that parse, each with its index, and the
/// faults of the others.
type Elements<T> = (Vec<(usize, T)>, Faults);

/// The elements of a JSON array, each parsed as `T`, at most `max`.
fn elements<'de, D: Deserializer<'de>, T: de::DeserializeOwned>(
    deserializer: D,
    max: usize,
) -> Result<Elements<T>, D::Error> {
    let items = Vec::<serde_json::Value>::deserialize(deserializer)?;
    if items.len() > max {
        return Err(de::Error::custom(format_args!(
            "must have at most {max} entries"
        )));
    }
    let mut faults = Faults::default();
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match serde_path_to_error::deserialize(item) {
            Ok(value) => list.push((i, value)),
            Err(err) if faults.is_full() => drop(err),
            Err(err) => faults.add_error(&format!("[{i}]"), err),
        }
    }
    Ok((list, faults))
}

impl<'de, T: de::DeserializeOwned, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (list, faults) = elements(deserializer, MAX)?;
        faults.finish(Self(list.into_iter().map(|(_, value)| value).collect()))
    }
}

impl<T: Serialize, const MAX: usize> Serialize for List<T, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The schema of an array of `T`, at most `max` long.
fn array<T: Field>(max: usize) -> ArrayBuilder {
    ArrayBuilder::new().items(T::schema()).max_items(Some(max))
}

impl<T: Field, const MAX: usize> Field for List<T, MAX> {
    fn schema() -> RefOr<Schema> {
        array::<T>(MAX).into()
    }

    fn absent() -> Option<Self> {
        Some(Self::default())
    }

    fn components(out: &mut Components) {
        T::components(out);
    }
}

/// Most identifiers a record may carry.
pub const MAX_IDENTIFIERS: usize = 20;

/// A record's external identifiers: at most 20, none listed twice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identifiers(pub Vec<Identifier>);

impl<'de> Deserialize<'de> for Identifiers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (list, mut faults) = elements::<D, Identifier>(deserializer, MAX_IDENTIFIERS)?;
        for (n, (i, identifier)) in list.iter().enumerate() {
            if list[..n].iter().any(|(_, earlier)| earlier == identifier) {
                faults.add(format!("[{i}]"), "the same identifier is listed twice");
            }
        }
        faults.finish(Self(list.into_iter().map(|(_, value)| value).collect()))
    }
}

impl Serialize for Identifiers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl Field for Identifiers {
    fn schema() -> RefOr<Schema> {
        array::<Identifier>(MAX_IDENTIFIERS)
            .unique_items(true)
            .into()
    }

    fn absent() -> Option<Self> {
        Some(Self::default())
    }

    fn components(out: &mut Components) {
        Identifier::components(out);
    }
}

/// Most topics of an event.
const MAX_TOPICS: usize = 50;

/// One topic of an event, e.g. "cloud computing".
pub type Topic = Name<100>;

/// The topics of an event: at most 50, trimmed, duplicates dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topics(pub Vec<Topic>);

impl<'de> Deserialize<'de> for Topics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (topics, faults) = elements::<D, Topic>(deserializer, MAX_TOPICS)?;
        let mut list: Vec<Topic> = Vec::new();
        for (_, topic) in topics {
            if !list.contains(&topic) {
                list.push(topic);
            }
        }
        faults.finish(Self(list))
    }
}

impl Serialize for Topics {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl Field for Topics {
    fn schema() -> RefOr<Schema> {
        let topic = <Topic as Parse>::schema().description(Some("One topic of an event."));
        ArrayBuilder::new()
            .items(topic)
            .max_items(Some(MAX_TOPICS))
            .into()
    }

    fn absent() -> Option<Self> {
        Some(Self::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Name;

    #[test]
    fn blank_is_white_space_as_json_schema_reads_it() {
        for blank in ["", " ", "\u{FEFF}", "\u{3000}\t"] {
            let read: Optional<Name<10>> = serde_json::from_value(blank.into()).unwrap();
            assert_eq!(read, Optional(None), "{blank:?}");
        }
        let long = " ".repeat(11);
        assert!(serde_json::from_value::<Optional<Name<10>>>(long.into()).is_err());
    }
}
