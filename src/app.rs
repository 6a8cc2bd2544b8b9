//! Builds the HTTP server: routes, middleware, the docs UI and the pool.

use crate::api;
use crate::api::changes::FeedSettings;
use crate::api::cursor::CursorKey;
use crate::api::extract::BodyLimit;
use crate::api::idempotency::{self, IdempotencyTtl};
use crate::api::imports::ImportLimit;
use crate::api::positions;
use crate::auth::cache::KeyCache;
use crate::auth::RateLimit;
use crate::config::Settings;
use crate::db::{self, PgPool};
use crate::domain::Timezone;
use crate::error::Error;
use crate::metrics::{self, Metrics, PoolState};
use crate::request_id;
use crate::store::api_keys::Principal;
use crate::store::journal;
use actix_cors::{Cors, CorsError};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Condition, DefaultHeaders, Next};
use actix_web::{web, App, HttpMessage, HttpResponse, HttpServer, ResponseError};
use std::net::TcpListener;
use std::time::Instant;
use utoipa_swagger_ui::SwaggerUi;

/// Seconds a stopping server (SIGTERM, SIGINT) gives in-flight requests.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// CORS for the allowed origins only. Wrapped only when some origin is
/// configured (see [`Application::build`]): with none, responses carry no
/// CORS headers at all and browsers on other origins cannot read them.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
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
            HeaderName::from_static(request_id::HEADER),
        ])
        // Not a static (lower-case) name: `from_static` would panic.
        .allowed_header(idempotency::HEADER)
        .allowed_header(positions::MIN_POSITION)
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            header::ALLOW,
            HeaderName::from_static(request_id::HEADER),
        ])
        .expose_headers([idempotency::REPLAYED, positions::WRITE_POSITION])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The problem (400) for a preflight request the CORS policy refuses.
fn cors_problem(err: &CorsError) -> Error {
    let (header, reason) = match err {
        CorsError::MissingOrigin => ("Origin", "is required"),
        CorsError::OriginNotAllowed | CorsError::WildcardOrigin => {
            ("Origin", "this origin is not allowed")
        }
        CorsError::MissingRequestMethod | CorsError::BadRequestMethod => {
            ("Access-Control-Request-Method", "expected an HTTP method")
        }
        CorsError::MethodNotAllowed => ("Access-Control-Request-Method", "method not allowed"),
        CorsError::BadRequestHeaders => (
            "Access-Control-Request-Headers",
            "expected a comma-separated list of header names",
        ),
        CorsError::HeadersNotAllowed => (
            "Access-Control-Request-Headers",
            "one or more headers are not allowed",
        ),
        _ => ("Origin", "the CORS request is refused"),
    };
    Error::BadHeader {
        header,
        reason: reason.to_owned(),
    }
}

/// Middleware function (outside the CORS middleware): renders the plain
/// text errors of refused CORS requests as problem documents, like every
/// other error. `Vary` is kept.
async fn cors_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(problem) = res
        .response()
        .error()
        .and_then(|err| err.as_error::<CorsError>())
        .map(cors_problem)
    else {
        return Ok(res.map_into_left_body());
    };
    let vary = res.headers().get(header::VARY).cloned();
    let (req, _) = res.into_parts();
    let mut response = problem.error_response();
    if let Some(vary) = vary {
        response.headers_mut().insert(header::VARY, vary);
    }
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}

/// Middleware function (outermost): counts every answered request in the
/// metrics and writes its access line — method, route template, status,
/// duration, request id and the key's id as structured fields; never the
/// path's values, the query, a token or anything personal.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let elapsed = started.elapsed();
    let route = res.request().match_pattern();
    let status = res.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.request(route.as_deref(), &method, status, elapsed);
    }
    if !log::log_enabled!(target: "access", log::Level::Info) {
        return Ok(res);
    }
    let request_id = res
        .headers()
        .get(request_id::HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let key_id = res
        .request()
        .extensions()
        .get::<Principal>()
        .map(|principal| principal.key_id.to_string())
        .unwrap_or_default();
    log::info!(
        target: "access",
        method = method.as_str(),
        route = route.as_deref().unwrap_or(metrics::UNMATCHED),
        status = status,
        duration_ms = elapsed.as_secs_f64() * 1e3,
        request_id = request_id,
        key_id = key_id.as_str();
        "answered"
    );
    Ok(res)
}

/// `GET /metrics` of the metrics server: this server's metrics, with the
/// pool as it is and the feed head read now.
async fn scrape(metrics: web::Data<Metrics>, pools: web::Data<ScrapePools>) -> HttpResponse {
    let pool = &pools.requests;
    let state = pool.state();
    let head = db::run(&pools.own, journal::head).await.ok();
    let text = metrics.render(
        PoolState {
            max: pool.max_size(),
            open: state.connections,
            idle: state.idle_connections,
        },
        head,
    );
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// What a scrape reads: the state of the requests' pool, and the feed
/// head through a pool of its own ([`db::build_scrape_pool`]).
struct ScrapePools {
    requests: PgPool,
    own: PgPool,
}

/// The metrics server on `addr`: one worker, `GET /metrics` only.
fn metrics_server(
    addr: std::net::SocketAddr,
    metrics: web::Data<Metrics>,
    pools: ScrapePools,
) -> std::io::Result<(u16, Server)> {
    let listener = TcpListener::bind(addr)
        .map_err(|err| std::io::Error::new(err.kind(), format!("METRICS_ADDR {addr}: {err}")))?;
    let port = listener.local_addr()?.port();
    let pools = web::Data::new(pools);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(pools.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .worker_max_blocking_threads(1)
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .listen(listener)?
    .run();
    Ok((port, server))
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    pool: PgPool,
    server: Server,
    /// The metrics server, when `METRICS_ADDR` is set, and its port.
    metrics: Option<(u16, Server)>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    /// The database is not touched: run migrations before, see
    /// [`db::migrate::prepare_database`].
    pub fn build(settings: &Settings) -> std::io::Result<Self> {
        let metrics = web::Data::new(Metrics::new());
        let pool = db::build_pool(settings, metrics.pool_events());
        if !Timezone::set_default(settings.default_timezone.clone()) {
            return Err(std::io::Error::other(format!(
                "DEFAULT_TIMEZONE {} differs from the time zone this process already uses",
                settings.default_timezone
            )));
        }
        let listener = TcpListener::bind(settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        let pool_data = web::Data::new(pool.clone());
        let metrics_server = settings
            .metrics_addr
            .map(|addr| {
                let pools = ScrapePools {
                    requests: pool.clone(),
                    own: db::build_scrape_pool(settings),
                };
                metrics_server(addr, metrics.clone(), pools)
            })
            .transpose()?;
        // `Option<Replica>`: what the `Reads` extractor looks up.
        let replica = db::build_replica_pool(settings, metrics.pool_events());
        let body_limit = BodyLimit(settings.max_body_bytes);
        let import_limit = ImportLimit(settings.import_max_body_bytes);
        let openapi = api::openapi();
        let rate_limit = RateLimit::per_minute(settings.rate_limit_per_minute);
        let origins = settings.cors_allowed_origins.clone();
        let idempotency_ttl = IdempotencyTtl(settings.idempotency_ttl);
        let feed_settings = web::Data::new(FeedSettings {
            retention: settings.feed_retention,
            settle_wait: settings.feed_settle_wait,
        });
        let cursor_key = CursorKey::new(settings.cursor_secret.clone());
        let key_cache = web::Data::new(KeyCache::new(settings.key_cache_ttl));
        key_cache.listen(&settings.database_url)?;
        // Every request's database work runs on the blocking threads of its
        // worker, and any worker may be handed every connection of the pool:
        // as many threads as connections, so that requests waiting in one
        // worker (on a lock, a slow statement) do not stall the others it
        // accepted while the pool has connections to spare. The pool's
        // size still bounds the database work under way.
        let blocking_threads = settings.db_pool_size as usize;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool_data.clone())
                .app_data(metrics.clone())
                .app_data(replica.clone())
                .app_data(body_limit)
                .app_data(import_limit)
                .app_data(rate_limit)
                .app_data(idempotency_ttl)
                .app_data(feed_settings.clone())
                .app_data(cursor_key.clone())
                .app_data(key_cache.clone())
                .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
                .wrap(from_fn(api::extract::utf8_target))
                .wrap(Condition::new(
                    replica.is_some(),
                    from_fn(positions::write_position),
                ))
                .wrap(from_fn(cors_problems))
                .wrap(from_fn(request_id::middleware))
                .wrap(from_fn(observe))
                .configure(api::configure)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
                .default_service(web::to(api::not_found))
        })
        .workers(settings.http_workers)
        .worker_max_blocking_threads(blocking_threads)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            pool,
            server,
            metrics: metrics_server,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics server, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The server's connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves until SIGTERM or SIGINT, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics {
            Some((_, metrics)) => futures_util::future::try_join(self.server, metrics)
                .await
                .map(|_| ()),
            None => self.server.await,
        }
    }
}
