//! Entity tags and conditional requests. A record's ETag is its `version`
//! as a strong tag (`"3"`): `If-None-Match` on reads yields 304 while it
//! still matches, `If-Match` on writes yields 412 once it no longer does.
//! The two extractors below also describe their header in the OpenAPI
//! document.

use crate::{error::Error, store::VersionCheck};
use actix_web::{
    dev::Payload,
    http::header::{self, EntityTag, Header},
    FromRequest, HttpRequest,
};
use std::future::{ready, Ready};
use utoipa::{
    openapi::{
        path::{Parameter, ParameterBuilder, ParameterIn},
        ObjectBuilder, Required, Type,
    },
    IntoParams,
};

/// Pattern of `If-Match` and `If-None-Match` values: `*` or a list of
/// (optionally weak) quoted entity tags.
const ETAG_LIST_PATTERN: &str = r#"^\s*(\*|(W/)?"[!#-~]*"(\s*,\s*(W/)?"[!#-~]*")*)\s*$"#;

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

/// The `If-Match` header of a write: what the record's version must be.
/// Weak tags never match (RFC 9110 uses strong comparison here).
#[derive(Debug)]
pub struct IfMatch(pub VersionCheck);

impl FromRequest for IfMatch {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_if_match(req).map(IfMatch))
    }
}

fn parse_if_match(req: &HttpRequest) -> Result<VersionCheck, Error> {
    if !req.headers().contains_key(header::IF_MATCH) {
        return Ok(VersionCheck::Any);
    }
    match header::IfMatch::parse(req).map_err(|_| bad_header("If-Match"))? {
        header::IfMatch::Any => Ok(VersionCheck::Any),
        header::IfMatch::Items(tags) if tags.is_empty() => Err(bad_header("If-Match")),
        header::IfMatch::Items(tags) => Ok(VersionCheck::OneOf(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| tag.tag().parse().ok())
                .collect(),
        )),
    }
}

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
pub struct IfNoneMatch(Option<header::IfNoneMatch>);

impl IfNoneMatch {
    /// Whether the client's copy, whose entity tag is now `current`, is
    /// up to date (weak comparison), so that a 304 is due.
    pub fn matches(&self, current: &EntityTag) -> bool {
        match &self.0 {
            None => false,
            Some(header::IfNoneMatch::Any) => true,
            Some(header::IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(current)),
        }
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
) -> Result<actix_web::HttpResponse, Error> {
    let bytes = serde_json::to_vec(body).map_err(Error::internal)?;
    let tag = body_etag(&bytes);
    let mut response = if if_none_match.matches(&tag) {
        actix_web::HttpResponse::NotModified()
    } else {
        actix_web::HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(tag.clone()))
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoCache]));
    for (name, value) in headers {
        response.insert_header((name, value));
    }
    if if_none_match.matches(&tag) {
        return Ok(response.finish());
    }
    Ok(response
        .content_type(actix_web::http::header::ContentType::json())
        .body(bytes))
}

impl FromRequest for IfNoneMatch {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = if req.headers().contains_key(header::IF_NONE_MATCH) {
            match header::IfNoneMatch::parse(req) {
                Ok(header::IfNoneMatch::Items(tags)) if tags.is_empty() => {
                    Err(bad_header("If-None-Match"))
                }
                Ok(value) => Ok(IfNoneMatch(Some(value))),
                Err(_) => Err(bad_header("If-None-Match")),
            }
        } else {
            Ok(IfNoneMatch(None))
        };
        ready(parsed)
    }
}

impl IntoParams for IfNoneMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_parameter(
            "If-None-Match",
            "ETags of the copies the client holds (or `*`); 304 when one is current",
        )]
    }
}
