//! Read-your-writes across a streaming replica: a successful write answers
//! with `Write-Position`, where the WAL ended after its commit; a read that
//! may go to the replica (declared `from replica` in its routes table, see
//! [`crate::api::routes`]) may send it back as `Min-Position`, and is then
//! served by the replica only once the replica has replayed that far, else
//! by the primary.

use crate::db::replica::{self, Lsn, Reads, Replica};
use crate::db::PgPool;
use crate::error::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};

/// Where a route's reads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// The primary: writes, and reads that must be current.
    Primary,
    /// The streaming replica when one is configured and has replayed the
    /// request's `Min-Position`, else the primary: reads that tolerate lag.
    Replica,
}

/// The response header of a successful write: the WAL position after it.
pub const WRITE_POSITION: &str = "Write-Position";

/// The request header of a read that wants the client's own writes.
pub const MIN_POSITION: &str = "Min-Position";

fn position_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(Lsn::PATTERN))
        .examples(["0/3000148"])
}

/// The `Min-Position` parameter of the operations that may read from the
/// replica.
pub fn min_position_parameter() -> Parameter {
    ParameterBuilder::new()
        .name(MIN_POSITION)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The `Write-Position` of the client's last write: the answer then shows that write \
             (and every one before it). Without it the answer may come from a read replica \
             that lags behind the latest writes.",
        ))
        .schema(Some(position_schema()))
        .build()
}

/// The `Write-Position` header of the successful answers of writes.
pub fn write_position_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .description(Some(
            "Where the database's write-ahead log ended after this write committed; send it as \
             `Min-Position` to list or export what includes this write. Sent when the service \
             reads from a replica (not on a replayed `Idempotency-Key` answer).",
        ))
        .schema(Some(position_schema()))
        .build()
}

/// The `Min-Position` of a request: absent, or a WAL position (400 naming
/// the header otherwise).
fn min_position(req: &actix_web::HttpRequest) -> Result<Option<Lsn>, Error> {
    let Some(value) = req.headers().get(MIN_POSITION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(Lsn::parse)
        .map(Some)
        .ok_or_else(|| Error::BadHeader {
            header: MIN_POSITION,
            reason: "expected a Write-Position of this API, e.g. 0/3000148".into(),
        })
}

// Where a read runs: the replica (when one is configured) for the routes
// declared `from replica`, with the request's `Min-Position`; the primary
// for every other route.
crate::from_head!(impl for Reads, |req| {
    let primary = req
        .app_data::<web::Data<PgPool>>()
        .map(|pool| pool.get_ref().clone())
        .ok_or_else(|| Error::internal("no pool"))?;
    if req.extensions().get::<ReadFrom>() != Some(&ReadFrom::Replica) {
        return Ok(Reads { primary, replica: None, min: None });
    }
    let min = min_position(req)?;
    let replica = req.app_data::<Option<Replica>>().cloned().flatten();
    Ok(Reads { primary, replica, min })
});

/// Route middleware of the reads declared `from replica`: marks the request
/// for the [`Reads`] extractor.
pub async fn from_replica(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut().insert(ReadFrom::Replica);
    next.call(req).await
}

/// Middleware, wrapped only when a replica is configured (without one,
/// `Min-Position` changes nothing, and reading the position costs every
/// write a round trip): a successful response to a request that wrote
/// carries `Write-Position`, read right after its (last) commit.
pub async fn write_position(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let (outcome, position) = replica::tracking_writes(next.call(req)).await;
    let mut res = outcome?;
    if let Some(position) = position.filter(|_| res.status().is_success()) {
        if let Ok(value) = HeaderValue::from_str(&position.to_string()) {
            res.headers_mut()
                .insert(HeaderName::from_static("write-position"), value);
        }
    }
    Ok(res)
}
