//! `/v1/api-keys` (admin scope): the keys clients authenticate with. A
//! key's token is shown once, in the response that creates it.

use crate::api::extract::JsonBody;
use crate::api::idempotency::Idempotency;
use crate::api::pagination::Listing;
use crate::api::problems::{CreateErrors, ListErrors, ReadErrors};
use crate::auth::cache;
use crate::db::{self, PgPool};
use crate::domain::field::Components;
use crate::domain::{Field, Instant, Name, Parse};
use crate::error::Error;
use crate::page_type;
use crate::store::api_keys::{self as store, ApiKeyRecord, Principal, Scope};
use crate::store::CreatedSort;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// An API key (never with its token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ab0",
    "name": "district sync",
    "prefix": "3f9a0c1d2e4b",
    "scopes": ["read", "write"],
    "created_at": "2026-11-26T08:00:00Z",
    "last_used_at": null,
    "expires_at": "2027-12-31T00:00:00Z",
    "revoked_at": null
}))]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The public start of the token (`ar_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    /// When the key was last used (to the minute).
    #[schema(required = true)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A new key with its token: the only time the token is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The bearer token: `Authorization: Bearer <token>`. Store it now; it
    /// cannot be shown again.
    #[schema(example = "ar_3f9a0c1d2e4b_Yk9uP2m0q3V4s5T6u7W8x9Y0z1A2b3C4d5E6f7G8h9I")]
    pub token: String,
}

crate::enum_field!(Scope);

/// The scopes of a new key: at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scopes(pub Vec<Scope>);

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scopes = Vec::<Scope>::deserialize(deserializer)?;
        if scopes.is_empty() {
            return Err(serde::de::Error::custom("must name at least one scope"));
        }
        Ok(Self(scopes))
    }
}

impl Field for Scopes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(Scope::schema())
            .min_items(Some(1))
            .into()
    }

    fn components(out: &mut Components) {
        Scope::components(out);
    }
}

crate::record! {
    /// What a new key is called and may do.
    #[example = json!({"name": "district sync", "scopes": ["read", "write"], "expires_at": "2027-12-31T00:00:00Z"})]
    pub struct NewApiKey {
        /// 1–200 characters after trimming.
        pub name: Name<200>,
        pub scopes: Scopes,
        /// After this instant the key is refused; must lie in the future.
        pub expires_at: Option<Instant>,
    }
}

page_type!(
    /// One page of API keys.
    ApiKeyPage,
    ApiKey
);

crate::list_params! {
    /// Paging of `GET /v1/api-keys`.
    pub struct ListApiKeysParams sorted by CreatedSort {}
}

fn private(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response.insert_header(CacheControl(vec![CacheDirective::NoStore]));
    response
}

crate::list_operation! {
    get "/v1/api-keys" in "api-keys" as "listApiKeys", params(ListApiKeysParams),
    "One page of keys" => ApiKeyPage, ListErrors;
    /// Lists API keys, revoked ones included.
    pub async fn list(listing: Listing<ListApiKeysParams>) -> Result<HttpResponse, Error> {
        listing
            .page::<ApiKeyPage, _>(store::list, |record, _| Ok(ApiKey::from(record)))
            .await
    }
}

crate::operation! {
    post "/v1/api-keys" in "api-keys" as "createApiKey" [
        request_body(content = NewApiKey, content_type = "application/json"),
        responses(
            (status = 201, description = "Created; `token` is shown only now", body = CreatedApiKey,
                headers(("Location" = String, description = "URL of the new key"))),
            CreateErrors,
        )
    ];
    /// Creates an API key; the response holds its token, once. (No
    /// `Idempotency-Key`: the token is never stored, so it cannot be replayed.)
    pub async fn create(
        pool: web::Data<PgPool>,
        admin: Principal,
        Idempotency(idempotency): Idempotency,
        body: JsonBody<NewApiKey>,
    ) -> Result<HttpResponse, Error> {
        if idempotency.is_some() {
            // A replay would need the token, which is never stored.
            return Err(Error::BadHeader {
                header: crate::api::idempotency::HEADER,
                reason: "not supported when creating API keys: tokens are never stored, so a \
                         response cannot be replayed"
                    .into(),
            });
        }
        let input = body.0.check(|input| {
            if input.expires_at.is_some_and(|at| at <= Instant(Utc::now())) {
                Err(Error::invalid("expires_at", "must lie in the future"))
            } else {
                Ok(input)
            }
        })?;
        // A key can only hand on what it holds: an admin key without `pii`
        // cannot mint one with `pii` (and so read what is hidden from it).
        if let Some(beyond) = input.scopes.0.iter().find(|scope| !admin.has(**scope)) {
            return Err(Error::Forbidden {
                scope: beyond.as_str(),
            });
        }
        let (record, token) = db::transaction(&pool, Some(admin.key_id), move |conn| {
            store::create(
                conn,
                input.name.as_str(),
                &input.scopes.0,
                input.expires_at.map(Into::into),
            )
        })
        .await?;
        let location = format!("/v1/api-keys/{}", record.id);
        Ok(private(HttpResponse::Created())
            .insert_header((header::LOCATION, location))
            .json(CreatedApiKey {
                key: ApiKey::from(record),
                token,
            }))
    }
}

crate::operation! {
    get "/v1/api-keys/{id}" in "api-keys" as "getApiKey" [
        params(("id" = Uuid, Path, description = "Key id")),
        responses(
            (status = 200, description = "The key", body = ApiKey),
            ReadErrors,
        )
    ];
    /// Gets an API key.
    pub async fn get(pool: web::Data<PgPool>, id: web::Path<Uuid>) -> Result<HttpResponse, Error> {
        let id = *id;
        let record = db::run(&pool, move |conn| store::find(conn, id)).await?;
        Ok(private(HttpResponse::Ok()).json(ApiKey::from(record)))
    }
}

crate::operation! {
    delete "/v1/api-keys/{id}" in "api-keys" as "revokeApiKey" [
        params(("id" = Uuid, Path, description = "Key id")),
        responses(
            (status = 204, description = "Revoked (or already revoked)"),
            ReadErrors,
        )
    ];
    /// Revokes an API key: from its next request on, on every instance, it is
    /// refused (401) — the answer waits until every instance that caches
    /// keys has dropped it. The key stays listed, with `revoked_at`.
    pub async fn revoke(
        pool: web::Data<PgPool>,
        admin: Principal,
        id: web::Path<Uuid>,
    ) -> Result<HttpResponse, Error> {
        let id = *id;
        let key = db::transaction(&pool, Some(admin.key_id), move |conn| {
            store::revoke(conn, id)
        })
        .await?;
        // Also when it was revoked already: a retry of a revocation whose
        // answer was lost still answers only once every server dropped it.
        let late = await_every_cache(&pool).await?;
        if !late.is_empty() {
            log::warn!(
                "key {} revoked; servers {late:?} renew their key-cache lease \
                 but did not acknowledge the revocation",
                key.id
            );
        }
        Ok(HttpResponse::NoContent().finish())
    }
}

/// Waits until every server that caches keys has processed the key
/// changes committed before this call, holding a connection of the pool
/// only while it looks (see [`cache::Probe`]).
async fn await_every_cache(pool: &PgPool) -> Result<Vec<Uuid>, Error> {
    let Some(mut probe) = db::run(pool, cache::Probe::send).await? else {
        return Ok(Vec::new());
    };
    loop {
        let (looked, settled) = db::run(pool, move |conn| {
            let settled = probe.settled(conn)?;
            Ok((probe, settled))
        })
        .await?;
        probe = looked;
        if settled {
            return db::run(pool, move |conn| probe.finish(conn)).await;
        }
        actix_web::rt::time::sleep(cache::PROBE_POLL).await;
    }
}

crate::routes! {
    Admin => list,
    Admin => create,
    Admin => get,
    Admin => revoke,
}
