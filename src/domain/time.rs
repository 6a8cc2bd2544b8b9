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

/// A day, a month or a year, as Popolo writes dates: `YYYY-MM-DD`,
/// `YYYY-MM` or `YYYY` (ISO 8601 at reduced precision), years 0001–9999.
/// Kept as written; read as a span of days: a start from its first day
/// ([`PartialDate::first_day`]), an end through its last
/// ([`PartialDate::last_day`]), so a role "from 2020" is held on
/// 2020-06-01 and one "until 2020-05" on 2020-05-31.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartialDate(String);

fn partial_date_pattern() -> String {
    format!("^{YEAR_PATTERN}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")
}

impl PartialDate {
    /// The first day the date stands for.
    pub fn first_day(&self) -> NaiveDate {
        self.span().0
    }

    /// The last day the date stands for.
    pub fn last_day(&self) -> NaiveDate {
        self.span().1
    }

    /// The first and last day of the span (the text is known good).
    fn span(&self) -> (NaiveDate, NaiveDate) {
        Self::span_of(&self.0).expect("a parsed partial date")
    }

    fn span_of(text: &str) -> Option<(NaiveDate, NaiveDate)> {
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        if !YEARS.contains(&year) {
            return None;
        }
        let month_end = |month: u32| {
            let next = if month == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, month + 1, 1)
            };
            next.and_then(|day| day.pred_opt())
                .or_else(|| NaiveDate::from_ymd_opt(year, 12, 31))
        };
        match text.len() {
            4 => Some((
                NaiveDate::from_ymd_opt(year, 1, 1)?,
                NaiveDate::from_ymd_opt(year, 12, 31)?,
            )),
            7 if text.as_bytes()[4] == b'-' => {
                let month = digits(5..7)?;
                Some((NaiveDate::from_ymd_opt(year, month, 1)?, month_end(month)?))
            }
            10 => Date::parse(text).ok().map(|day| (day.0, day.0)),
            _ => None,
        }
    }
}

impl super::Parse for PartialDate {
    fn parse(text: &str) -> Result<Self, String> {
        match Self::span_of(text) {
            Some(_) => Ok(Self(text.to_owned())),
            None => Err(
                "must be a date YYYY-MM-DD, a month YYYY-MM or a year YYYY, years 0001 to 9999"
                    .to_owned(),
            ),
        }
    }

    fn max_chars() -> Option<usize> {
        Some(10)
    }

    fn is_blank(_: &str) -> bool {
        false
    }

    fn schema() -> utoipa::openapi::ObjectBuilder {
        super::string_schema()
            .pattern(Some(partial_date_pattern()))
            .description(Some(
                "An ISO 8601 date at day, month or year precision (YYYY-MM-DD, YYYY-MM \
                 or YYYY), years 0001 to 9999. A start is read from its first day, an \
                 end through its last.",
            ))
    }
}

super::string_value! {
    impl for PartialDate;
}

impl From<Date> for PartialDate {
    fn from(day: Date) -> Self {
        Self(day.to_string())
    }
}

/// An IANA time zone, e.g. `Asia/Shanghai`: one of the names of the time
/// zone database (the schema lists them), written as the database writes
/// it. Where one is left out, the register's default applies
/// ([`Timezone::set_default`], `DEFAULT_TIMEZONE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timezone(&'static str);

/// The register's default time zone, set once at start-up.
static DEFAULT_TIMEZONE: std::sync::OnceLock<Timezone> = std::sync::OnceLock::new();

impl Timezone {
    /// The default of the default: the alliance's own zone.
    pub const FALLBACK: &'static str = "Asia/Shanghai";

    /// Makes `zone` the time zone of records that leave theirs out, for
    /// the life of the process; `false` if another was set before.
    pub fn set_default(zone: Self) -> bool {
        DEFAULT_TIMEZONE.set(zone.clone()).is_ok() || Self::default_zone() == zone
    }

    /// The time zone of records that leave theirs out.
    pub fn default_zone() -> Self {
        DEFAULT_TIMEZONE
            .get()
            .cloned()
            .unwrap_or_else(|| Self::parse(Self::FALLBACK).expect("a known zone"))
    }

    /// The zone named `text` exactly.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.parse::<chrono_tz::Tz>()
            .map(|zone| Self(zone.name()))
            .map_err(|_| "must be an IANA time zone name such as Asia/Shanghai or UTC".to_owned())
    }

    /// Every zone name, as the schema lists them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())
    }
}

impl AsRef<str> for Timezone {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Timezone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Timezone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timezone {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::names()))
            .description(Some(
                "An IANA time zone name, e.g. Asia/Shanghai; left out, the register's \
                 default (DEFAULT_TIMEZONE, Asia/Shanghai unless configured)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Timezone {}

impl super::Field for Timezone {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::Ref::from_schema_name("Timezone").into()
    }

    fn absent() -> Option<Self> {
        Some(Self::default_zone())
    }

    fn components(out: &mut super::field::Components) {
        out.push((
            "Timezone".to_owned(),
            <Self as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// A bound of a period asked for: a day (`YYYY-MM-DD`, compared with local
/// days) or an instant (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrInstant {
    Day(Date),
    Instant(Instant),
}

impl DayOrInstant {
    /// An instant when `text` has a time, else a day.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 10 {
            Instant::parse(text).map(Self::Instant)
        } else {
            Date::parse(text).map(Self::Day)
        }
        .map_err(|_| {
            "must be a day YYYY-MM-DD or an RFC 3339 instant such as 2023-05-23T09:30:00+08:00"
                .to_owned()
        })
    }
}

fn day_or_instant_pattern() -> String {
    format!("({})|({})", date_pattern(), instant_pattern())
}

/// Deserialization through `parse`, and the schema of the string: its
/// format, the pattern `parse` checks and a description.
macro_rules! parsed_time {
    ($($ty:ident: $($format:ident)?, $pattern:expr, $description:expr;)+) => {$(
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
                    $(.format(Some(SchemaFormat::KnownFormat(KnownFormat::$format))))?
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
    DayOrInstant: , day_or_instant_pattern(),
        "A day YYYY-MM-DD (matched against local days) or an RFC 3339 instant with \
         an offset (matched against instants), years 0001 to 9999";
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
    fn partial_dates_are_spans_of_days() {
        use crate::domain::Parse;
        let span = |text: &str| {
            let date = PartialDate::parse(text).unwrap();
            (date.first_day().to_string(), date.last_day().to_string())
        };
        assert_eq!(span("2020"), ("2020-01-01".into(), "2020-12-31".into()));
        assert_eq!(span("2024-02"), ("2024-02-01".into(), "2024-02-29".into()));
        assert_eq!(span("9999-12"), ("9999-12-01".into(), "9999-12-31".into()));
        assert_eq!(
            span("2023-05-23"),
            ("2023-05-23".into(), "2023-05-23".into())
        );
        for bad in [
            "0000",
            "2023-00",
            "2023-13",
            "2023-5",
            "2023-02-30",
            "20230",
            "2023-",
            "2023-05-",
            "-2023",
            "+2023",
            " 2023",
            "２０２３",
            "2023/05",
            "",
        ] {
            assert!(PartialDate::parse(bad).is_err(), "{bad}");
        }
        let dates = [
            "2023",
            "2023-05",
            "2023-05-23",
            "0000",
            "2023-13",
            "2023-02-30",
            "2023-5",
        ];
        let parses = |t: &str| PartialDate::parse(t).is_ok();
        // The calendar check (2023-02-30) is the server's, as for days.
        let shaped: Vec<&str> = dates
            .iter()
            .copied()
            .filter(|d| *d != "2023-02-30")
            .collect();
        super::super::assert_pattern_agrees(&partial_date_pattern(), parses, &shaped);
    }

    #[test]
    fn time_zones_are_the_databases_names() {
        assert_eq!(
            Timezone::parse("Asia/Shanghai").unwrap().to_string(),
            "Asia/Shanghai"
        );
        assert_eq!(Timezone::parse("UTC").unwrap().to_string(), "UTC");
        for bad in ["asia/shanghai", "Mars/Olympus", "+08:00", "", " UTC"] {
            assert!(Timezone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Timezone::default_zone().to_string(), Timezone::FALLBACK);
    }

    #[test]
    fn period_bounds_are_days_or_instants() {
        assert!(matches!(
            DayOrInstant::parse("2023-05-23"),
            Ok(DayOrInstant::Day(_))
        ));
        assert!(matches!(
            DayOrInstant::parse("2023-05-23T00:00:00+08:00"),
            Ok(DayOrInstant::Instant(_))
        ));
        let samples = [
            "2023-05-23",
            "2023-05-23T00:00:00Z",
            "2023-05",
            "2023-05-23T00:00:00",
            "0000-01-01",
        ];
        let parses = |t: &str| DayOrInstant::parse(t).is_ok();
        super::super::assert_pattern_agrees(&day_or_instant_pattern(), parses, &samples);
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
