//! JSON merge patch (RFC 7396) request bodies.

use crate::{
    api::extract::{parse_document, parse_members, read_body, Parsed},
    error::{Error, FieldError},
};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

/// Media type of merge patch bodies.
pub const MERGE_PATCH_JSON: &str = "application/merge-patch+json";

/// A merge patch body: a JSON object sent as `application/merge-patch+json`
/// (or plain `application/json`).
#[derive(Debug)]
pub struct MergePatch(Map<String, Value>);

impl MergePatch {
    /// The members of the patch, to rewrite references in.
    pub fn members_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }

    /// Whether the patch names `member` at all (to set or to clear it).
    pub fn names(&self, member: &str) -> bool {
        self.0.contains_key(member)
    }

    /// Whether the patch sets `member` to a value (not `null`).
    pub fn sets(&self, member: &str) -> bool {
        self.0.get(member).is_some_and(|value| !value.is_null())
    }

    /// Applies the patch to `current`: members set to `null` are removed
    /// (optional fields become empty), other members replace the current
    /// value (objects merge recursively, arrays are replaced whole). The
    /// result must still be a valid `T`: what does not fit is a fault of
    /// the [`Parsed`] result.
    pub fn apply<T: Serialize + DeserializeOwned>(&self, current: &T) -> Result<Parsed<T>, Error> {
        let Value::Object(base) = serde_json::to_value(current).map_err(Error::internal)? else {
            return Err(Error::internal("a patched record is not an object"));
        };
        // Every writable field is a member of `base`; a patch naming
        // another is refused, also when it would only clear it (`null`).
        let unknown: Vec<FieldError> = self
            .0
            .keys()
            .filter(|name| !base.contains_key(name.as_str()))
            .map(|name| FieldError::new(name.clone(), format!("unknown field `{name}`")))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::Validation(unknown));
        }
        let mut document = Value::Object(base.clone());
        json_patch::merge(&mut document, &Value::Object(self.0.clone()));
        let Value::Object(members) = document else {
            return Err(Error::internal("a patched record is not an object"));
        };
        // The current values stand in for members that do not fit.
        parse_members(members, || (base, Vec::new()))
    }
}

impl FromRequest for MergePatch {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, &[MERGE_PATCH_JSON, "application/json"]);
        Box::pin(async move {
            match parse_document(&body.await?)? {
                Value::Object(members) => Ok(MergePatch(members)),
                _ => Err(Error::invalid(
                    "body",
                    "a merge patch must be a JSON object of the fields to change",
                )),
            }
        })
    }
}
