//! Database access: the connection pool, the bridge that runs blocking
//! diesel work off the async workers, migrations and the schema.

pub mod migrate;
pub mod schema;

use crate::{config::Settings, error::Error};
use diesel::{
    connection::SimpleConnection,
    pg::PgConnection,
    r2d2::{ConnectionManager, CustomizeConnection, Pool},
    Connection, RunQueryDsl,
};
use uuid::Uuid;

/// The r2d2 pool of PostgreSQL connections.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// Builds the pool without connecting: connections are made on demand, so
/// the server starts (and reports not-ready) while the database is down.
pub fn build_pool(settings: &Settings) -> PgPool {
    Pool::builder()
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout_ms: settings.statement_timeout.as_millis(),
        }))
        .max_size(settings.db_pool_size)
        .min_idle(Some(0))
        .connection_timeout(settings.db_connect_timeout)
        .test_on_check_out(true)
        .build_unchecked(ConnectionManager::new(&settings.database_url))
}

/// Settings of every pooled connection's session.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u128,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // lock_timeout also bounds lock waits at COMMIT (the change feed's
        // commit-order lock), where statement_timeout no longer runs.
        let ms = self.statement_timeout_ms;
        conn.batch_execute(&format!(
            "SET statement_timeout = {ms}; SET lock_timeout = {ms}"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Runs `work` with a pooled connection on the blocking thread pool of the
/// current tokio runtime (in the server, the pool of the HTTP worker's own
/// runtime, sized by the HTTP server). Both the checkout (which may wait up
/// to the pool's timeout, then yields a 503) and the queries happen there,
/// never on an async worker. Work that panics fails with 500.
pub async fn run<T, F>(pool: &PgPool, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await
    .map_err(Error::internal)?
}

/// Like [`run`], inside one transaction: everything `work` writes commits
/// together or not at all. `actor`, the API key making the change, is what
/// the journal triggers record as its author.
pub async fn transaction<T, F>(pool: &PgPool, actor: Option<Uuid>, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| {
        conn.transaction(|conn| {
            set_actor(conn, actor)?;
            work(conn)
        })
    })
    .await
}

/// Names the author of the current transaction's changes for the journal
/// (transaction-local setting `alliance.key_id`).
pub fn set_actor(conn: &mut PgConnection, actor: Option<Uuid>) -> Result<(), Error> {
    diesel::sql_query("SELECT set_config('alliance.key_id', $1, true)")
        .bind::<diesel::sql_types::Text, _>(actor.map(|id| id.to_string()).unwrap_or_default())
        .execute(conn)?;
    Ok(())
}

/// Defines a Rust enum stored as `text` (the database constrains the values
/// with a CHECK) and exchanged as a JSON string, with its OpenAPI schema.
/// The text of each variant must be its name in snake_case, which is what
/// serde and the OpenAPI schema use.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// The value as stored and as exchanged in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text ),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                match text.as_str() {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(format!("unknown {} {other:?}", stringify!($name)).into()),
                }
            }
        }
    };
}
