//! Authentication and authorization of `/v1`: every request carries
//! `Authorization: Bearer <token>` of an API key with the scope its route
//! declares (`crate::api::ROUTES`) — `read` for GETs, `write` for changes
//! (`write` implies `read`), `admin` for key management and the audit
//! trail — and, when configured, is rate-limited per key. Keys are read
//! from the database and kept in a cache ([`cache`]) that every change of
//! a key empties at once on every instance (PostgreSQL `LISTEN/NOTIFY`),
//! so a revocation applies from the next request on, everywhere.

pub mod cache;

use crate::db::{self, PgPool};
use crate::error::Error;
use crate::store::api_keys::{self, Principal, Refusal, Scope};
use crate::store::rate_limits;
use actix_service::boxed::BoxService;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use cache::KeyCache;
use std::future::{ready, Ready};
use std::num::NonZeroU32;
use uuid::Uuid;

/// Requests a minute each key may make, counted across every instance
/// on the database ([`rate_limits`]); none when not configured.
#[derive(Clone, Copy, Debug, Default)]
pub struct RateLimit(Option<NonZeroU32>);

impl RateLimit {
    /// At most `per_minute` requests a minute per key; 0 turns limiting off.
    pub fn per_minute(per_minute: u32) -> Self {
        Self(NonZeroU32::new(per_minute))
    }

    /// Takes one request of `key`'s allowance: a database round trip when
    /// limiting is on, nothing otherwise.
    async fn check(self, pool: &PgPool, key: Uuid) -> Result<(), Error> {
        let Some(per_minute) = self.0 else {
            return Ok(());
        };
        match db::run(pool, move |conn| rate_limits::take(conn, key, per_minute)).await? {
            None => Ok(()),
            Some(wait) => Err(Error::TooManyRequests {
                retry_after: (wait.as_secs_f64().ceil() as u64).max(1),
            }),
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<String, Error> {
    let missing = |detail: &str| Error::Unauthorized {
        detail: detail.to_owned(),
        invalid_token: false,
    };
    if headers.get_all(header::AUTHORIZATION).count() > 1 {
        return Err(missing("send one Authorization header, not several"));
    }
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| missing("send an API key as Authorization: Bearer <token>"))?
        .to_str()
        .map_err(|_| missing("the Authorization header is not readable text"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| missing("expected Authorization: Bearer <token>"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing("expected Authorization: Bearer <token>"));
    }
    Ok(token.to_owned())
}

/// Authenticates `token`: from the key cache when it holds the key,
/// else from the database in one blocking hop (which also refreshes the
/// key's `last_used_at` when stale, and fills the cache).
async fn authenticate(req: &ServiceRequest, token: String) -> Result<Principal, Error> {
    let cache = req.app_data::<web::Data<KeyCache>>().cloned();
    let now = chrono::Utc::now();
    if let Some(key) = cache
        .as_ref()
        .zip(api_keys::prefix_of(&token))
        .and_then(|(cache, prefix)| cache.get(prefix))
        .filter(|key| !key.use_is_stale(now))
    {
        return key.admit(&token, now).map_err(refused);
    }
    let pool = pool(req)?;
    let generation = cache.as_ref().map(|cache| cache.generation());
    let (outcome, stored) =
        db::run(&pool, move |conn| api_keys::authenticate(conn, &token)).await?;
    if let Some(((cache, generation), key)) = cache.zip(generation).zip(stored) {
        cache.put(key, generation);
    }
    outcome.map_err(refused)
}

fn pool(req: &ServiceRequest) -> Result<web::Data<PgPool>, Error> {
    req.app_data::<web::Data<PgPool>>()
        .cloned()
        .ok_or_else(|| Error::internal("no database pool configured"))
}

fn refused(refusal: Refusal) -> Error {
    Error::Unauthorized {
        detail: match refusal {
            Refusal::Unknown => "the token is not a valid API key",
            Refusal::Revoked => "the API key has been revoked",
            Refusal::Expired => "the API key has expired",
        }
        .to_owned(),
        invalid_token: true,
    }
}

/// Authenticates the request's key and checks its scope and rate; the key
/// is in the request's extensions from its authentication on (for the
/// handler, and for the access line of a 403 or 429).
async fn authorize(req: &ServiceRequest, scope: Scope) -> Result<(), Error> {
    let token = bearer_token(req.headers())?;
    let principal = authenticate(req, token).await?;
    req.extensions_mut().insert(principal.clone());
    if !principal.has(scope) {
        return Err(Error::Forbidden {
            scope: scope.as_str(),
        });
    }
    if let Some(limit) = req.app_data::<RateLimit>() {
        let pool = pool(req)?;
        limit.check(&pool, principal.key_id).await?;
    }
    Ok(())
}

/// The middleware of one `/v1` route, which needs `scope`: it
/// authenticates the bearer token, checks the key holds `scope` (401, 403)
/// and applies the rate limit (429) before the handler runs. It is attached
/// to each route where the route is registered (see `crate::api::ROUTES`),
/// so the decision belongs to the route the router matched. Responses
/// without their own `Cache-Control` get `no-store`: they are per key and
/// may hold personal data.
pub fn require(
    scope: Scope,
) -> impl Transform<
    BoxService<ServiceRequest, ServiceResponse, actix_web::Error>,
    ServiceRequest,
    Response = ServiceResponse<EitherBody<BoxBody>>,
    Error = actix_web::Error,
    InitError = (),
> + 'static {
    from_fn(move |req: ServiceRequest, next: Next<BoxBody>| guard(scope, req, next))
}

async fn guard(
    scope: Scope,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    match authorize(&req, scope).await {
        Ok(()) => {
            let mut res = next.call(req).await?;
            if !res.headers().contains_key(header::CACHE_CONTROL) {
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Ok(res.map_into_left_body())
        }
        Err(err) => Ok(req
            .into_response(err.error_response())
            .map_into_right_body()),
    }
}

/// The authenticated key of a `/v1` request.
impl FromRequest for Principal {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| Error::internal("route outside the authenticated scope")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_parsed_strictly() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(bearer_token(&headers).is_err());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer ar_x_y"),
        );
        assert_eq!(bearer_token(&headers).unwrap(), "ar_x_y");
        headers.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ar_other"),
        );
        assert!(bearer_token(&headers).is_err(), "which one would count?");
    }
}
