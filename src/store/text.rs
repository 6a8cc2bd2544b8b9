//! Closed sets of values named by fixed texts: kinds, statuses, scopes and
//! sort orders, exchanged as those texts in JSON and query parameters.

/// Defines an enum whose values are exchanged (serde) as the texts beside
/// them, with `ALL` (every value, in order of declaration), `as_str` (also
/// as `Into<&'static str>`) and `Display`.
macro_rules! text_values {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in order of declaration.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as exchanged (and stored).
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text ),+ }
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::store::text::TextValues for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
        }
    };
}
pub(crate) use text_values;

/// A closed set of values named by texts (see [`text_values!`]).
pub trait TextValues: Copy + PartialEq + Into<&'static str> + 'static {
    /// Every value, in order of declaration.
    fn all() -> &'static [Self];

    /// The value named `text`, if any.
    fn named(text: &str) -> Option<Self> {
        Self::all()
            .iter()
            .copied()
            .find(|value| (*value).into() == text)
    }
}

/// Defines a [`text_values!`] enum stored as `text` (the database
/// constrains the values with a CHECK).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $crate::store::text::text_values! {
            $(#[$meta])*
            #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
            #[diesel(sql_type = diesel::sql_types::Text)]
            pub enum $name {
                $( $(#[$vmeta])* $variant => $text ),+
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                match text.as_str() {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(format!("unknown {} {other:?}", stringify!($name)).into()),
                }
            }
        }
    };
}
pub(crate) use text_enum;
