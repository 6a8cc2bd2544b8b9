//! Builds the HTTP server: routes, middleware, the docs UI and the pool.

use crate::{
    api::{self, changes::FeedRetention, cursor::CursorKey, extract::BodyLimit, idempotency::IdempotencyTtl},
    auth::RateLimit,
    config::Settings,
    db::{self, PgPool},
    request_id,
};
use actix_cors::Cors;
use actix_web::{
    dev::Server,
    http::{header, Method},
    middleware::{from_fn, DefaultHeaders, Logger},
    web, App, HttpServer,
};
use std::net::TcpListener;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Access log line: client, request line, status, bytes, duration, request id.
const LOG_FORMAT: &str = r#"%a "%r" %s %b %Dms request_id=%{x-request-id}o"#;

/// Seconds a stopping server (SIGTERM, SIGINT) gives in-flight requests.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// CORS for the allowed origins only (none by default: browsers on other
/// origins get no CORS headers and cannot read responses).
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    pool: PgPool,
    server: Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    /// The database is not touched: run migrations before, see
    /// [`db::migrate::prepare_database`].
    pub fn build(settings: &Settings) -> std::io::Result<Self> {
        let pool = db::build_pool(settings);
        let listener = TcpListener::bind(settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        let pool_data = web::Data::new(pool.clone());
        let body_limit = BodyLimit(settings.max_body_bytes);
        let openapi = api::ApiDoc::openapi();
        let rate_limit = RateLimit::per_minute(settings.rate_limit_per_minute);
        let origins = settings.cors_allowed_origins.clone();
        let idempotency_ttl = IdempotencyTtl(settings.idempotency_ttl);
        let feed_retention = web::Data::new(FeedRetention(settings.feed_retention));
        let cursor_key = CursorKey::new(settings.cursor_secret.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool_data.clone())
                .app_data(body_limit)
                .app_data(rate_limit.clone())
                .app_data(idempotency_ttl)
                .app_data(feed_retention.clone())
                .app_data(cursor_key.clone())
                .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .wrap(cors(&origins))
                .wrap(from_fn(request_id::middleware))
                .wrap(Logger::new(LOG_FORMAT))
                .configure(api::configure)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
                .default_service(web::to(api::not_found))
        })
        .workers(settings.http_workers)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?
        .run();
        Ok(Self { port, pool, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves until SIGTERM or SIGINT, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
