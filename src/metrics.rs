//! What an operator watches, in the Prometheus text format (OpenMetrics):
//! requests by route template, method and status; their latency; the
//! connection pool (size, in use, checkout waits, timeouts); database
//! errors by kind; the change feed's head; the build. Each server keeps
//! its own [`Metrics`]; only the database error counts, taken where a
//! database error becomes an [`crate::error::Error`], are the process's.

use diesel::r2d2::event::{CheckoutEvent, TimeoutEvent};
use diesel::r2d2::{HandleError, HandleEvent};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

/// Media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request no route matched: unmatched paths are
/// not labels (a client could make them without end).
pub const UNMATCHED: &str = "unmatched";

/// Labels of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The matched route's template, e.g. `/v1/people/{id}`.
    route: String,
    method: Method,
    status: u16,
}

/// Labels of a request's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: Method,
}

/// A request's method as a label: the methods the API serves, and
/// `OTHER` for the rest (a client may send any token as a method).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(clippy::upper_case_acronyms)]
enum Method {
    GET,
    HEAD,
    POST,
    PUT,
    PATCH,
    DELETE,
    OPTIONS,
    OTHER,
}

impl From<&actix_web::http::Method> for Method {
    fn from(method: &actix_web::http::Method) -> Self {
        match method.as_str() {
            "GET" => Self::GET,
            "HEAD" => Self::HEAD,
            "POST" => Self::POST,
            "PUT" => Self::PUT,
            "PATCH" => Self::PATCH,
            "DELETE" => Self::DELETE,
            "OPTIONS" => Self::OPTIONS,
            _ => Self::OTHER,
        }
    }
}

/// Why a database operation failed.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DatabaseFault {
    /// The server could not be reached, or the connection was lost.
    connection,
    /// A statement or lock wait ran past its timeout.
    timeout,
    /// PostgreSQL broke a deadlock by aborting the transaction.
    deadlock,
    /// A constraint refused the change (answered 409 or 422).
    constraint,
    /// Anything else (answered 500).
    other,
}

impl DatabaseFault {
    const ALL: [Self; 5] = [
        Self::connection,
        Self::timeout,
        Self::deadlock,
        Self::constraint,
        Self::other,
    ];
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    kind: DatabaseFault,
}

static DATABASE_ERRORS: LazyLock<Family<FaultLabels, Counter>> = LazyLock::new(Family::default);

/// Counts a failed database operation of this process.
pub fn database_error(kind: DatabaseFault) {
    DATABASE_ERRORS.get_or_create(&FaultLabels { kind }).inc();
}

/// Buckets of request durations and pool waits, in seconds: 0.5 ms to
/// about 16 s, doubling.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    pool: PoolEvents,
    pool_max: Gauge,
    pool_open: Gauge,
    pool_in_use: Gauge,
    database_up: Gauge,
    feed_head: Gauge,
}

/// The pool's checkouts as they happen (see [`HandleEvent`]).
#[derive(Clone, Debug)]
pub struct PoolEvents {
    waits: Histogram,
    timeouts: Counter,
}

impl HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: CheckoutEvent) {
        self.waits.observe(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _event: TimeoutEvent) {
        self.timeouts.inc();
    }
}

/// Connections the pool could not open: logged, as r2d2 does by default,
/// and counted as `connection` faults (one per attempt; the pool retries
/// while a request waits).
#[derive(Clone, Copy, Debug)]
pub struct ConnectErrors;

impl HandleError<diesel::r2d2::Error> for ConnectErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        log::error!("cannot connect to the database: {error}");
        database_error(DatabaseFault::connection);
    }
}

/// What the pool holds at a scrape.
pub struct PoolState {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("alliance_registry");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status",
            requests.clone(),
        );
        let durations =
            Family::<RouteLabels, Histogram>::new_with_constructor(seconds as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response's head, by route template and method",
            durations.clone(),
        );
        let pool = PoolEvents {
            waits: seconds(),
            timeouts: Counter::default(),
        };
        registry.register(
            "db_pool_checkout_seconds",
            "Time a request waited for a pooled database connection",
            pool.waits.clone(),
        );
        registry.register(
            "db_pool_timeouts",
            "Requests that got no pooled connection within DB_CONNECT_TIMEOUT_MS (answered 503)",
            pool.timeouts.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let pool_max = gauge(
            &mut registry,
            "db_pool_max_connections",
            "Largest number of pooled connections (DB_POOL_SIZE)",
        );
        let pool_open = gauge(
            &mut registry,
            "db_pool_connections",
            "Pooled connections open",
        );
        let pool_in_use = gauge(
            &mut registry,
            "db_pool_connections_in_use",
            "Pooled connections checked out",
        );
        let database_up = gauge(
            &mut registry,
            "database_up",
            "1 when the database answered this scrape, 0 when it did not",
        );
        let feed_head = gauge(
            &mut registry,
            "feed_head",
            "Feed key of the newest change a reader of the change feed can see",
        );
        // Every kind from the start, at 0: a series that appears only with
        // its first error cannot be rated or alerted on before it.
        for kind in DatabaseFault::ALL {
            drop(DATABASE_ERRORS.get_or_create(&FaultLabels { kind }));
        }
        registry.register(
            "database_errors",
            "Failed database operations of this process (connection attempts included), by kind",
            DATABASE_ERRORS.clone(),
        );
        registry.register(
            "build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Self {
            registry,
            requests,
            durations,
            pool,
            pool_max,
            pool_open,
            pool_in_use,
            database_up,
            feed_head,
        }
    }

    /// The pool's event handler, feeding this server's pool metrics.
    pub fn pool_events(&self) -> PoolEvents {
        self.pool.clone()
    }

    /// Records an answered request: `route` is the matched template
    /// (`None`: no route matched).
    pub fn request(
        &self,
        route: Option<&str>,
        method: &actix_web::http::Method,
        status: u16,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED).to_owned();
        let method = Method::from(method);
        self.durations
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// The text of a scrape, with the pool as it is now and the feed head
    /// (`None`: the database did not answer).
    pub fn render(&self, pool: PoolState, feed_head: Option<Option<i64>>) -> String {
        self.pool_max.set(pool.max.into());
        self.pool_open.set(pool.open.into());
        self.pool_in_use
            .set((pool.open - pool.idle.min(pool.open)).into());
        self.database_up.set(feed_head.is_some().into());
        if let Some(head) = feed_head {
            self.feed_head.set(head.unwrap_or(0));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_method_and_status() {
        let metrics = Metrics::new();
        let get = actix_web::http::Method::GET;
        let odd = actix_web::http::Method::from_bytes(b"BREW").unwrap();
        metrics.request(Some("/v1/people/{id}"), &get, 200, Duration::from_millis(3));
        metrics.request(Some("/v1/people/{id}"), &get, 200, Duration::from_millis(5));
        metrics.request(None, &odd, 404, Duration::from_millis(1));
        let text = metrics.render(
            PoolState {
                max: 10,
                open: 3,
                idle: 1,
            },
            Some(Some(42)),
        );
        assert!(text.contains(
            r#"alliance_registry_http_requests_total{route="/v1/people/{id}",method="GET",status="200"} 2"#
        ), "{text}");
        assert!(text.contains(
            r#"alliance_registry_http_requests_total{route="unmatched",method="OTHER",status="404"} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"alliance_registry_http_request_duration_seconds_count{route="/v1/people/{id}",method="GET"} 2"#
        ), "{text}");
        for line in [
            "alliance_registry_db_pool_max_connections 10",
            "alliance_registry_db_pool_connections 3",
            "alliance_registry_db_pool_connections_in_use 2",
            "alliance_registry_database_up 1",
            "alliance_registry_feed_head 42",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(text.contains(r#"alliance_registry_database_errors_total{kind="deadlock"} "#));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn a_scrape_the_database_did_not_answer_reports_it_down_and_keeps_the_last_feed_head() {
        let metrics = Metrics::new();
        let pool = || PoolState {
            max: 4,
            open: 0,
            idle: 0,
        };
        metrics.render(pool(), Some(Some(7)));
        let text = metrics.render(pool(), None);
        assert!(text.lines().any(|l| l == "alliance_registry_database_up 0"));
        assert!(text.lines().any(|l| l == "alliance_registry_feed_head 7"));
    }
}
