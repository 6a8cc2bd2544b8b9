//! Members of records: [`Field`] says how a value stands as a member of a
//! JSON object (its schema, and what leaving it out means), and
//! [`record!`](crate::record) declares a record of such members once: the
//! struct, its deserialization reporting every member at fault, its
//! serialization and its schema.

use super::nullable;
use utoipa::openapi::{RefOr, Schema};

/// Components (name, schema) a schema refers to.
pub type Components = Vec<(String, RefOr<Schema>)>;

/// A value as a member of a record.
pub trait Field: Sized {
    /// The member's schema: inline, or a reference to a component.
    fn schema() -> RefOr<Schema>;

    /// The value of a member left out, where it may be (`None`: the member
    /// is required). A merge patch's `null` also stands for this value.
    fn absent() -> Option<Self> {
        None
    }

    /// Whether this is the value of a member left out (it is then not
    /// written out).
    fn is_absent(&self) -> bool {
        false
    }

    /// The components [`Field::schema`] refers to, with theirs.
    fn components(_out: &mut Components) {}
}

impl<T: Field> Field for Option<T> {
    fn schema() -> RefOr<Schema> {
        nullable(T::schema())
    }

    fn absent() -> Option<Self> {
        Some(None)
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }

    fn components(out: &mut Components) {
        T::components(out);
    }
}

impl Field for super::Date {
    fn schema() -> RefOr<Schema> {
        <Self as utoipa::PartialSchema>::schema()
    }
}

impl Field for super::Instant {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::Ref::from_schema_name("Instant").into()
    }

    fn components(out: &mut Components) {
        out.push((
            "Instant".to_owned(),
            <Self as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// The text of a doc comment's lines (as `#[doc]` attributes hold them).
pub fn doc_text(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `schema` with `description` (a doc comment's lines), where there is one.
pub fn described(schema: RefOr<Schema>, description: &[&str]) -> RefOr<Schema> {
    let text = doc_text(description);
    if text.is_empty() {
        return schema;
    }
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.description = Some(text);
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::Array(mut array)) => {
            array.description = Some(text);
            RefOr::T(Schema::Array(array))
        }
        RefOr::T(Schema::OneOf(mut one_of)) => {
            if let Some(RefOr::Ref(first)) = one_of.items.first_mut() {
                first.description = text;
            } else {
                one_of.description = Some(text);
            }
            RefOr::T(Schema::OneOf(one_of))
        }
        RefOr::Ref(mut reference) => {
            reference.description = text;
            RefOr::Ref(reference)
        }
        other => other,
    }
}

/// Declares a record: a struct of [`Field`] members, named in JSON by
/// their names (or `#[rename = "type"]`), that
/// - deserializes from a JSON object reporting every member at fault at
///   once (missing, unknown, or refused by its type's rule) as
///   [`super::Faults`];
/// - serializes its members, leaving out those [`Field::is_absent`];
/// - has a schema (`PartialSchema`, `ToSchema` by the struct's name, and
///   [`Field`] as a reference to it) built from its members' schemas and
///   doc comments, with `example`.
#[macro_export]
macro_rules! record {
    (
        $(#[doc = $doc:literal])*
        #[example = $example:expr]
        pub struct $Record:ident {
            $($(#[doc = $field_doc:literal])* $(#[rename = $wire:literal])? pub $field:ident: $ty:ty,)+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $Record {
            $($(#[doc = $field_doc])* pub $field: $ty,)+
        }

        impl<'de> serde::Deserialize<'de> for $Record {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &[$([$($wire,)? stringify!($field)][0]),+];
                let mut members = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
                let mut faults = $crate::domain::Faults::default();
                $(let $field: Option<$ty> = match members.remove([$($wire,)? stringify!($field)][0]) {
                    Some(value) => match serde_path_to_error::deserialize(value) {
                        Ok(value) => Some(value),
                        Err(err) => {
                            faults.add_error([$($wire,)? stringify!($field)][0], err);
                            None
                        }
                    },
                    None => {
                        let absent = <$ty as $crate::domain::Field>::absent();
                        if absent.is_none() {
                            let name = [$($wire,)? stringify!($field)][0];
                            faults.add(name, format!("missing field `{name}`"));
                        }
                        absent
                    }
                };)+
                for name in members.keys().take($crate::domain::faults::MAX_FAULTS) {
                    faults.add(
                        name.clone(),
                        format!("unknown field `{name}`, expected one of `{}`", NAMES.join("`, `")),
                    );
                }
                match ($($field,)+) {
                    ($(Some($field),)+) => faults.finish(Self { $($field,)+ }),
                    _ => faults.finish(()).and_then(|()| {
                        Err(serde::de::Error::custom("a member is missing"))
                    }),
                }
            }
        }

        impl serde::Serialize for $Record {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $(if !$crate::domain::Field::is_absent(&self.$field) {
                    map.serialize_entry([$($wire,)? stringify!($field)][0], &self.$field)?;
                })+
                map.end()
            }
        }

        impl utoipa::PartialSchema for $Record {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let description: &[&str] = &[$($doc),*];
                let mut object = utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::Object)
                    .description(Some($crate::domain::field::doc_text(description)))
                    .additional_properties(Some(
                        utoipa::openapi::schema::AdditionalProperties::<utoipa::openapi::schema::Schema>::FreeForm(false),
                    ));
                $(
                    if <$ty as $crate::domain::Field>::absent().is_none() {
                        object = object.required([$($wire,)? stringify!($field)][0]);
                    }
                    object = object.property(
                        [$($wire,)? stringify!($field)][0],
                        $crate::domain::field::described(<$ty as $crate::domain::Field>::schema(), &[$($field_doc),*]),
                    );
                )+
                #[allow(deprecated)]
                let object = object.example(Some($example));
                object.into()
            }
        }

        impl utoipa::ToSchema for $Record {
            fn schemas(out: &mut $crate::domain::field::Components) {
                $(<$ty as $crate::domain::Field>::components(out);)+
            }
        }

        impl $crate::domain::Field for $Record {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::Ref::from_schema_name(stringify!($Record)).into()
            }

            fn components(out: &mut $crate::domain::field::Components) {
                out.push((stringify!($Record).to_owned(), <Self as utoipa::PartialSchema>::schema()));
                <Self as utoipa::ToSchema>::schemas(out);
            }
        }
    };
}
