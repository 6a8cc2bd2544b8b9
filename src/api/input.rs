//! What clients write, declared once per resource with [`input!`]: the
//! input record (POST, PUT), its merge patch (PATCH) with the same members,
//! and the typed conversions between the input and the store's content —
//! references resolved by the store ([`Refs`]), every member at fault
//! named.
//!
//! Inputs are parsed by their members' domain types and checked by their
//! resource's rules before a connection is taken; only the references
//! wait for the store.

use crate::domain::field::Components;
use crate::domain::{
    nullable, Date, Email, Field, HttpUrl, Identifiers, Instant, LanguageTag, List, Name, Optional,
    OtherName, Parse, PartialDate, Phone, Reference, Text, Timezone, Topics,
};
use crate::error::{Error, FieldError};
use crate::store::identifiers;
use crate::store::refs::Table;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

/// An input record of a resource, declared with [`input!`].
pub trait Input: Sized {
    /// Its merge patch.
    type Patch;
    /// The store's content it becomes.
    type Data;
    /// What the content takes from the record's scope (e.g. the event of a
    /// participant): `()` for top-level resources.
    type Scope;

    /// `self` with the members `patch` sets.
    fn apply(&mut self, patch: Self::Patch);

    /// The content to store in `scope`, each reference resolved through
    /// `refs`.
    fn into_data(self, scope: Self::Scope, refs: &mut Refs<'_>) -> Result<Self::Data, Error>;

    /// Its external identifiers, if it has any.
    fn identifiers(&mut self) -> Option<&mut Identifiers>;

    /// The input `data` was written from (its values parsed again: one
    /// stored before a rule changed is named as at fault, but for the
    /// members `unseen` names, which are left out instead: the writer
    /// cannot see them, and they keep their stored values).
    fn from_data(data: Self::Data, unseen: &dyn Fn(&str) -> bool) -> Result<Self, Error>;
}

/// A member of a merge patch: left out (keep the current value) or set.
/// `null` sets what leaving the member out of a full input means (none,
/// an empty list, the default); for required members it is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the patch names this member at all.
    pub fn is_named(&self) -> bool {
        matches!(self, Self::Set(_))
    }
}

impl<'de, T: Field + Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<T>::deserialize(deserializer)? {
            Some(value) => Ok(Self::Set(value)),
            None => T::absent()
                .map(Self::Set)
                .ok_or_else(|| serde::de::Error::custom("must not be null")),
        }
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Keep => serializer.serialize_none(),
            Self::Set(value) => value.serialize(serializer),
        }
    }
}

impl<T: Field> Field for Patch<T> {
    fn schema() -> RefOr<Schema> {
        if T::absent().is_some() {
            nullable(T::schema())
        } else {
            T::schema()
        }
    }

    fn absent() -> Option<Self> {
        Some(Self::Keep)
    }

    fn is_absent(&self) -> bool {
        matches!(self, Self::Keep)
    }

    fn components(out: &mut Components) {
        T::components(out);
    }
}

/// A resource whose records others refer to.
pub trait Target {
    const TABLE: Table;
}

/// A reference to a live record of `T`: its id, or one of its identifiers
/// as `scheme:value`.
pub struct Ref<T>(pub Reference, PhantomData<T>);

impl<T> Ref<T> {
    /// A reference by id.
    pub fn id(id: Uuid) -> Self {
        Self(Reference::Id(id), PhantomData)
    }
}

impl<T> Clone for Ref<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<T> PartialEq for Ref<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Eq for Ref<T> {}

impl<T> std::fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de, T> Deserialize<'de> for Ref<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Reference::deserialize(deserializer).map(|r| Self(r, PhantomData))
    }
}

impl<T> Serialize for Ref<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<T> Field for Ref<T> {
    fn schema() -> RefOr<Schema> {
        <Reference as Field>::schema()
    }

    fn components(out: &mut Components) {
        <Reference as Field>::components(out);
    }
}

/// Resolves references to ids in the store, noting each that names no live
/// record (a 422 naming its field, reported by [`Refs::resolve`]).
pub struct Refs<'c> {
    conn: &'c mut PgConnection,
    unknown: Vec<FieldError>,
}

impl<'c> Refs<'c> {
    /// What `convert` makes with the references it meets resolved: a 422
    /// naming every reference to no live record, else the result.
    pub fn resolve<T>(
        conn: &'c mut PgConnection,
        convert: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut refs = Self {
            conn,
            unknown: Vec::new(),
        };
        let converted = convert(&mut refs)?;
        if refs.unknown.is_empty() {
            Ok(converted)
        } else {
            Err(Error::Validation(refs.unknown))
        }
    }

    /// The id `reference` (the member `field`) names among `table`'s live
    /// records.
    fn id(&mut self, field: &str, table: Table, reference: &Reference) -> Result<Uuid, Error> {
        match reference {
            Reference::Id(id) => Ok(*id),
            Reference::Identifier(identifier) => {
                match identifiers::owner(
                    self.conn,
                    table,
                    identifier.scheme.as_str(),
                    identifier.value.as_str(),
                )? {
                    Some(id) => Ok(id),
                    None => {
                        self.unknown.push(FieldError::new(
                            field,
                            format!("no {} has identifier {identifier}", table.entity),
                        ));
                        Ok(Uuid::nil())
                    }
                }
            }
        }
    }
}

/// A member's value as the store keeps it, and back.
pub trait Stored: Sized {
    /// The column's type.
    type Column;

    /// The value to store for the member `field`.
    fn store(self, field: &str, refs: &mut Refs<'_>) -> Result<Self::Column, Error>;

    /// The member's value from the stored one (the member `field`'s faults
    /// if it does not parse).
    fn load(column: Self::Column, field: &str) -> Result<Self, Vec<FieldError>>;

    /// The value as a record's external identifiers, if it is them.
    fn as_identifiers(&mut self) -> Option<&mut Identifiers> {
        None
    }
}

/// A fault of the stored value of member `field`.
fn stored_fault(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError::new(field, message)]
}

/// [`Stored`] for [`Parse`] values, kept as their text.
macro_rules! stored_as_text {
    ($(impl$([$($generics:tt)*])? for $ty:ty;)*) => {$(
        impl$(<$($generics)*>)? Stored for $ty {
            type Column = String;

            fn store(self, _: &str, _: &mut Refs<'_>) -> Result<String, Error> {
                Ok(self.as_str().to_owned())
            }

            fn load(column: String, field: &str) -> Result<Self, Vec<FieldError>> {
                Self::parse(&column).map_err(|message| stored_fault(field, message))
            }
        }
    )*};
}

stored_as_text! {
    impl[const MAX: usize] for Name<MAX>;
    impl[const MAX: usize] for Text<MAX>;
    impl for Email;
    impl for HttpUrl;
    impl for Phone;
    impl for LanguageTag;
    impl for PartialDate;
}

impl Stored for Timezone {
    type Column = String;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<String, Error> {
        Ok(self.to_string())
    }

    fn load(column: String, field: &str) -> Result<Self, Vec<FieldError>> {
        Timezone::parse(&column).map_err(|message| stored_fault(field, message))
    }
}

impl Stored for Date {
    type Column = NaiveDate;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<NaiveDate, Error> {
        Ok(self.0)
    }

    fn load(column: NaiveDate, field: &str) -> Result<Self, Vec<FieldError>> {
        Date::parse(&column.format("%Y-%m-%d").to_string())
            .map_err(|message| stored_fault(field, message))
    }
}

impl Stored for Instant {
    type Column = DateTime<Utc>;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<DateTime<Utc>, Error> {
        Ok(self.0)
    }

    fn load(column: DateTime<Utc>, _: &str) -> Result<Self, Vec<FieldError>> {
        Ok(Instant(column))
    }
}

impl<T: Stored> Stored for Option<T> {
    type Column = Option<T::Column>;

    fn store(self, field: &str, refs: &mut Refs<'_>) -> Result<Self::Column, Error> {
        self.map(|value| value.store(field, refs)).transpose()
    }

    fn load(column: Self::Column, field: &str) -> Result<Self, Vec<FieldError>> {
        column.map(|value| T::load(value, field)).transpose()
    }
}

impl<T: Parse> Stored for Optional<T> {
    type Column = Option<String>;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<Option<String>, Error> {
        Ok(self.0.map(|value| value.as_str().to_owned()))
    }

    fn load(column: Option<String>, field: &str) -> Result<Self, Vec<FieldError>> {
        match column {
            Some(text) if !T::is_blank(&text) => T::parse(&text)
                .map(|value| Self(Some(value)))
                .map_err(|message| stored_fault(field, message)),
            _ => Ok(Self(None)),
        }
    }
}

/// A value kept as JSON in a jsonb column.
fn store_json<T: Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(Error::internal)
}

/// A value from the JSON of a jsonb column; faults inside it named under
/// `field`.
fn load_json<T: DeserializeOwned>(
    column: serde_json::Value,
    field: &str,
) -> Result<T, Vec<FieldError>> {
    serde_path_to_error::deserialize(column).map_err(|err| {
        let mut faults = crate::domain::Faults::default();
        faults.add_error(field, err);
        faults
            .into_list()
            .into_iter()
            .map(|(path, message)| FieldError::new(path, message))
            .collect()
    })
}

impl<T: Serialize + DeserializeOwned, const MAX: usize> Stored for List<T, MAX> {
    type Column = serde_json::Value;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<serde_json::Value, Error> {
        store_json(&self)
    }

    fn load(column: serde_json::Value, field: &str) -> Result<Self, Vec<FieldError>> {
        load_json(column, field)
    }
}

impl Stored for Identifiers {
    type Column = serde_json::Value;

    fn as_identifiers(&mut self) -> Option<&mut Identifiers> {
        Some(self)
    }

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<serde_json::Value, Error> {
        store_json(&self)
    }

    fn load(column: serde_json::Value, field: &str) -> Result<Self, Vec<FieldError>> {
        load_json(column, field)
    }
}

impl Stored for Topics {
    type Column = Vec<String>;

    fn store(self, _: &str, _: &mut Refs<'_>) -> Result<Vec<String>, Error> {
        Ok(self.0.into_iter().map(String::from).collect())
    }

    fn load(column: Vec<String>, field: &str) -> Result<Self, Vec<FieldError>> {
        load_json(serde_json::Value::from(column), field)
    }
}

impl<T: Target> Stored for Ref<T> {
    type Column = Uuid;

    fn store(self, field: &str, refs: &mut Refs<'_>) -> Result<Uuid, Error> {
        refs.id(field, T::TABLE, &self.0)
    }

    fn load(column: Uuid, _: &str) -> Result<Self, Vec<FieldError>> {
        Ok(Self::id(column))
    }
}

/// [`Field`] and [`Stored`] for enums of the store (kept as they are),
/// each a component of the document, with the value a left-out member
/// takes where there is one (`EventKind = EventKind::Other`).
#[macro_export]
macro_rules! enum_field {
    ($($ty:ident $(= $default:expr)?),* $(,)?) => {$(
        impl $crate::domain::Field for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                #[allow(unused_mut)]
                let mut reference = utoipa::openapi::Ref::from_schema_name(stringify!($ty));
                $(reference.default = Some(serde_json::Value::from($default.as_str()));)?
                reference.into()
            }

            $(fn absent() -> Option<Self> {
                Some($default)
            })?

            fn components(out: &mut $crate::domain::field::Components) {
                out.push((stringify!($ty).to_owned(), <$ty as utoipa::PartialSchema>::schema()));
            }
        }

        impl $crate::api::input::Stored for $ty {
            type Column = Self;

            fn store(
                self,
                _: &str,
                _: &mut $crate::api::input::Refs<'_>,
            ) -> Result<Self, $crate::error::Error> {
                Ok(self)
            }

            fn load(column: Self, _: &str) -> Result<Self, Vec<$crate::error::FieldError>> {
                Ok(column)
            }
        }
    )*};
}

/// The rule that `later` (a member and its value) is not before `earlier`.
pub fn not_before<T: PartialOrd>(
    (later_field, later): (&str, Option<T>),
    (earlier_field, earlier): (&str, Option<T>),
) -> Vec<FieldError> {
    match (later, earlier) {
        (Some(later), Some(earlier)) if later < earlier => vec![FieldError::new(
            later_field,
            format!("must not be before {earlier_field}"),
        )],
        _ => Vec::new(),
    }
}

/// The rule that a period (members `end` and `start`, partial dates) does
/// not end before it starts, each date read as its span of days: "2020" to
/// "2020-05" holds, "2020-06" to "2020-05" does not.
pub fn period_rule(
    (end_field, end): (&str, Option<&PartialDate>),
    (start_field, start): (&str, Option<&PartialDate>),
) -> Vec<FieldError> {
    not_before(
        (end_field, end.map(PartialDate::last_day)),
        (start_field, start.map(PartialDate::first_day)),
    )
}

/// [`period_rule`] for each of the other names in member `field`.
pub fn other_name_periods<const MAX: usize>(
    field: &str,
    names: &List<OtherName, MAX>,
) -> Vec<FieldError> {
    names
        .0
        .iter()
        .enumerate()
        .flat_map(|(i, name)| {
            period_rule(
                ("end_date", name.end_date.as_ref()),
                ("start_date", name.start_date.as_ref()),
            )
            .into_iter()
            .map(move |fault| {
                FieldError::new(format!("{field}[{i}].{}", fault.field), fault.message)
            })
        })
        .collect()
}

/// The rule that exactly one of the members is given (each is named when
/// it does not hold).
pub fn exactly_one(members: &[(&str, bool)]) -> Vec<FieldError> {
    if members.iter().filter(|(_, given)| *given).count() == 1 {
        return Vec::new();
    }
    let names: Vec<&str> = members.iter().map(|(name, _)| *name).collect();
    let message = format!("exactly one of {} must be given", names.join(" and "));
    names
        .into_iter()
        .map(|name| FieldError::new(name, message.clone()))
        .collect()
}

/// Declares what clients write to a resource, once: the input record
/// (`$Input`, see [`record!`](crate::record)), its merge patch (`$Patch`,
/// the same members, each [`Patch`]) and [`Input`] over the store's
/// content `$Data`, whose fields must be exactly the input's members (the
/// compiler checks: a member missing on either side does not build) and,
/// for records inside another, the scope's field (`=> ParticipantData {
/// event_id: Uuid }`).
#[macro_export]
macro_rules! input {
    (@scope) => { () };
    (@scope $Scope:ty) => { $Scope };
    (
        $(#[doc = $doc:literal])*
        #[example = $example:expr]
        pub struct $Input:ident => $Data:ident $({ $scope_field:ident: $Scope:ty })?;
        $(#[doc = $patch_doc:literal])*
        #[example = $patch_example:expr]
        pub struct $Patch:ident;
        {
            $($(#[doc = $field_doc:literal])* $field:ident: $ty:ty,)+
        }
    ) => {
        $crate::record! {
            $(#[doc = $doc])*
            #[example = $example]
            pub struct $Input {
                $($(#[doc = $field_doc])* pub $field: $ty,)+
            }
        }

        $crate::record! {
            $(#[doc = $patch_doc])*
            #[example = $patch_example]
            pub struct $Patch {
                $($(#[doc = $field_doc])* pub $field: $crate::api::input::Patch<$ty>,)+
            }
        }

        impl $crate::api::input::Input for $Input {
            type Patch = $Patch;
            type Data = $Data;
            type Scope = $crate::input!(@scope $($Scope)?);

            fn apply(&mut self, patch: $Patch) {
                $(if let $crate::api::input::Patch::Set(value) = patch.$field {
                    self.$field = value;
                })+
            }

            fn into_data(
                self,
                _scope: Self::Scope,
                refs: &mut $crate::api::input::Refs<'_>,
            ) -> Result<$Data, $crate::error::Error> {
                Ok($Data {
                    $($scope_field: _scope,)?
                    $($field: $crate::api::input::Stored::store(self.$field, stringify!($field), refs)?,)+
                })
            }

            fn identifiers(&mut self) -> Option<&mut $crate::domain::Identifiers> {
                None$(.or($crate::api::input::Stored::as_identifiers(&mut self.$field)))+
            }

            fn from_data(
                data: $Data,
                unseen: &dyn Fn(&str) -> bool,
            ) -> Result<Self, $crate::error::Error> {
                let mut faults = Vec::new();
                $(let $field = match $crate::api::input::Stored::load(data.$field, stringify!($field)) {
                    Ok(value) => Some(value),
                    Err(_) if unseen(stringify!($field)) => {
                        <$ty as $crate::domain::Field>::absent()
                    }
                    Err(found) => {
                        faults.extend(found);
                        None
                    }
                };)+
                match ($($field,)+) {
                    ($(Some($field),)+) => Ok(Self { $($field,)+ }),
                    _ => Err($crate::error::Error::Validation(faults)),
                }
            }
        }
    };
}
