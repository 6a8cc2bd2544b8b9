//! Authentication and authorization of `/v1`: every request carries
//! `Authorization: Bearer <token>` of an API key with the scope its route
//! declares (`crate::api::ROUTES`) — `read` for GETs, `write` for changes
//! (`write` implies `read`), `admin` for key management and the audit trail. The key is checked against the database
//! on every request (so a revocation applies on the next request, on every
//! instance) and, when configured, rate-limited per key.

use crate::db::{self, PgPool};
use crate::error::Error;
use crate::store::api_keys::{self, Principal, Refusal, Scope};
use actix_service::boxed::BoxService;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use governor::clock::Clock;
use governor::Quota;
use std::future::{ready, Ready};
use std::num::NonZeroU32;
use std::sync::Arc;
use uuid::Uuid;

/// Per-key request rate limit of this instance (none when not configured).
#[derive(Clone, Default)]
pub struct RateLimit(Option<Arc<governor::DefaultKeyedRateLimiter<Uuid>>>);

impl RateLimit {
    /// At most `per_minute` requests a minute per key; 0 turns limiting off.
    pub fn per_minute(per_minute: u32) -> Self {
        Self(
            NonZeroU32::new(per_minute)
                .map(|rate| Arc::new(governor::RateLimiter::keyed(Quota::per_minute(rate)))),
        )
    }

    fn check(&self, key: Uuid) -> Result<(), Error> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            Error::TooManyRequests {
                retry_after: wait.as_secs().max(1),
            }
        })
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

async fn authorize(req: &ServiceRequest, scope: Scope) -> Result<Principal, Error> {
    let token = bearer_token(req.headers())?;
    let pool = req
        .app_data::<web::Data<PgPool>>()
        .ok_or_else(|| Error::internal("no database pool configured"))?
        .clone();
    let outcome = db::run(&pool, move |conn| api_keys::authenticate(conn, &token)).await?;
    let principal = outcome.map_err(|refusal| Error::Unauthorized {
        detail: match refusal {
            Refusal::Unknown => "the token is not a valid API key",
            Refusal::Revoked => "the API key has been revoked",
            Refusal::Expired => "the API key has expired",
        }
        .to_owned(),
        invalid_token: true,
    })?;
    if !principal.has(scope) {
        return Err(Error::Forbidden {
            scope: scope.as_str(),
        });
    }
    if let Some(limit) = req.app_data::<RateLimit>() {
        limit.check(principal.key_id)?;
    }
    Ok(principal)
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
        Ok(principal) => {
            req.extensions_mut().insert(principal);
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

    #[test]
    fn rate_limits_are_per_key() {
        let limit = RateLimit::per_minute(2);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(limit.check(a).is_ok() && limit.check(a).is_ok());
        assert!(
            matches!(limit.check(a), Err(Error::TooManyRequests { retry_after }) if retry_after >= 1)
        );
        assert!(limit.check(b).is_ok());
        assert!(RateLimit::per_minute(0).check(a).is_ok());
    }
}
