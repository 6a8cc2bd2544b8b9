//! Keyset pagination: `limit` and an opaque `cursor` in, a page of items,
//! `next_cursor` and a `Link: <…>; rel="next"` header out. The cursor
//! encodes the sort order and the last row's sort value and id, so the next
//! page is an index range scan, never an OFFSET.

use crate::api::cursor::{CursorKey, Signer};
use crate::api::extract::Query;
use crate::api::preconditions::{computed_response, IfNoneMatch};
use crate::db;
use crate::db::replica::{self, Reads};
use crate::error::Error;
use crate::store::api_keys::Principal;
use crate::store::{After, Keyset, SortKey, SortValue};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The page size for a requested `limit`.
pub fn limit(requested: Option<i64>) -> Result<i64, Error> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::bad_parameter(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        )),
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// The listing (request path) the cursor belongs to.
    p: String,
    /// The sort order the cursor belongs to.
    s: String,
    v: SortValue,
    id: Uuid,
}

/// Encodes the position after `after` in the listing at `path` in the
/// order named `sort`, sealed.
pub fn encode_cursor(signer: &Signer, path: &str, sort: &str, after: &After) -> String {
    let data = CursorData {
        p: path.to_owned(),
        s: sort.to_owned(),
        v: after.value.clone(),
        id: after.id,
    };
    signer.seal(&serde_json::to_vec(&data).unwrap_or_default())
}

/// Decodes a cursor given for the listing at `path` in the order named
/// `sort`; `accepts` tells whether its sort value fits that order. Cursors the server did not seal
/// are refused (400) before anything reaches the database.
pub fn decode_cursor(
    signer: &Signer,
    cursor: &str,
    path: &str,
    sort: &str,
    accepts: impl Fn(&SortValue) -> bool,
) -> Result<After, Error> {
    let invalid = || {
        Error::bad_parameter(
            "cursor",
            "not a cursor this API issued; use next_cursor from the previous page",
        )
    };
    let bytes = signer.open(cursor).ok_or_else(invalid)?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if data.p != path {
        return Err(Error::bad_parameter(
            "cursor",
            format!("the cursor belongs to {}, not {path}", data.p),
        ));
    }
    if data.s != sort || !accepts(&data.v) {
        return Err(Error::bad_parameter(
            "cursor",
            format!("the cursor belongs to sort={}, not sort={sort}", data.s),
        ));
    }
    Ok(After {
        value: data.v,
        id: data.id,
    })
}

/// One page of a listing: decodes the cursor for `sort`, runs `query` for
/// `limit + 1` rows after it on a pooled connection of `reads` (off the
/// async workers), and presents the page's rows. Returns the items and the
/// cursor of the next page, if there is one.
pub async fn fetch_page<R, S, O>(
    req: &HttpRequest,
    reads: &Reads,
    sort: S,
    limit: Option<i64>,
    cursor: Option<String>,
    query: impl FnOnce(&mut PgConnection, Keyset<S>) -> Result<Vec<R>, Error> + Clone + Send + 'static,
    present: impl Fn(R) -> Result<O, Error>,
) -> Result<(Vec<O>, Option<String>), Error>
where
    R: Send + 'static,
    S: SortKey<R>,
{
    let limit = self::limit(limit)?;
    let key = req.app_data::<CursorKey>().cloned().unwrap_or_default();
    let path = req.path().to_owned();
    // The key is made, the first time, on the primary (a replica is
    // read-only).
    let signer = match key.loaded() {
        Some(signer) => signer,
        None => db::run(&reads.primary, move |conn| key.signer(conn)).await?,
    };
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(&signer, &c, &path, sort.tag(), |v| sort.accepts(v)))
        .transpose()?;
    let mut rows = replica::read(reads, move |conn| {
        let rows = query(
            conn,
            Keyset {
                sort,
                after: after.as_ref(),
                limit: limit + 1,
            },
        )?;
        Ok(rows)
    })
    .await?;
    let mut next = None;
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        next = rows
            .last()
            .map(|last| encode_cursor(&signer, &path, sort.tag(), &sort.key(last)));
    }
    let items = rows.into_iter().map(present).collect::<Result<_, _>>()?;
    Ok((items, next))
}

/// A 200 response with `page` as body (weak ETag; 304 when `If-None-Match`
/// holds it) and, when there is a next page, a `Link` header pointing at it
/// (same path and parameters, new cursor).
pub fn page_response(
    req: &HttpRequest,
    if_none_match: &IfNoneMatch,
    page: &impl Serialize,
    next_cursor: Option<&str>,
) -> Result<HttpResponse, Error> {
    let link = next_cursor
        .map(|cursor| {
            (
                header::LINK,
                format!("<{}>; rel=\"next\"", next_page_url(req, cursor)),
            )
        })
        .into_iter()
        .collect();
    computed_response(if_none_match, page, link)
}

fn next_page_url(req: &HttpRequest, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if name != "cursor" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", cursor);
    format!("{}?{}", req.path(), query.finish())
}

/// The response type of a listing: its items and the next page's cursor.
pub trait Page: Serialize {
    type Item;
    fn new(items: Vec<Self::Item>, next_cursor: Option<String>) -> Self;
    fn next_cursor(&self) -> Option<&str>;
}

/// Defines the response type of a paginated listing of `$item`s.
#[macro_export]
macro_rules! page_type {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// The records of this page, in the requested order.
            pub items: Vec<$item>,
            /// Cursor of the next page, to pass as `cursor`; `null` on the
            /// last page.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
        }

        impl $crate::api::pagination::Page for $name {
            type Item = $item;

            fn new(items: Vec<$item>, next_cursor: Option<String>) -> Self {
                Self { items, next_cursor }
            }

            fn next_cursor(&self) -> Option<&str> {
                self.next_cursor.as_deref()
            }
        }
    };
}

/// Which page of a listing a request asks for.
#[derive(Debug)]
pub struct Paging {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Defines the query parameters of a listing: its filters, then (with
/// `sorted by`) `sort`, and `limit` and `cursor`; `paging()` takes the
/// latter two, `sort()` the order (its default when not given).
#[macro_export]
macro_rules! list_params {
    (
        $(#[doc = $doc:literal])*
        pub struct $Params:ident of records $(sorted by $Sort:ty)? {
            $($body:tt)*
        }
    ) => {
        $crate::list_params! {
            $(#[doc = $doc])*
            pub struct $Params $(sorted by $Sort)? {
                $($body)*
                /// Only records changed at or after this instant (RFC 3339;
                /// percent-encode a `+` offset as `%2B`).
                updated_since: Option<$crate::domain::Instant>,
                /// Only records carrying this external identifier, as `scheme:value`.
                #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\x00-\x1F\x7F-\x9F]+$")]
                identifier: Option<String>,
                /// Also list deleted records (tombstones, with `deleted_at`).
                include_deleted: Option<bool>,
            }
        }

        impl $Params {
            /// The filters every listing of records has.
            fn records(&self) -> Result<$crate::store::rows::RecordFilter, $crate::error::Error> {
                Ok($crate::store::rows::RecordFilter {
                    updated_since: self.updated_since.map(Into::into),
                    identifier: $crate::api::common::identifier_filter(
                        "identifier",
                        self.identifier.as_deref(),
                    )?,
                    include_deleted: self.include_deleted.unwrap_or(false),
                })
            }
        }
    };
    (
        $(#[doc = $doc:literal])*
        pub struct $Params:ident $(sorted by $Sort:ty)? {
            $($(#[$meta:meta])* $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $Params {
            $($(#[$meta])* $field: $ty,)*
            $(
                /// Order of the listing.
                sort: Option<$Sort>,
            )?
            /// Page size, 1–500 (default 50).
            #[param(minimum = 1, maximum = 500)]
            limit: Option<i64>,
            /// `next_cursor` of the previous page (empty: the first page); a
            /// cursor this server did not issue for this listing is a 400.
            #[param(inline)]
            cursor: Option<$crate::api::cursor::CursorText>,
        }

        impl $crate::api::pagination::ListParams for $Params {
            type Sort = $crate::list_params!(@sort $($Sort)?);

            fn paging(&mut self) -> $crate::api::pagination::Paging {
                $crate::api::pagination::Paging {
                    limit: self.limit,
                    cursor: self.cursor.take().map(|cursor| cursor.0),
                }
            }

            fn sort(&self) -> Self::Sort {
                $crate::list_params!(@order self $($Sort)?)
            }
        }
    };
    (@sort $Sort:ty) => { $Sort };
    (@sort) => { $crate::store::CreatedSort };
    (@order $self:ident $Sort:ty) => { $self.sort.unwrap_or_default() };
    (@order $self:ident) => { $crate::store::CreatedSort::CreatedAt };
}

/// Declares the handler of a listing (a GET of pages) with its OpenAPI
/// operation: the path, tag, operation id and parameters, and the page
/// type with its description; every listing answers with the same
/// headers (`Link`, a weak `ETag`), 304 to `If-None-Match`, and `$errors`.
#[macro_export]
macro_rules! list_operation {
    // A listing of a store's records: `$list` reads the rows matching the
    // filter that `$filter` makes of the parameters `$p` and the viewer
    // `$viewer`; `$present` presents each.
    (
        get $path:literal in $tag:literal as $id:literal, params($Params:ident),
        $description:literal => $Page:ty, $errors:path;
        $(#[doc = $doc:literal])*
        pub async fn $name:ident: $list:expr, $present:expr, |$p:ident, $viewer:pat_param| $filter:expr
    ) => {
        $crate::list_operation! {
            get $path in $tag as $id, params($Params),
            $description => $Page, $errors;
            $(#[doc = $doc])*
            pub async fn $name(
                listing: $crate::api::pagination::Listing<$Params>,
            ) -> Result<::actix_web::HttpResponse, $crate::error::Error> {
                let ($p, $viewer) = (&listing.params, &listing.viewer);
                let filter = $filter;
                listing
                    .page::<$Page, _>($crate::api::pagination::listed(filter, $list), $present)
                    .await
            }
        }
    };
    (
        get $path:literal in $tag:literal as $id:literal, params($($param:tt),*),
        $description:literal => $Page:ty, $errors:path;
        $handler:item
    ) => {
        #[utoipa::path(
            get,
            path = $path,
            tag = $tag,
            operation_id = $id,
            params($($param,)* $crate::api::preconditions::IfNoneMatch),
            responses(
                (status = 200, description = $description, body = $Page,
                    headers(
                        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
                        ("ETag" = String, description = "Weak entity tag of this page"))),
                (status = 304, description = "The client's copy of this page (If-None-Match) is current",
                    headers(("ETag" = String, description = "Weak entity tag of this page"))),
                $errors,
            )
        )]
        $handler
    };
}

/// The query parameters of a listing (see [`list_params!`]).
pub trait ListParams: serde::de::DeserializeOwned {
    /// The orders the listing offers.
    type Sort: Copy + Send + 'static;
    /// The page asked for (taken: the cursor moves out).
    fn paging(&mut self) -> Paging;
    /// The order asked for (its default when not given).
    fn sort(&self) -> Self::Sort;
}

/// A store's listing: the rows matching a filter that a page reads.
pub type ListFn<F, S, R> = fn(&mut PgConnection, &F, Keyset<S>) -> Result<Vec<R>, Error>;

/// The query [`Listing::page`] runs for a store's listing `list`: its
/// rows matching `filter`.
pub fn listed<F, S, R>(
    filter: F,
    list: ListFn<F, S, R>,
) -> impl FnOnce(&mut PgConnection, Keyset<S>) -> Result<Vec<R>, Error> + Clone + Send + 'static
where
    F: Clone + Send + 'static,
    S: 'static,
    R: 'static,
{
    move |conn, page| list(conn, &filter, page)
}

/// A listing request: its query parameters `P` (400 naming the one at
/// fault), who asks, and what the response needs of the request: the
/// request (for the path, the query and the cursor key), where it reads
/// (see [`Reads`]) and `If-None-Match`.
pub struct Listing<P> {
    req: HttpRequest,
    reads: Reads,
    if_none_match: IfNoneMatch,
    /// The query parameters.
    pub params: P,
    /// The key asking.
    pub viewer: Principal,
}

impl<P: ListParams> FromRequest for Listing<P> {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let listing = (|| {
            let Query(params) = Query::<P>::from_request(req, payload).into_inner()?;
            let if_none_match = IfNoneMatch::from_request(req, payload).into_inner()?;
            let viewer = Principal::from_request(req, payload).into_inner()?;
            let reads = Reads::from_request(req, payload).into_inner()?;
            Ok(Self {
                req: req.clone(),
                reads,
                if_none_match,
                params,
                viewer,
            })
        })();
        std::future::ready(listing)
    }
}

impl<P: ListParams> Listing<P> {
    /// The page the parameters ask for as the response: the rows `query`
    /// reads after the cursor in the order asked for, presented to the
    /// viewer, with
    /// `Link` to the next page and a weak ETag of the whole.
    pub async fn page<T, R>(
        mut self,
        query: impl FnOnce(&mut PgConnection, Keyset<P::Sort>) -> Result<Vec<R>, Error>
            + Clone
            + Send
            + 'static,
        present: impl Fn(R, &Principal) -> Result<T::Item, Error>,
    ) -> Result<HttpResponse, Error>
    where
        T: Page,
        R: Send + 'static,
        P::Sort: SortKey<R>,
    {
        let (sort, paging) = (self.params.sort(), self.params.paging());
        let (items, next_cursor) = fetch_page(
            &self.req,
            &self.reads,
            sort,
            paging.limit,
            paging.cursor,
            query,
            |row| present(row, &self.viewer),
        )
        .await?;
        let page = T::new(items, next_cursor);
        page_response(&self.req, &self.if_none_match, &page, page.next_cursor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_order() {
        let after = After {
            value: SortValue::Text("Bilibili 哔哩哔哩".into()),
            id: Uuid::now_v7(),
        };
        let signer = Signer::for_tests();
        let cursor = encode_cursor(&signer, "/v1/people", "name", &after);
        let decode = |path, sort, fits: bool| decode_cursor(&signer, &cursor, path, sort, |_| fits);
        assert_eq!(decode("/v1/people", "name", true).unwrap(), after);
        assert!(decode("/v1/organizations", "name", true).is_err());
        assert!(decode("/v1/people", "-name", true).is_err());
        assert!(decode("/v1/people", "name", false).is_err());
        assert!(decode_cursor(&signer, "garbage!", "/v1/people", "name", |_| true).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(500)).unwrap(), 500);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(501)).is_err());
    }
}
