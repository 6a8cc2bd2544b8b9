//! Builds the HTTP server: routes, middleware, the docs UI and the pool.

use crate::{
    api::{self, extract::BodyLimit},
    config::Settings,
    db::{self, PgPool},
    request_id,
};
use actix_web::{
    dev::Server,
    http::header,
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
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool_data.clone())
                .app_data(body_limit)
                .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
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
