//! Days and instants. Each parses strictly when deserialized (so an
//! out-of-domain value never reaches the database, the journal or the
//! change feed) and states the same domain in the OpenAPI document.

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Timelike, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use utoipa::openapi::schema::SchemaFormat;
use utoipa::openapi::{KnownFormat, ObjectBuilder, RefOr, Schema, Type};

/// The years every day and instant lies in (after conversion to UTC):
/// PostgreSQL, chrono and every client agree on these, and they print as
/// four digits.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A four-digit year 0001–9999.
const YEAR_PATTERN: &str = "(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})";
/// `MM-DD` (the calendar check is the server's).
const MONTH_DAY_PATTERN: &str = "(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])";

fn date_pattern() -> String {
    format!("^{YEAR_PATTERN}-{MONTH_DAY_PATTERN}$")
}

fn instant_pattern() -> String {
    format!(
        "^{YEAR_PATTERN}-{MONTH_DAY_PATTERN}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,9}})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )
}

/// A calendar day from 0001-01-01 to 9999-12-31, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Date {
    /// Parses `YYYY-MM-DD` with a four-digit year in [`YEARS`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        let day = shaped
            .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
            .flatten()
            .filter(|day| YEARS.contains(&day.year()));
        day.map(Self)
            .ok_or_else(|| "must be a day YYYY-MM-DD from 0001-01-01 to 9999-12-31".to_owned())
    }
}

impl From<Date> for NaiveDate {
    fn from(date: Date) -> Self {
        date.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserialization through `parse`, and the schema of the string: its
/// format, the pattern `parse` checks and a description.
macro_rules! parsed_time {
    ($($ty:ident: $format:ident, $pattern:expr, $description:expr;)+) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::$format)))
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    )+};
}

parsed_time! {
    Date: Date, date_pattern(), "A day, YYYY-MM-DD, from 0001-01-01 to 9999-12-31";
    Instant: DateTime, instant_pattern(),
        "An RFC 3339 instant with an offset, e.g. 2023-05-23T09:30:00+08:00; in UTC \
         from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z; no leap seconds; kept \
         to the microsecond (digits past the sixth are dropped)";
}

/// An instant: RFC 3339 with a four-digit year and an offset (`Z` or
/// `±hh:mm`), no leap second, from 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999999Z once converted to UTC; at most nine
/// fractional digits, kept to the microsecond (further digits dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub DateTime<Utc>);

impl Instant {
    /// Parses an RFC 3339 instant within the domain above.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || {
            "must be an RFC 3339 instant such as 2023-05-23T09:30:00+08:00, from \
             0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z in UTC"
                .to_owned()
        };
        let year_digits = text.bytes().take_while(u8::is_ascii_digit).count();
        if year_digits != 4 || !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
            return Err(invalid());
        }
        let fraction_digits = text
            .get(19..)
            .and_then(|rest| rest.strip_prefix('.'))
            .map_or(0, |rest| {
                rest.bytes().take_while(u8::is_ascii_digit).count()
            });
        if fraction_digits > 9 {
            return Err(invalid());
        }
        let parsed = DateTime::parse_from_rfc3339(text).map_err(|_| invalid())?;
        if parsed.nanosecond() >= 1_000_000_000 {
            return Err("must not be a leap second (:60)".to_owned());
        }
        let utc = parsed.with_timezone(&Utc);
        if !YEARS.contains(&utc.year()) {
            return Err(invalid());
        }
        // Stored to the microsecond: what is kept is what is compared, so
        // sending the same instant again changes nothing.
        Ok(Self(utc.trunc_subsecs(6)))
    }
}

impl From<Instant> for DateTime<Utc> {
    fn from(instant: Instant) -> Self {
        instant.0
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_four_digit_years_from_1_to_9999() {
        for good in ["0001-01-01", "2023-05-23", "9999-12-31", "2024-02-29"] {
            assert_eq!(Date::parse(good).unwrap().to_string(), good);
        }
        for bad in [
            "0000-01-01",
            "+10000-01-01",
            "-4714-11-23",
            "10000-01-01",
            "2023-5-23",
            "2023-02-30",
            "2023-05-23T00:00:00Z",
            " 2023-05-23",
            "２０２３-05-23",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_stay_within_years_1_to_9999_in_utc() {
        for good in [
            "2023-05-23T09:30:00+08:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00-01:00",
            "2023-05-23t01:00:00.123456789z",
        ] {
            assert!(Instant::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "-262143-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2023-05-23T09:30:00",
            "2023-05-23 09:30:00Z",
            "2023-05-23",
            "2023-05-23T09:30:00.1234567890Z",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad}");
        }
        let kept = |text: &str| Instant::parse(text).unwrap().0.to_rfc3339();
        assert_eq!(
            kept("2023-05-23T09:00:00.1234569Z"),
            "2023-05-23T09:00:00.123456+00:00"
        );
        assert_eq!(
            kept("1969-12-31T23:59:59.9999999Z"),
            "1969-12-31T23:59:59.999999+00:00"
        );
    }

    #[test]
    fn the_documented_patterns_admit_what_the_parsers_admit() {
        let days = [
            "0001-01-01",
            "9999-12-31",
            "0000-01-01",
            "2023-13-01",
            "99999-01-01",
        ];
        super::super::assert_pattern_agrees(&date_pattern(), |t| Date::parse(t).is_ok(), &days);
        let instants = [
            "2023-05-23T09:30:00+08:00",
            "2023-05-23T09:30:60Z",
            "2023-05-23T24:00:00Z",
            "0000-01-01T00:00:00Z",
        ];
        let parses = |t: &str| Instant::parse(t).is_ok();
        super::super::assert_pattern_agrees(&instant_pattern(), parses, &instants);
    }
}
