//! `X-Request-Id`: echoed when the client sends a usable one, generated
//! otherwise, returned on every response and written to the access log.
//! Server errors are logged here with the request id, since only the log
//! (never the response) carries their cause.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use uuid::Uuid;

/// The request id header, lower-cased as HTTP/2 and the log format want it.
pub const HEADER: &str = "x-request-id";

/// Longest client-supplied request id that is echoed.
const MAX_LEN: usize = 200;

/// The id of the request being served, for handlers that log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The id of `req` (`-` outside the middleware).
pub fn of(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map_or_else(|| "-".to_owned(), |id| id.0.clone())
}

/// Middleware function, for `actix_web::middleware::from_fn`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_acceptable(value))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if res.status().is_server_error() {
        if let Some(err) = res.response().error() {
            log::error!("request_id={id} status={} cause: {err:?}", res.status());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

/// A client's request id is echoed only when it is short printable ASCII,
/// so it cannot break the log line or the response header.
fn is_acceptable(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_LEN && value.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_short_printable_ids_are_echoed() {
        assert!(super::is_acceptable("abc-123_XYZ"));
        assert!(!super::is_acceptable(""));
        assert!(!super::is_acceptable("has space"));
        assert!(!super::is_acceptable(&"x".repeat(201)));
    }
}
