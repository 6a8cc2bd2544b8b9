//! API keys: random bearer tokens, stored only as SHA-256 hashes, each with
//! a name, scopes, an optional expiry and a revocation time.
//!
//! A token reads `ar_<prefix>_<secret>`: the prefix (12 hex digits, random,
//! not secret) finds the key, then the hash of the whole token is compared
//! with the stored one in constant time. Every change of a key is announced
//! on [`CHANGES_CHANNEL`], so servers may cache keys (see `crate::auth`).

use crate::db::schema::api_keys::{self, dsl};
use crate::db::schema::{key_cache_acks as ack, key_cache_listeners as listener};
use crate::error::Error;
use crate::store::sort::{keyset_page, Created, CreatedSort, Keyset, Plan};
use crate::store::sql::found;
use crate::store::text::text_enum;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{exists, not, now};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::Text;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// How stale `last_used_at` may get before a request refreshes it (so that
/// not every request writes).
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

text_enum! {
    /// What a key may do.
    pub enum Scope {
        /// Every GET of the register.
        Read => "read",
        /// Create, change and delete records; implies `read`.
        Write => "write",
        /// See the personal data of people (`email`, `phone`, `birth_date`).
        Pii => "pii",
        /// Manage API keys and read the audit trail.
        Admin => "admin",
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| format!("unknown scope {text:?}; scopes are read, write, pii and admin"))
    }
}

/// An API key row (never with its token).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys, check_for_backend(Pg))]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Created for ApiKeyRecord {
    fn id(&self) -> Uuid {
        self.id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A key that passed authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// Whether the key holds `scope`; `write` implies `read` (a key that
    /// may change records sees them too, as its writes' responses show).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || (scope == Scope::Read && self.scopes.contains(&Scope::Write))
    }

    /// The same key without `scope` (for writing what a document's author
    /// could not see, as that author).
    pub fn without(&self, scope: Scope) -> Self {
        Self {
            key_id: self.key_id,
            scopes: self
                .scopes
                .iter()
                .copied()
                .filter(|s| *s != scope)
                .collect(),
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token of this service, or no key has it.
    Unknown,
    Revoked,
    Expired,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(Error::internal)?;
    Ok(bytes)
}

/// Creates a key and returns it with its token — the only time the token
/// exists outside the client.
pub fn create(
    conn: &mut PgConnection,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiKeyRecord, String), Error> {
    let prefix: String = random_bytes::<6>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let token = format!("ar_{prefix}_{secret}");
    let mut scopes = scopes.to_vec();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let record = diesel::insert_into(dsl::api_keys)
        .values((
            dsl::id.eq(Uuid::now_v7()),
            dsl::name.eq(name),
            dsl::prefix.eq(&prefix),
            dsl::token_hash.eq(hash(&token).to_vec()),
            dsl::scopes.eq(&scopes),
            dsl::expires_at.eq(expires_at),
        ))
        .returning(ApiKeyRecord::as_returning())
        .get_result(conn)?;
    Ok((record, token))
}

/// The channel on which PostgreSQL announces every change of a key (a
/// trigger on `api_keys`, migration `key_notifications`), with the key's
/// prefix as payload: instances that cache keys drop it at once. Probes
/// (see [`probe_caches`]) go out on it too.
pub const CHANGES_CHANNEL: &str = "api_key_changes";

/// How a probe's payload begins (`ack <uuid>`); no key's prefix does.
pub const PROBE_PREFIX: &str = "ack ";

/// A key as authentication needs it: the row and its token's hash.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub record: ApiKeyRecord,
    token_hash: Vec<u8>,
}

/// The prefix a token names its key by (`ar_<prefix>_<secret>`), if the
/// token has this service's shape.
pub fn prefix_of(token: &str) -> Option<&str> {
    token
        .strip_prefix("ar_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(prefix, _)| prefix)
}

impl StoredKey {
    /// Whether `token` is this key's and the key may be used at `at`.
    pub fn admit(&self, token: &str, at: DateTime<Utc>) -> Result<Principal, Refusal> {
        if !bool::from(hash(token).as_slice().ct_eq(self.token_hash.as_slice())) {
            return Err(Refusal::Unknown);
        }
        if self.record.revoked_at.is_some() {
            return Err(Refusal::Revoked);
        }
        if self.record.expires_at.is_some_and(|expiry| expiry <= at) {
            return Err(Refusal::Expired);
        }
        Ok(Principal {
            key_id: self.record.id,
            scopes: self.record.scopes.clone(),
        })
    }

    /// Whether a request at `at` should refresh `last_used_at` (kept to a
    /// resolution of a minute, so that not every request writes).
    pub fn use_is_stale(&self, at: DateTime<Utc>) -> bool {
        self.record
            .last_used_at
            .is_none_or(|used| used < at - LAST_USED_RESOLUTION)
    }
}

/// The key whose prefix is `prefix`, revoked or not.
fn find_by_prefix(conn: &mut PgConnection, prefix: &str) -> Result<Option<StoredKey>, Error> {
    Ok(dsl::api_keys
        .filter(dsl::prefix.eq(prefix))
        .select((ApiKeyRecord::as_select(), dsl::token_hash))
        .first(conn)
        .optional()?
        .map(|(record, token_hash)| StoredKey { record, token_hash }))
}

/// The key a bearer token belongs to, if it may be used now, read from the
/// database; refreshes its `last_used_at` when stale. Returns the stored
/// key too (when there is one) for callers that cache it.
pub fn authenticate(
    conn: &mut PgConnection,
    token: &str,
) -> Result<(Result<Principal, Refusal>, Option<StoredKey>), Error> {
    let Some(mut key) = prefix_of(token)
        .map(|prefix| find_by_prefix(conn, prefix))
        .transpose()?
        .flatten()
    else {
        return Ok((Err(Refusal::Unknown), None));
    };
    let current = Utc::now();
    let outcome = key.admit(token, current);
    if outcome.is_ok() && key.use_is_stale(current) {
        key.record.last_used_at = diesel::update(dsl::api_keys.find(key.record.id))
            .set(dsl::last_used_at.eq(now))
            .returning(dsl::last_used_at)
            .get_result(conn)?;
    }
    Ok((outcome, Some(key)))
}

/// The key `id`, revoked or not, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<ApiKeyRecord, Error> {
    let row = dsl::api_keys.find(id).select(ApiKeyRecord::as_select());
    found(row.first(conn), "API key", id)
}

/// Revokes key `id` (from its next request on) and returns it. Revoking a
/// revoked key keeps the first revocation time.
pub fn revoke(conn: &mut PgConnection, id: Uuid) -> Result<ApiKeyRecord, Error> {
    let key = find(conn, id)?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    Ok(diesel::update(dsl::api_keys.find(id))
        .set(dsl::revoked_at.eq(now))
        .returning(ApiKeyRecord::as_returning())
        .get_result(conn)?)
}

/// Announces a probe on [`CHANGES_CHANNEL`], if any server caches keys
/// now: returns it with the servers (their listeners, while their lease
/// runs) that are to acknowledge it. Called after a key change has
/// committed: PostgreSQL delivers notifications in commit order, so a
/// server that acknowledges the probe has dropped the changed key.
pub fn probe_caches(conn: &mut PgConnection) -> Result<Option<(Uuid, Vec<Uuid>)>, Error> {
    let listeners: Vec<Uuid> = listener::table
        .filter(listener::lease_until.gt(now))
        .select(listener::id)
        .load(conn)?;
    if listeners.is_empty() {
        return Ok(None);
    }
    let probe = Uuid::new_v4();
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANGES_CHANNEL)
        .bind::<Text, _>(format!("{PROBE_PREFIX}{probe}"))
        .execute(conn)?;
    Ok(Some((probe, listeners)))
}

/// Those of `listeners` that have not acknowledged `probe` while their
/// lease still runs.
pub fn unacknowledged(
    conn: &mut PgConnection,
    probe: Uuid,
    listeners: &[Uuid],
) -> Result<Vec<Uuid>, Error> {
    let acknowledged = ack::table
        .filter(ack::probe.eq(probe))
        .filter(ack::listener.eq(listener::id));
    Ok(listener::table
        .filter(listener::id.eq_any(listeners))
        .filter(listener::lease_until.gt(now))
        .filter(not(exists(acknowledged)))
        .select(listener::id)
        .load(conn)?)
}

/// Deletes the acknowledgements of `probe`.
pub fn forget_probe(conn: &mut PgConnection, probe: Uuid) -> Result<(), Error> {
    diesel::delete(ack::table.filter(ack::probe.eq(probe))).execute(conn)?;
    Ok(())
}

/// One keyset page of keys, revoked ones included.
pub fn list(
    conn: &mut PgConnection,
    page: Keyset<CreatedSort>,
) -> Result<Vec<ApiKeyRecord>, Error> {
    let query = dsl::api_keys.select(ApiKeyRecord::as_select()).into_boxed();
    keyset_page(conn, query, "api_keys", page, Plan::Prepared)
}
