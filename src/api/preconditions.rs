//! Entity tags and conditional requests. A record's ETag is its `version`
//! as a strong tag (`"3"`): `If-None-Match` on reads yields 304 while it
//! still matches, `If-Match` on writes yields 412 once it no longer does.

use crate::{error::Error, store::VersionCheck};
use actix_web::{
    http::header::{EntityTag, Header, IfMatch, IfNoneMatch, IF_MATCH, IF_NONE_MATCH},
    HttpRequest,
};

/// The entity tag of a record at `version`.
pub fn etag(version: i64) -> EntityTag {
    EntityTag::new_strong(version.to_string())
}

/// What `If-Match` demands of the record being written. Weak tags never
/// match (RFC 9110 uses strong comparison here).
pub fn version_check(req: &HttpRequest) -> Result<VersionCheck, Error> {
    if !req.headers().contains_key(IF_MATCH) {
        return Ok(VersionCheck::Any);
    }
    match IfMatch::parse(req).map_err(|_| bad_header("If-Match"))? {
        IfMatch::Any => Ok(VersionCheck::Any),
        IfMatch::Items(tags) if tags.is_empty() => Err(bad_header("If-Match")),
        IfMatch::Items(tags) => Ok(VersionCheck::OneOf(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| tag.tag().parse().ok())
                .collect(),
        )),
    }
}

/// Whether `If-None-Match` matches the record at `version` (weak
/// comparison), i.e. the client's copy is current and a 304 is due.
pub fn not_modified(req: &HttpRequest, version: i64) -> Result<bool, Error> {
    if !req.headers().contains_key(IF_NONE_MATCH) {
        return Ok(false);
    }
    let current = etag(version);
    Ok(
        match IfNoneMatch::parse(req).map_err(|_| bad_header("If-None-Match"))? {
            IfNoneMatch::Any => true,
            IfNoneMatch::Items(tags) if tags.is_empty() => return Err(bad_header("If-None-Match")),
            IfNoneMatch::Items(tags) => tags.iter().any(|tag| tag.weak_eq(&current)),
        },
    )
}

fn bad_header(header: &'static str) -> Error {
    Error::BadHeader {
        header,
        reason: "expected * or a comma-separated list of quoted entity tags".into(),
    }
}
