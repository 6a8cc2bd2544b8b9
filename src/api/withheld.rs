//! Serializing a struct without some of its fields, straight to the
//! output: how a person is shown to keys without the `pii` scope, with no
//! detour through a `serde_json::Value` (which cost every person shown a
//! map of copied values).

use serde::ser::{Error as _, Impossible, SerializeStruct};
use serde::{Serialize, Serializer};

/// `value` (a struct) without the fields named in `fields`.
#[derive(Debug)]
pub struct Without<'a, T> {
    pub value: &'a T,
    pub fields: &'static [&'static str],
}

impl<T: Serialize> Serialize for Without<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(SkipFields {
            inner: serializer,
            fields: self.fields,
        })
    }
}

/// A serializer that takes a struct and passes it on without `fields`.
struct SkipFields<S> {
    inner: S,
    fields: &'static [&'static str],
}

/// The struct being passed on.
struct SkipFieldsStruct<S> {
    inner: S,
    fields: &'static [&'static str],
}

impl<S: SerializeStruct> SerializeStruct for SkipFieldsStruct<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        match self.fields.contains(&key) {
            true => self.inner.skip_field(key),
            false => self.inner.serialize_field(key, value),
        }
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

/// Anything but a struct: an error, since only a struct has fields to
/// leave out.
macro_rules! not_a_struct {
    ($($method:ident($($arg:ty),*) -> $Out:ty;)*) => {
        $(
            fn $method(self, $(_: $arg),*) -> Result<$Out, S::Error> {
                Err(S::Error::custom("only a struct can have fields left out"))
            }
        )*
    };
}

impl<S: Serializer> Serializer for SkipFields<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeStruct = SkipFieldsStruct<S::SerializeStruct>;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(SkipFieldsStruct {
            inner: self.inner.serialize_struct(name, len)?,
            fields: self.fields,
        })
    }

    not_a_struct! {
        serialize_bool(bool) -> S::Ok;
        serialize_i8(i8) -> S::Ok;
        serialize_i16(i16) -> S::Ok;
        serialize_i32(i32) -> S::Ok;
        serialize_i64(i64) -> S::Ok;
        serialize_u8(u8) -> S::Ok;
        serialize_u16(u16) -> S::Ok;
        serialize_u32(u32) -> S::Ok;
        serialize_u64(u64) -> S::Ok;
        serialize_f32(f32) -> S::Ok;
        serialize_f64(f64) -> S::Ok;
        serialize_char(char) -> S::Ok;
        serialize_str(&str) -> S::Ok;
        serialize_bytes(&[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(&'static str) -> S::Ok;
        serialize_unit_variant(&'static str, u32, &'static str) -> S::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("only a struct can have fields left out"))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("only a struct can have fields left out"))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("only a struct can have fields left out"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Card {
        name: &'static str,
        email: Option<&'static str>,
        phone: Option<&'static str>,
        tags: Vec<&'static str>,
    }

    #[derive(Serialize)]
    struct Shown<'a> {
        id: u32,
        #[serde(flatten)]
        card: Without<'a, Card>,
        version: u32,
    }

    const CARD: Card = Card {
        name: "Zhou Haiying",
        email: Some("zhou@example.org"),
        phone: None,
        tags: Vec::new(),
    };

    #[test]
    fn the_named_fields_are_left_out_and_the_rest_kept_in_order() {
        let text = serde_json::to_string(&Without {
            value: &CARD,
            fields: &["email", "phone"],
        })
        .unwrap();
        assert_eq!(text, r#"{"name":"Zhou Haiying","tags":[]}"#);
    }

    #[test]
    fn flattened_it_lies_among_the_outer_fields() {
        let shown = Shown {
            id: 7,
            card: Without {
                value: &CARD,
                fields: &["email"],
            },
            version: 2,
        };
        assert_eq!(
            serde_json::to_value(&shown).unwrap(),
            json!({"id": 7, "name": "Zhou Haiying", "phone": null, "tags": [], "version": 2})
        );
    }

    #[test]
    fn a_value_that_is_not_a_struct_is_an_error() {
        let list = vec![1, 2];
        let result = serde_json::to_string(&Without {
            value: &list,
            fields: &["email"],
        });
        assert!(result.is_err());
    }
}
