//! Entity tags and conditional requests. A record's ETag is its `version`
//! as a strong tag (`"3"`): `If-None-Match` on reads yields 304 while it
//! still matches, `If-Match` on writes yields 412 once it no longer does.
//! The two extractors below also describe their header in the OpenAPI
//! document.

use crate::error::Error;
use crate::store::VersionCheck;
use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::IntoParams;

/// Pattern of `If-Match` and `If-None-Match` values: `*` or a list of
/// (optionally weak) quoted entity tags.
const ETAG_LIST_PATTERN: &str =
    r#"^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$"#;

/// The entity tag of a record at `version`.
pub fn etag(version: i64) -> EntityTag {
    EntityTag::new_strong(version.to_string())
}

fn bad_header(header: &'static str) -> Error {
    Error::BadHeader {
        header,
        reason: "expected * or a comma-separated list of quoted entity tags".into(),
    }
}

fn header_parameter(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(ETAG_LIST_PATTERN)),
        ))
        .build()
}

/// The value of a conditional header: `*`, or a list of entity tags.
#[derive(Debug)]
enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

/// Parses every `name` header of `req` as `*` or a comma-separated list of
/// quoted entity tags (spaces or tabs allowed around items), exactly what
/// [`ETAG_LIST_PATTERN`] admits: a tag may hold commas, `*` stands alone.
/// `None` when the header is absent; 400 when malformed.
fn condition(req: &HttpRequest, name: &'static str) -> Result<Option<Condition>, Error> {
    let mut values = req.headers().get_all(name).peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for value in values {
        let value = value.to_str().map_err(|_| bad_header(name))?;
        match parse_list(value).ok_or_else(|| bad_header(name))? {
            Condition::Any => return Ok(Some(Condition::Any)),
            Condition::Tags(list) => tags.extend(list),
        }
    }
    Ok(Some(Condition::Tags(tags)))
}

/// One header value: `*`, or one or more `"tag"` / `W/"tag"` separated by
/// commas; `None` when it is neither.
fn parse_list(value: &str) -> Option<Condition> {
    const SPACE: [char; 2] = [' ', '\t'];
    let value = value.trim_matches(SPACE);
    if value == "*" {
        return Some(Condition::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, rest),
        };
        let body = quoted.strip_prefix('"')?;
        let end = body.find('"')?;
        let tag = &body[..end];
        if !tag.bytes().all(|b| b == b'!' || (b'#'..=b'~').contains(&b)) {
            return None;
        }
        tags.push(if weak {
            EntityTag::new_weak(tag.to_owned())
        } else {
            EntityTag::new_strong(tag.to_owned())
        });
        rest = body[end + 1..].trim_start_matches(SPACE);
        if rest.is_empty() {
            return Some(Condition::Tags(tags));
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(SPACE);
    }
}

/// The version whose entity tag is exactly `tag` (strong comparison:
/// tags compare as strings, so `"04"` or `"+4"` is not the tag of
/// version 4), if any.
fn tagged_version(tag: &EntityTag) -> Option<i64> {
    if tag.weak {
        return None;
    }
    let version: i64 = tag.tag().parse().ok()?;
    (version.to_string() == tag.tag()).then_some(version)
}

/// The `If-Match` header of a write: what the record's version must be.
/// Weak tags never match (RFC 9110 uses strong comparison here); `*`
/// requires a current record (any version).
#[derive(Debug)]
pub struct IfMatch(pub VersionCheck);

crate::from_head!(impl for IfMatch, |req| {
    let check = condition(req, "If-Match")?;
    Ok(IfMatch(match check {
        None => VersionCheck::Any,
        Some(Condition::Any) => VersionCheck::Exists,
        Some(Condition::Tags(tags)) => {
            VersionCheck::OneOf(tags.iter().filter_map(tagged_version).collect())
        }
    }))
});

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_parameter(
            "If-Match",
            "Write only if the current ETag is one of these (or `*`); otherwise 412",
        )]
    }
}

/// The `If-None-Match` header of a read: the ETags of the copies the
/// client holds.
#[derive(Debug)]
pub struct IfNoneMatch(Option<Condition>);

impl IfNoneMatch {
    /// Whether the client's copy, whose entity tag is now `current`, is
    /// up to date (weak comparison), so that a 304 is due.
    pub fn matches(&self, current: &EntityTag) -> bool {
        match &self.0 {
            None => false,
            Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags.iter().any(|t| t.weak_eq(current)),
        }
    }
}

crate::from_head!(impl for IfNoneMatch, |req| {
    condition(req, "If-None-Match").map(IfNoneMatch)
});

impl IntoParams for IfNoneMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_parameter(
            "If-None-Match",
            "ETags of the copies the client holds (or `*`); 304 when one is current",
        )]
    }
}

/// A weak entity tag of a computed representation (lists, views, embeds),
/// from a hash of its JSON body: it changes whenever the body does.
pub fn body_etag(body: &[u8]) -> EntityTag {
    use std::hash::{DefaultHasher, Hasher};
    let mut hasher = DefaultHasher::new();
    hasher.write(body);
    EntityTag::new_weak(format!("{:016x}", hasher.finish()))
}

/// A 200 response with `body` as JSON and a weak ETag of it, or a 304 when
/// `If-None-Match` holds that ETag. `headers` are added to either.
pub fn computed_response(
    if_none_match: &IfNoneMatch,
    body: &impl serde::Serialize,
    headers: Vec<(header::HeaderName, String)>,
) -> Result<HttpResponse, Error> {
    let bytes = serde_json::to_vec(body).map_err(Error::internal)?;
    let tag = body_etag(&bytes);
    let fresh = if_none_match.matches(&tag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(tag))
        .insert_header(header::CacheControl(vec![
            header::CacheDirective::Private,
            header::CacheDirective::NoCache,
        ]));
    for (name, value) in headers {
        response.insert_header((name, value));
    }
    if fresh {
        return Ok(response.finish());
    }
    Ok(response
        .content_type(header::ContentType::json())
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn if_none_match(value: &str) -> Result<Option<Condition>, Error> {
        let req = TestRequest::default()
            .insert_header(("If-None-Match", value))
            .to_http_request();
        condition(&req, "If-None-Match")
    }

    #[test]
    fn conditions_allow_whitespace_and_reject_garbage() {
        assert!(matches!(if_none_match("*\t"), Ok(Some(Condition::Any))));
        let Ok(Some(Condition::Tags(tags))) = if_none_match("W/\"a\" \t, \t\"b\"") else {
            panic!("two tags")
        };
        assert_eq!(tags.len(), 2);
        assert!(tags[0].weak && !tags[1].weak);
        assert!(if_none_match("0").is_err(), "tags are quoted");
        assert!(if_none_match(" , ").is_err());
        let Ok(Some(Condition::Tags(tags))) = if_none_match("\"a,b\", W/\"c\"") else {
            panic!("a tag may hold a comma")
        };
        assert_eq!(tags[0].tag(), "a,b");
        for bad in [
            "*,UPF\"",
            "*, \"a\"",
            "\"a\",",
            "\"a\" \"b\"",
            "\"a b\"",
            "W/ \"a\"",
        ] {
            assert!(if_none_match(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_documented_pattern_admits_what_the_parser_admits() {
        let values = [
            "*",
            " * ",
            "\"1\"",
            "W/\"1\"",
            "\"a,b\"",
            "\"1\" ,\t\"2\"",
            "*,\"1\"",
            "\"1\",",
            "\"1\" \"2\"",
            "1",
            "",
            "\"\"",
            "W/\"\"",
        ];
        crate::domain::assert_pattern_agrees(
            ETAG_LIST_PATTERN,
            |value| parse_list(value).is_some(),
            &values,
        );
    }

    #[test]
    fn entity_tags_name_versions_exactly() {
        let version = |tag: &str| tagged_version(&tag.parse().unwrap());
        assert_eq!(version("\"4\""), Some(4));
        assert_eq!(version("\"04\""), None);
        assert_eq!(version("\"+4\""), None);
        assert_eq!(version("\"-0\""), None);
        assert_eq!(version("W/\"4\""), None);
        assert_eq!(version("\"x\""), None);
    }

    #[test]
    fn body_etags_follow_the_body() {
        assert_eq!(body_etag(b"{}"), body_etag(b"{}"));
        assert_ne!(body_etag(b"{}"), body_etag(b"[]"));
        assert!(body_etag(b"{}").weak);
    }
}
