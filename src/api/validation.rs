//! Field validation at the edge: every invalid field of a request is
//! collected, then reported together as one 422.

use crate::error::{Error, FieldError};

/// Collects field errors while normalizing input.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A required text: trimmed, non-empty, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.error(field, "must not be empty");
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
        // PostgreSQL cannot store NUL in text or jsonb.
        if value.contains('\0') {
            self.error(field, "must not contain NUL characters");
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

    /// An absolute http(s) URL, trimmed.
    pub fn http_url(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        match url::Url::parse(trimmed) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                self.max_chars(field, trimmed, 2_000);
            }
            _ => self.error(field, "must be an absolute http or https URL"),
        }
        trimmed.to_owned()
    }

    /// An e-mail address, trimmed: one `@`, a non-empty local part and a
    /// dotted domain, no spaces, at most 254 characters.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        let valid = trimmed.len() <= 254
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && match trimmed.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.split('.').count() >= 2
                        && domain.split('.').all(|label| !label.is_empty())
                }
                None => false,
            };
        if !valid {
            self.error(field, "must be an e-mail address such as name@example.org");
        }
        trimmed.to_owned()
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

/// A free-text search parameter: trimmed, blank means absent, at most 200
/// characters and no NUL (400 otherwise).
pub fn search_param(name: &str, value: Option<String>) -> Result<Option<String>, Error> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > 200 || value.contains('\0') {
        return Err(Error::bad_parameter(
            name,
            "must be at most 200 characters, without NUL",
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
    fn urls_and_language_tags() {
        let mut v = Validator::default();
        v.http_url("ok", "https://example.org/a");
        v.language_tag("ok", "zh-Hans");
        assert!(v.finish().is_ok());
        let mut v = Validator::default();
        v.http_url("a", "ftp://example.org");
        v.http_url("b", "not a url");
        v.language_tag("c", "chinese language");
        let Err(Error::Validation(errors)) = v.finish() else {
            panic!("expected validation errors")
        };
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn emails() {
        let mut v = Validator::default();
        assert_eq!(
            v.email("ok", " xu.shujie@example.gov.cn "),
            "xu.shujie@example.gov.cn"
        );
        assert!(v.finish().is_ok());
        for bad in [
            "plain",
            "a@b",
            "@example.org",
            "a@@example.org",
            "a b@example.org",
            "a@example..org",
        ] {
            let mut v = Validator::default();
            v.email("email", bad);
            assert!(v.finish().is_err(), "{bad}");
        }
    }
}
