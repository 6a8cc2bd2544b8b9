//! Field validation at the edge: every invalid field of a request is
//! collected, then reported together as one 422.

use crate::error::{Error, FieldError};

/// Pattern of a name or title in the OpenAPI document (JSON Schema
/// syntax): no control, line-separator or bidirectional-control
/// characters, and at least one visible character. [`Validator::text`]
/// enforces the same rule; it also counts as invisible what a pattern
/// without Unicode classes cannot name: marks without a base and
/// unassigned code points.
pub const NAME_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*[^\x00-\x20\x7F-\x9F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u0600-\u0605\u06DD\u070F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF][^\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]*$";

/// Pattern of a free text (note, description) in the OpenAPI document: no
/// control characters but tab and line breaks. [`Validator::optional_text`]
/// enforces the same rule.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// Pattern of a web address (sources, portraits): http or https, a host
/// named by a domain whose last label starts with a letter (no user info,
/// no IP literal), an optional port below 10000 and printable ASCII after
/// it; ASCII white space around it is trimmed. [`Validator::http_url`]
/// checks exactly this pattern (and that the URL parses).
pub const URL_PATTERN: &str = r"^[ \t\r\n]*https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?[ \t\r\n]*$";

/// [`URL_PATTERN`], or blank (no address).
pub const OPTIONAL_URL_PATTERN: &str = r"^[ \t\r\n]*(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?)?[ \t\r\n]*$";

/// White space as JSON Schema patterns' `\s` reads it, trimmed around
/// e-mail addresses.
const EMAIL_SPACE: &[char] = &[
    '\t', '\n', '\u{B}', '\u{C}', '\r', ' ', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}',
    '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}',
    '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}', '\u{FEFF}',
];

/// ASCII white space, trimmed around URLs.
const ASCII_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Whether an optional URL is blank (stands for none).
pub fn is_blank_url(text: &str) -> bool {
    text.trim_matches(ASCII_SPACE).is_empty()
}

/// Pattern of an e-mail address (or blank, for none) in the OpenAPI
/// document: what [`Validator::optional_email`] takes (with at most 254
/// characters): a local part of 1–64 characters, `@`, a dotted domain; no
/// white space, controls or formatting characters inside; white space
/// (as JSON Schema's `\s` reads it) around it is trimmed.
pub const EMAIL_PATTERN: &str = r"^[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*([^@\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]{1,64}@[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+(\.[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+)+)?[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$";

/// Bidirectional formatting controls, which can make a name display as
/// another (Trojan Source); refused in names.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control characters a free text may not hold (tab and line breaks may).
fn is_forbidden_in_text(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A compiled pattern of this module, built once.
macro_rules! compiled {
    ($pattern:expr) => {{
        static REGEX: std::sync::LazyLock<regex_lite::Regex> =
            std::sync::LazyLock::new(|| regex_lite::Regex::new($pattern).expect("a valid pattern"));
        &*REGEX
    }};
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

/// Collects field errors while normalizing input.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A required name or title: trimmed, non-empty, at most `max`
    /// characters, no control or bidirectional-control characters, at
    /// least one visible character ([`NAME_PATTERN`]).
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.error(field, "must not be empty");
        } else if let Some(fault) = name_fault(trimmed) {
            self.error(field, fault);
        } else {
            self.max_chars(field, trimmed, max);
        }
        trimmed.to_owned()
    }

    /// An optional text: trimmed, blank becomes absent, at most `max`
    /// characters.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let trimmed = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.max_chars(field, trimmed, max);
        Some(trimmed.to_owned())
    }

    fn max_chars(&mut self, field: &str, value: &str, max: usize) {
        // PostgreSQL cannot store NUL in text or jsonb; other controls
        // (but tab and line breaks) garble logs, terminals and exports.
        if value.chars().any(is_forbidden_in_text) {
            self.error(
                field,
                "must not contain control characters other than tab and line breaks",
            );
        } else if value.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
        }
    }

    /// A list of at most `max` entries.
    pub fn max_items(&mut self, field: &str, len: usize, max: usize) {
        if len > max {
            self.error(field, format!("must have at most {max} entries"));
        }
    }

    /// An absolute http(s) URL ([`URL_PATTERN`]), trimmed.
    pub fn http_url(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim_matches(ASCII_SPACE);
        if compiled!(URL_PATTERN).is_match(value) && url::Url::parse(trimmed).is_ok() {
            self.max_chars(field, trimmed, 2_000);
        } else {
            self.error(
                field,
                "must be an absolute http or https URL naming its host by domain, e.g. https://example.org/a",
            );
        }
        trimmed.to_owned()
    }

    /// An optional e-mail address ([`EMAIL_PATTERN`], at most 254
    /// characters): trimmed; blank means none.
    pub fn optional_email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value?;
        let trimmed = value.trim_matches(EMAIL_SPACE);
        if trimmed.is_empty() {
            return None;
        }
        if !compiled!(EMAIL_PATTERN).is_match(value) || trimmed.chars().count() > 254 {
            self.error(field, "must be an e-mail address such as name@example.org");
        }
        Some(trimmed.to_owned())
    }

    /// A BCP 47 language tag such as `zh`, `zh-Hans` or `en-GB`.
    pub fn language_tag(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        let mut subtags = trimmed.split('-');
        let primary_ok = subtags.next().is_some_and(|p| {
            (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !(primary_ok && rest_ok) {
            self.error(field, "must be a BCP 47 language tag such as zh or en-GB");
        }
        trimmed.to_owned()
    }

    /// `later` (named `later_field`) must not be before `earlier`.
    pub fn not_before<T: PartialOrd>(
        &mut self,
        later_field: &str,
        later: Option<T>,
        earlier_field: &str,
        earlier: Option<T>,
    ) {
        if let (Some(later), Some(earlier)) = (later, earlier) {
            if later < earlier {
                self.error(later_field, format!("must not be before {earlier_field}"));
            }
        }
    }

    /// Exactly one of the named fields must be set; otherwise each of them
    /// is reported.
    pub fn exactly_one(&mut self, fields: &[(&str, bool)]) {
        if fields.iter().filter(|(_, set)| *set).count() != 1 {
            let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
            let message = format!("exactly one of {} must be given", names.join(" and "));
            for name in names {
                self.error(name, message.clone());
            }
        }
    }

    /// `Ok` when nothing was wrong, else a 422 listing every field at fault.
    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// Longest free-text search (`q`, `title`).
pub const MAX_SEARCH_CHARS: usize = 200;

/// A free-text search parameter: trimmed, blank means absent, at most
/// `max` characters, no control characters but tab and line breaks
/// ([`TEXT_PATTERN`]; 400 otherwise).
pub fn search_param(
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, Error> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(is_forbidden_in_text) {
        return Err(Error::bad_parameter(
            name,
            format!("must be at most {max} characters, without control characters but tab and line breaks"),
        ));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded() {
        let mut v = Validator::default();
        assert_eq!(v.text("name", "  杨浦区  ", 10), "杨浦区");
        assert_eq!(v.optional_text("note", Some("   "), 10), None);
        v.text("empty", " ", 10);
        v.text("long", &"字".repeat(11), 10);
        let Err(Error::Validation(errors)) = v.finish() else {
            panic!("expected validation errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["empty", "long"]);
    }

    #[test]
    fn names_need_a_visible_character_and_no_controls() {
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
            let mut v = Validator::default();
            v.text("name", bad, 100);
            assert!(v.finish().is_err(), "{bad:?}");
        }
        let mut v = Validator::default();
        v.text("name", "杨浦区 Yangpu\u{200D}", 100);
        v.optional_text("note", Some("line one\nline two\ttab"), 100);
        assert!(v.finish().is_ok());
        let mut v = Validator::default();
        v.optional_text("note", Some("bell\u{7}"), 100);
        assert!(v.finish().is_err());
    }

    #[test]
    fn the_documented_patterns_agree_with_the_validator() {
        let name = regex_lite::Regex::new(NAME_PATTERN).unwrap();
        let text = regex_lite::Regex::new(TEXT_PATTERN).unwrap();
        for sample in [
            "杨浦区",
            " x ",
            "\u{200B}",
            "\u{200B}x",
            "a\u{202E}b",
            "a\u{0}b",
            "a\u{85}b",
            "\u{A0}",
            "a\tb",
            "\u{3000}",
        ] {
            let mut v = Validator::default();
            v.text("name", sample, 1000);
            assert_eq!(name.is_match(sample), v.finish().is_ok(), "name {sample:?}");
            let mut v = Validator::default();
            v.optional_text("note", Some(sample), 1000);
            assert_eq!(text.is_match(sample), v.finish().is_ok(), "text {sample:?}");
        }
    }

    #[test]
    fn urls_and_language_tags() {
        let mut v = Validator::default();
        v.http_url("ok", "https://example.org/a");
        v.language_tag("ok", "zh-Hans");
        assert!(v.finish().is_ok());
        let mut v = Validator::default();
        v.http_url("a", "ftp://example.org");
        v.http_url("b", "not a url");
        v.http_url("c", "https://o.2");
        v.http_url("d", "https://user@example.org");
        v.language_tag("c", "chinese language");
        let Err(Error::Validation(errors)) = v.finish() else {
            panic!("expected validation errors")
        };
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn every_url_the_pattern_admits_parses() {
        let pattern = regex_lite::Regex::new(URL_PATTERN).unwrap();
        for url in [
            "https://a-.b-c",
            "http://x.org.:80/a?b#c",
            " https://example.org/\\%zz ",
            "https://EXAMPLE.ORG:9999",
            "https://a.b0",
        ] {
            assert!(pattern.is_match(url), "{url}");
            let mut v = Validator::default();
            v.http_url("url", url);
            assert!(v.finish().is_ok(), "{url}");
        }
    }

    #[test]
    fn emails() {
        let mut v = Validator::default();
        assert_eq!(
            v.optional_email("ok", Some(" xu.shujie@example.gov.cn\u{3000}")),
            Some("xu.shujie@example.gov.cn".to_owned())
        );
        assert_eq!(v.optional_email("blank", Some(" \u{FEFF}")), None);
        assert!(v.finish().is_ok());
        for bad in [
            "plain",
            "a@b",
            "@example.org",
            "a@@example.org",
            "a b@example.org",
            "a@example..org",
            "aa\u{202E}b@b.com",
            "a\u{200B}b@b.com",
            &format!("{}@example.org", "x".repeat(65)),
        ] {
            let mut v = Validator::default();
            v.optional_email("email", Some(bad));
            assert!(v.finish().is_err(), "{bad}");
        }
    }
}
