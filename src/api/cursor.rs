//! Sealed cursors: the list and feed cursors handed to clients carry an
//! HMAC-SHA256 tag under a server key, so a cursor the server did not issue
//! (edited, forged, or from another deployment) is a 400 before any query
//! runs — its values never reach the database.
//!
//! The key comes from `CURSOR_SECRET`, or else is generated on first use and
//! stored in the database (`server_secrets`), so every instance agrees.

use crate::error::Error;
use crate::store;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::pg::PgConnection;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};

/// Bytes of the tag appended to each cursor (a truncated HMAC-SHA256).
const TAG_BYTES: usize = 16;

/// What a `cursor` parameter may hold: base64url without padding, as
/// [`Signer::seal`] writes it; empty for the first page (the feed's
/// start). The parameters are declared with this pattern and parsed by it
/// ([`CursorText`]); a well-formed cursor that this server did not seal is
/// refused (400) once opened, which no pattern can state.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]*$";

/// The text of a `cursor` query parameter: what [`CURSOR_PATTERN`]
/// admits, else 400 naming `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorText(pub String);

impl CursorText {
    /// `text` as a cursor parameter, or what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        static PATTERN: std::sync::LazyLock<regex_lite::Regex> = std::sync::LazyLock::new(|| {
            regex_lite::Regex::new(CURSOR_PATTERN).expect("a valid pattern")
        });
        match PATTERN.is_match(text) {
            true => Ok(Self(text.to_owned())),
            false => Err("not a cursor (letters, digits, - and _ only); use next_cursor"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for CursorText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for CursorText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(CURSOR_PATTERN))
            .into()
    }
}

impl utoipa::ToSchema for CursorText {}

/// The cursor key of this server; put in the app data. Loaded once.
#[derive(Debug, Clone, Default)]
pub struct CursorKey(Arc<OnceLock<Signer>>);

impl CursorKey {
    /// A key given by configuration, or (`None`) one read from — or made
    /// in — the database on first use.
    pub fn new(configured: Option<Vec<u8>>) -> Self {
        let key = Self::default();
        if let Some(secret) = configured {
            let _ = key.0.set(Signer::new(&secret));
        }
        key
    }

    /// The signer, when the key is loaded.
    pub fn loaded(&self) -> Option<Signer> {
        self.0.get().cloned()
    }

    /// The signer, loading the key through `conn` the first time.
    pub fn signer(&self, conn: &mut PgConnection) -> Result<Signer, Error> {
        if let Some(signer) = self.0.get() {
            return Ok(signer.clone());
        }
        let secret = store::secrets::get_or_create(conn, "cursor")?;
        Ok(self.0.get_or_init(|| Signer::new(&secret)).clone())
    }
}

/// Seals and opens cursors with the server key.
#[derive(Debug, Clone)]
pub struct Signer(Arc<[u8]>);

impl Signer {
    /// A signer with `secret` as its key (the server's comes from
    /// [`CursorKey::signer`]).
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.into())
    }

    /// A signer with a fixed key, for unit tests.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self::new(b"0123456789abcdef0123456789abcdef")
    }

    fn tag(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }

    /// `payload` and its tag, as URL-safe base64.
    pub fn seal(&self, payload: &[u8]) -> String {
        let tag = self.tag(payload).finalize().into_bytes();
        let mut sealed = payload.to_vec();
        sealed.extend_from_slice(&tag[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The payload of a cursor this server sealed; `None` for anything else.
    pub fn open(&self, cursor: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let split = bytes.len().checked_sub(TAG_BYTES)?;
        let (payload, tag) = bytes.split_at(split);
        self.tag(payload).verify_truncated_left(tag).ok()?;
        Some(payload.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parameters_are_what_the_pattern_admits_and_sealed_cursors_are_among_them() {
        let sealed = Signer::for_tests().seal(br#"{"c":1}"#);
        assert!(CursorText::parse(&sealed).is_ok(), "{sealed}");
        crate::domain::assert_pattern_agrees(
            CURSOR_PATTERN,
            |text| CursorText::parse(text).is_ok(),
            &[
                "", "AAAA", "a-_9Z", "a+b", "a/b", "ab==", "a b", "a.b", "é", "\n",
            ],
        );
    }

    #[test]
    fn only_sealed_cursors_open() {
        let signer = Signer::for_tests();
        let sealed = signer.seal(br#"{"c":1}"#);
        assert_eq!(signer.open(&sealed).unwrap(), br#"{"c":1}"#);
        let other = Signer::new(b"another key, another deployment!");
        assert!(other.open(&sealed).is_none());
        let forged = URL_SAFE_NO_PAD.encode(br#"{"c":2}0123456789abcdef"#);
        assert!(signer.open(&forged).is_none());
        assert!(signer.open("").is_none());
        assert!(signer.open("not base64!").is_none());
    }
}
