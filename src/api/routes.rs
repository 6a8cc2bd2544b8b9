//! Each route declared once. A handler's `#[utoipa::path]` attribute states
//! its method, path and OpenAPI operation; its resource's [`routes!`] table
//! names it with the scope it needs. From that one declaration come the
//! actix route (wrapped in [`crate::auth::require`] with that scope, HEAD
//! beside GET, 405 with `Allow` for other methods), the operation in the
//! document (with its `security` and 401/403/429 answers) and the scope the
//! authorization check enforces. A route may also answer at a former
//! path, a deprecated alias outside the document (see [`Route::aka`]).
//!
//! The table also says where a read runs: a handler named `from replica`
//! (`Read => list from replica`) reads through the streaming replica when
//! one is configured (see [`crate::db::replica`]) and documents
//! `Min-Position`; every other route reads and writes on the primary.
//! Every operation other than a GET documents the `Write-Position` of its
//! successful answers.

use crate::api::positions::{self, ReadFrom};
use crate::error::Error;
use crate::store::api_keys::Scope;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, LINK};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, Handler, Resource, Responder};
use utoipa::openapi::OpenApi;

/// Declares a handler with its OpenAPI operation: method, path, tag and
/// operation id on one line, then the rest of the operation (`params`,
/// `request_body`, `responses`, …) in brackets, then the handler.
#[macro_export]
macro_rules! operation {
    (
        $method:ident $path:literal in $tag:literal as $id:literal [$($rest:tt)*];
        $handler:item
    ) => {
        #[utoipa::path($method, path = $path, tag = $tag, operation_id = $id, $($rest)*)]
        $handler
    };
}

/// One operation as declared: its method, path template, the scope a key
/// needs for it (`None`: open, e.g. the health probes) and its part of the
/// OpenAPI document.
pub struct Route {
    /// Upper case, e.g. `GET`.
    pub method: &'static str,
    pub path: String,
    pub scope: Option<Scope>,
    /// Where its reads run.
    pub reads: ReadFrom,
    /// A former path of this operation, still served (see [`Route::aka`]).
    pub alias: Option<&'static str>,
    doc: OpenApi,
    add: fn(Resource, Method, Option<Scope>, ReadFrom) -> Resource,
}

/// The methods of a path item, in the order the document lists them.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Route {
    /// The route of the single operation `doc` describes (as derived from a
    /// handler's `#[utoipa::path]`), served by `add`.
    ///
    /// # Panics
    /// When `doc` holds other than one operation: a declaration error that
    /// the first test run (and the first start) reports.
    pub fn new(
        scope: Option<Scope>,
        reads: ReadFrom,
        doc: OpenApi,
        add: fn(Resource, Method, Option<Scope>, ReadFrom) -> Resource,
    ) -> Self {
        let mut operations = doc.paths.paths.iter().flat_map(|(path, item)| {
            let methods = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
            METHODS
                .into_iter()
                .zip(methods)
                .filter(|(_, operation)| operation.is_some())
                .map(move |(method, _)| (method, path.clone()))
        });
        let (method, path) = operations.next().expect("a handler documents an operation");
        assert!(
            operations.next().is_none(),
            "{method} {path}: a handler documents one operation"
        );
        drop(operations);
        assert!(
            reads == ReadFrom::Primary || method == "GET",
            "{method} {path}: only a GET may read from the replica"
        );
        Self {
            method,
            path,
            scope,
            reads,
            alias: None,
            doc,
            add,
        }
    }

    /// This route, also served at its former path `alias`: a deprecated
    /// alias, left out of the document, whose answers carry `Deprecation`
    /// (RFC 9745, since [`ALIASES_DEPRECATED_AT`]) and a `Link` to the
    /// successor (`rel="successor-version"`): this route's path with the
    /// alias's path parameters it names, the others as query parameters.
    pub fn aka(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }

    /// This route's part of the OpenAPI document, its operation secured
    /// with its scope (an open one with `security: []`), its description
    /// ending with the key it needs, with `Min-Position` where it may read
    /// from the replica and `Write-Position` on the successful answers of
    /// writes.
    pub fn doc(&self) -> OpenApi {
        let mut doc = self.doc.clone();
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let access = match self.scope {
                    Some(scope) => {
                        crate::api::problems::secure(operation, scope.as_str());
                        format!("Needs an API key with the `{}` scope.", scope.as_str())
                    }
                    None => {
                        operation.security = Some(Vec::new());
                        "Open: needs no API key.".to_owned()
                    }
                };
                operation.description = Some(match operation.description.take() {
                    Some(text) if !text.trim().is_empty() => format!("{text}\n\n{access}"),
                    _ => access,
                });
                if self.reads == ReadFrom::Replica {
                    operation
                        .parameters
                        .get_or_insert_with(Vec::new)
                        .push(positions::min_position_parameter().into());
                }
                if self.method != "GET" {
                    let successes = operation
                        .responses
                        .responses
                        .iter_mut()
                        .filter(|(status, _)| status.starts_with('2'));
                    for (_, response) in successes {
                        if let utoipa::openapi::RefOr::T(response) = response {
                            response.headers.insert(
                                positions::WRITE_POSITION.to_owned(),
                                positions::write_position_header().into(),
                            );
                        }
                    }
                }
            }
        }
        doc
    }

    fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).expect("a known method")
    }
}

/// Declares the routes of a resource module: `Scope => handler` for each
/// handler (`Open` for routes without authentication), `Scope => handler
/// from replica` for the reads that tolerate a replica's lag, `aka "path"`
/// after either for a former path still served ([`Route::aka`]). Generates
/// `pub fn routes() -> Vec<Route>`.
#[macro_export]
macro_rules! routes {
    (@scope Open) => { None };
    (@scope $scope:ident) => { Some($crate::store::api_keys::Scope::$scope) };
    (@reads) => { $crate::api::positions::ReadFrom::Primary };
    (@reads replica) => { $crate::api::positions::ReadFrom::Replica };
    ($($scope:ident => $handler:ident $(from $reads:ident)? $(aka $alias:expr)?),+ $(,)?) => {
        /// The routes of this module, each with the scope it needs.
        pub fn routes() -> Vec<$crate::api::routes::Route> {
            vec![$({
                #[derive(utoipa::OpenApi)]
                #[openapi(paths($handler))]
                struct Operation;
                $crate::api::routes::Route::new(
                    $crate::routes!(@scope $scope),
                    $crate::routes!(@reads $($reads)?),
                    <Operation as utoipa::OpenApi>::openapi(),
                    |resource, method, scope, reads| {
                        $crate::api::routes::add(resource, method, scope, reads, $handler)
                    },
                )
                $(.aka($alias))?
            }),+]
        }
    };
}

/// `resource` with `handler` serving `method` behind a check of `scope`
/// (and HEAD beside GET), reading where `reads` says.
pub fn add<F, Args>(
    resource: Resource,
    method: Method,
    scope: Option<Scope>,
    reads: ReadFrom,
    handler: F,
) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let route = |method: Method, handler: F| {
        let route = web::method(method).to(handler);
        let route = match reads {
            ReadFrom::Replica => route.wrap(from_fn(positions::from_replica)),
            ReadFrom::Primary => route,
        };
        match scope {
            Some(scope) => route.wrap(crate::auth::require(scope)),
            None => route,
        }
    };
    if method == Method::GET {
        resource
            .route(route(Method::GET, handler.clone()))
            .route(route(Method::HEAD, handler))
    } else {
        resource.route(route(method, handler))
    }
}

/// When the deprecated aliases ([`Route::aka`]) were deprecated: the
/// `Deprecation` header's date (RFC 9745), 2026-12-06T00:00:00Z.
pub const ALIASES_DEPRECATED_AT: &str = "@1796515200";

/// Registers `routes`: one actix resource a path, in the order the paths
/// are first declared, answering 405 with `Allow` to other methods; each
/// alias right after its route's path, so that it keeps its precedence
/// over the paths declared later.
///
/// # Panics
/// When a method and path are declared twice.
pub fn register(cfg: &mut web::ServiceConfig, routes: &[Route]) {
    let mut paths: Vec<&str> = Vec::new();
    for route in routes {
        if !paths.contains(&route.path.as_str()) {
            paths.push(&route.path);
        }
    }
    for path in paths {
        let served: Vec<&Route> = routes.iter().filter(|r| r.path == path).collect();
        cfg.service(resource(path, &served));
        for route in served {
            if let Some(alias) = route.alias {
                let successor = route.path.clone();
                let alias_of = move |req: ServiceRequest, next: Next<_>| {
                    deprecated_alias(successor.clone(), req, next)
                };
                cfg.service(resource(alias, &[route]).wrap(from_fn(alias_of)));
            }
        }
    }
}

/// The resource at `path` serving `routes` (405 with `Allow` for other
/// methods).
fn resource(path: &str, routes: &[&Route]) -> Resource {
    let mut methods: Vec<&str> = Vec::new();
    let mut resource = web::resource(path);
    for route in routes {
        assert!(
            !methods.contains(&route.method),
            "{} {path} is declared twice",
            route.method
        );
        methods.push(route.method);
        resource = (route.add)(resource, route.method(), route.scope, route.reads);
    }
    let allow = allow_header(&methods);
    resource.default_service(web::to(move || method_not_allowed(allow.clone())))
}

/// Middleware of a deprecated alias of the route at `successor` (a path
/// template): its answers say so, and link to the successor.
async fn deprecated_alias(
    successor: String,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let link = successor_link(&successor, &req);
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("deprecation"),
        HeaderValue::from_static(ALIASES_DEPRECATED_AT),
    );
    if let Ok(link) = HeaderValue::from_str(&link) {
        headers.append(LINK, link);
    }
    Ok(response)
}

/// What a path segment of a `Link` keeps as it is: letters, digits, the
/// unreserved `-._~`, and `:` and `@` (which references such as
/// `scheme:value` use); everything else is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@');

/// The `Link` to `successor` (a path template) for a request to its alias:
/// the request's path parameters fill the template's, the others follow as
/// query parameters (form-encoded: a `+` in a path segment is `%2B`).
fn successor_link(successor: &str, req: &ServiceRequest) -> String {
    let mut path = successor.to_owned();
    let mut query = Vec::new();
    for (name, value) in req.match_info().iter() {
        let template = format!("{{{name}}}");
        let text = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        if path.contains(&template) {
            // Encoded anew: a segment the client sent must not end the
            // link's `<…>` or add parameters or links to it.
            let segment = percent_encoding::utf8_percent_encode(&text, SEGMENT).to_string();
            path = path.replace(&template, &segment);
        } else {
            let text: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
            query.push(format!("{name}={text}"));
        }
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    format!("<{path}>; rel=\"successor-version\"")
}

/// The `Allow` header of a resource serving `methods` (HEAD beside GET).
fn allow_header(methods: &[&str]) -> String {
    let mut names = methods.to_vec();
    if let Some(get) = names.iter().position(|m| *m == "GET") {
        names.insert(get + 1, "HEAD");
    }
    names.join(", ")
}

async fn method_not_allowed(allow: String) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::MethodNotAllowed { allow })
}

#[cfg(test)]
mod tests {
    use super::allow_header;

    #[test]
    fn head_is_allowed_beside_get() {
        assert_eq!(
            allow_header(&["GET", "PUT", "PATCH", "DELETE"]),
            "GET, HEAD, PUT, PATCH, DELETE"
        );
        assert_eq!(allow_header(&["POST"]), "POST");
    }
}
