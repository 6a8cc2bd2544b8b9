//! Names and free texts.

use super::{string_value, Parse};
use utoipa::openapi::ObjectBuilder;

/// Pattern of a name or title (JSON Schema syntax): no control,
/// line-separator or bidirectional-control characters, and at least one
/// visible character. [`Name::parse`] enforces this pattern itself; it
/// also counts as invisible what a pattern without Unicode classes cannot
/// name: marks without a base and unassigned code points.
pub const NAME_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$";

/// Pattern of a name that may be left blank (no name): [`NAME_PATTERN`],
/// or white space only.
pub fn blank_or_name_pattern() -> String {
    format!(r"^\s*$|{NAME_PATTERN}")
}

/// Pattern of a free text (note, description): no control characters but
/// tab and line breaks. [`Text::parse`] enforces the same rule.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// A compiled pattern, built once.
macro_rules! compiled {
    ($pattern:expr) => {{
        static REGEX: std::sync::LazyLock<regex_lite::Regex> =
            std::sync::LazyLock::new(|| regex_lite::Regex::new($pattern).expect("a valid pattern"));
        &*REGEX
    }};
}
pub(crate) use compiled;

/// Bidirectional formatting controls, which can make a name display as
/// another (Trojan Source); refused in names.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control characters a free text may not hold (tab and line breaks may).
fn is_forbidden_in_text(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Why `text` (trimmed, non-empty) is not a valid name, if it is not: the
/// rule is [`NAME_PATTERN`] itself; the message says which part fails.
pub fn name_fault(text: &str) -> Option<&'static str> {
    if compiled!(NAME_PATTERN).is_match(text) {
        None
    } else if text
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        Some("must not contain control characters or line separators")
    } else if text.chars().any(is_bidi_control) {
        Some("must not contain bidirectional control characters")
    } else {
        Some("must contain a visible character")
    }
}

/// The faults of `text` as sent as a free text of at most `max`
/// characters (the length, like the pattern, is that of what was sent).
fn text_fault(text: &str, max: usize) -> Result<(), String> {
    // PostgreSQL cannot store NUL in text or jsonb; other controls (but
    // tab and line breaks) garble logs, terminals and exports. Checked on
    // what was sent, as the pattern is, even where trimming would drop it.
    if text.chars().any(is_forbidden_in_text) {
        Err("must not contain control characters other than tab and line breaks".to_owned())
    } else if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
    }
}

/// A name or title of 1 to `MAX` characters, trimmed, with a visible
/// character and no control, line-separator or bidirectional-control
/// characters ([`NAME_PATTERN`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name<const MAX: usize>(String);

impl<const MAX: usize> Parse for Name<MAX> {
    fn max_chars() -> Option<usize> {
        Some(MAX)
    }

    fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".to_owned());
        }
        // Bounded first: the pattern costs more per character.
        text_fault(text, MAX)?;
        // The pattern applies to what was sent: no control character
        // anywhere, not even where trimming would drop it.
        if let Some(fault) = name_fault(text) {
            return Err(fault.to_owned());
        }
        Ok(Self(trimmed.to_owned()))
    }

    fn schema() -> ObjectBuilder {
        super::string_schema()
            .min_length(Some(1))
            .max_length(Some(MAX))
            .pattern(Some(NAME_PATTERN))
    }

    fn blank_schema() -> ObjectBuilder {
        super::string_schema()
            .max_length(Some(MAX))
            .pattern(Some(blank_or_name_pattern()))
    }
}

impl<const MAX: usize> From<Name<MAX>> for String {
    fn from(name: Name<MAX>) -> Self {
        name.0
    }
}

/// A free text of 1 to `MAX` characters, trimmed, without control
/// characters but tab and line breaks ([`TEXT_PATTERN`]). A blank text is
/// no text: see [`super::Optional`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Parse for Text<MAX> {
    fn max_chars() -> Option<usize> {
        Some(MAX)
    }

    fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("must not be blank".to_owned());
        }
        text_fault(text, MAX)?;
        Ok(Self(trimmed.to_owned()))
    }

    fn schema() -> ObjectBuilder {
        super::string_schema()
            .max_length(Some(MAX))
            .pattern(Some(TEXT_PATTERN))
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(text: Text<MAX>) -> Self {
        text.0
    }
}

string_value! {
    impl[const MAX: usize] for Name<MAX>;
    impl[const MAX: usize] for Text<MAX>;
}

/// A search term: a [`Text`] of at most `MAX` characters, whose rule and
/// schema it shares; blank is no search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search<const MAX: usize>(Option<Text<MAX>>);

impl<const MAX: usize> Search<MAX> {
    /// The term to search for, if any.
    pub fn term(&self) -> Option<String> {
        self.0.as_ref().map(|text| text.as_str().to_owned())
    }
}

impl<'de, const MAX: usize> serde::Deserialize<'de> for Search<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::Optional::<Text<MAX>>::deserialize(deserializer).map(|text| Self(text.0))
    }
}

impl<const MAX: usize> utoipa::PartialSchema for Search<MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Text<MAX> as Parse>::schema().into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for Search<MAX> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_visible() {
        assert_eq!(Name::<10>::parse("  杨浦区  ").unwrap().as_str(), "杨浦区");
        assert!(Name::<10>::parse(" ").is_err());
        assert!(Name::<10>::parse(&"字".repeat(11)).is_err());
        for bad in [
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            "\u{2800}",
            "\u{FFFE}",
            "\u{FFFB}",
            "\u{0600}",
            "a\u{2028}b",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{0}b",
            "a\u{1B}[31mb",
            "a\nb",
            "\u{3164}",
        ] {
            assert!(Name::<100>::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Name::<100>::parse("杨浦区 Yangpu\u{200D}").is_ok());
        assert!(Text::<100>::parse("line one\nline two\ttab").is_ok());
        assert!(Text::<100>::parse("bell\u{7}").is_err());
    }

    #[test]
    fn the_documented_patterns_agree_with_the_parsers() {
        let samples = [
            "杨浦区",
            "x",
            "\u{200B}",
            "\u{200B}x",
            "a\u{202E}b",
            "a\u{0}b",
            "a\u{85}b",
            "\u{A0}",
            "a\tb",
            "\u{3000}",
        ];
        let name = |t: &str| Name::<1000>::parse(t).is_ok();
        super::super::assert_pattern_agrees(NAME_PATTERN, name, &samples);
        let text = |t: &str| t.trim().is_empty() || Text::<1000>::parse(t).is_ok();
        super::super::assert_pattern_agrees(TEXT_PATTERN, text, &samples);
    }
}
