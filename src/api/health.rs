//! Liveness and readiness probes.

use crate::api::problems::{LivenessErrors, ReadinessErrors};
use crate::db::{self, PgPool};
use crate::error::Error;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

/// Result of a health probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: String,
}

fn ok() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(HealthStatus {
            status: "ok".into(),
        })
}

crate::operation! {
    get "/health/live" in "health" as "getLiveness" [
        responses(
            (status = 200, description = "The process is up", body = HealthStatus),
            LivenessErrors,
        )
    ];
    /// Whether the process is up (no database access).
    pub async fn live() -> HttpResponse {
        ok()
    }
}

crate::operation! {
    get "/health/ready" in "health" as "getReadiness" [
        responses(
            (status = 200, description = "The database answers", body = HealthStatus),
            ReadinessErrors,
        )
    ];
    /// Whether the service can serve requests: one database round trip.
    pub async fn ready(pool: web::Data<PgPool>) -> Result<HttpResponse, Error> {
        db::run(&pool, |conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .map_err(|err| match err {
            Error::Internal(cause) => Error::Unavailable(cause),
            other => other,
        })?;
        Ok(ok())
    }
}

crate::routes! {
    Open => live,
    Open => ready,
}
