//! Addresses: web addresses, e-mail addresses, telephone numbers and
//! language tags.

use super::text::compiled;
use super::{string_value, Parse};
use utoipa::openapi::ObjectBuilder;

/// Pattern of a web address: http or https, a host named by a domain
/// whose last label starts with a letter (no user info, no IP literal), an
/// optional port below 10000 and printable ASCII after it; ASCII white
/// space around it is trimmed. [`HttpUrl::parse`] checks exactly this
/// pattern (and that the URL parses).
pub const URL_PATTERN: &str = r"^[ \t\r\n]*https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?[ \t\r\n]*$";

/// [`URL_PATTERN`], or blank (no address).
const OPTIONAL_URL_PATTERN: &str = r"^[ \t\r\n]*(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#][!-~]*)?)?[ \t\r\n]*$";

/// Longest web address.
const MAX_URL_CHARS: usize = 2_000;

/// ASCII white space, trimmed around URLs.
const ASCII_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// An absolute http(s) URL naming its host by domain ([`URL_PATTERN`]),
/// at most 2,000 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl(String);

impl Parse for HttpUrl {
    fn max_chars() -> Option<usize> {
        Some(MAX_URL_CHARS)
    }

    fn parse(text: &str) -> Result<Self, String> {
        // Bounded first: the pattern costs more per character.
        if text.chars().count() > MAX_URL_CHARS {
            return Err(format!("must be at most {MAX_URL_CHARS} characters"));
        }
        let trimmed = text.trim_matches(ASCII_SPACE);
        if !compiled!(URL_PATTERN).is_match(text) || url::Url::parse(trimmed).is_err() {
            return Err("must be an absolute http or https URL naming its host by domain, e.g. https://example.org/a".to_owned());
        }
        Ok(Self(trimmed.to_owned()))
    }

    fn is_blank(text: &str) -> bool {
        text.trim_matches(ASCII_SPACE).is_empty()
    }

    fn schema() -> ObjectBuilder {
        super::string_schema()
            .max_length(Some(MAX_URL_CHARS))
            .pattern(Some(URL_PATTERN))
    }

    fn blank_schema() -> ObjectBuilder {
        Self::schema().pattern(Some(OPTIONAL_URL_PATTERN))
    }
}

/// White space as JSON Schema patterns' `\s` reads it, trimmed around
/// e-mail addresses.
const EMAIL_SPACE: &[char] = &[
    '\t', '\n', '\u{B}', '\u{C}', '\r', ' ', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}',
    '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}',
    '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}', '\u{FEFF}',
];

/// Pattern of an e-mail address (or blank, for none): a local part of
/// 1–64 characters, `@`, a dotted domain; no white space, controls or
/// formatting characters inside; white space (as JSON Schema's `\s` reads
/// it) around it is trimmed. [`Email::parse`] checks this pattern and at
/// most 254 characters.
pub const EMAIL_PATTERN: &str = r"^[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*([^@\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]{1,64}@[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+(\.[^@.\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\x00-\x1F\x7F-\x9F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F]+)+)?[\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$";

/// Longest e-mail address.
const MAX_EMAIL_CHARS: usize = 254;

/// An e-mail address ([`EMAIL_PATTERN`]), trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Parse for Email {
    fn max_chars() -> Option<usize> {
        Some(MAX_EMAIL_CHARS)
    }

    fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim_matches(EMAIL_SPACE);
        if trimmed.is_empty()
            || text.chars().count() > MAX_EMAIL_CHARS
            || !compiled!(EMAIL_PATTERN).is_match(text)
        {
            return Err("must be an e-mail address such as name@example.org".to_owned());
        }
        Ok(Self(trimmed.to_owned()))
    }

    fn is_blank(text: &str) -> bool {
        text.trim_matches(EMAIL_SPACE).is_empty()
    }

    fn schema() -> ObjectBuilder {
        super::string_schema()
            .max_length(Some(MAX_EMAIL_CHARS))
            .pattern(Some(EMAIL_PATTERN))
    }
}

/// A telephone number as written, e.g. `+86 21 6543 0000`: a free text of
/// at most 50 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Parse for Phone {
    fn max_chars() -> Option<usize> {
        super::Text::<50>::max_chars()
    }

    fn parse(text: &str) -> Result<Self, String> {
        super::Text::<50>::parse(text).map(|text| Self(text.into()))
    }

    fn schema() -> ObjectBuilder {
        super::Text::<50>::schema()
    }
}

/// A BCP 47 language tag such as `zh`, `zh-Hans` or `en-GB` (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

/// Pattern of a [`LanguageTag`].
const LANGUAGE_TAG_PATTERN: &str = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$";

impl Parse for LanguageTag {
    fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let mut subtags = trimmed.split('-');
        let primary_ok = subtags.next().is_some_and(|p| {
            (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err("must be a BCP 47 language tag such as zh or en-GB".to_owned())
        }
    }

    fn schema() -> ObjectBuilder {
        super::string_schema().pattern(Some(LANGUAGE_TAG_PATTERN))
    }
}

string_value! {
    impl for HttpUrl;
    impl for Email;
    impl for Phone;
    impl for LanguageTag;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_language_tags() {
        assert!(HttpUrl::parse("https://example.org/a").is_ok());
        assert!(LanguageTag::parse("zh-Hans").is_ok());
        for bad in [
            "ftp://example.org",
            "not a url",
            "https://o.2",
            "https://user@example.org",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(LanguageTag::parse("chinese language").is_err());
    }

    #[test]
    fn every_url_the_pattern_admits_parses() {
        let urls = [
            "https://a-.b-c",
            "http://x.org.:80/a?b#c",
            " https://example.org/\\%zz ",
            "https://EXAMPLE.ORG:9999",
            "https://a.b0",
            "ftp://example.org",
        ];
        let parses = |url: &str| HttpUrl::parse(url).is_ok();
        super::super::assert_pattern_agrees(URL_PATTERN, parses, &urls);
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" xu.shujie@example.gov.cn\u{3000}")
                .unwrap()
                .as_str(),
            "xu.shujie@example.gov.cn"
        );
        assert!(Email::is_blank(" \u{FEFF}"));
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
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
