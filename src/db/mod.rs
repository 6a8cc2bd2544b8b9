//! Database access: the connection pool, the bridge that runs blocking
//! diesel work off the async workers, migrations and the schema.

pub mod migrate;
pub mod replica;
pub mod schema;

use crate::config::Settings;
use crate::error::Error;
use crate::metrics::{ConnectErrors, PoolEvents};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool};
use uuid::Uuid;

/// The r2d2 pool of PostgreSQL connections.
pub type PgPool = Pool<Manager>;

/// Builds the pool without connecting: connections are made on demand, so
/// the server starts (and reports not-ready) while the database is down.
///
/// A connection is not tested when it is checked out (that would cost
/// every request a round trip); instead one whose work failed as if the
/// database were unavailable is tested then, and dropped if it is lost
/// (see [`run`]), so the pool recovers from a database restart by itself.
///
/// `events` sees every checkout (how long it waited, or that it timed
/// out); connections that cannot be opened are logged and counted.
pub fn build_pool(settings: &Settings, events: PoolEvents) -> PgPool {
    pool_of(settings, &settings.database_url, false, events)
}

/// The pool of the streaming replica, when `DATABASE_REPLICA_URL` names
/// one: built as the primary's, with the same settings, its sessions
/// read-only; its checkouts go to `events` too.
pub fn build_replica_pool(settings: &Settings, events: PoolEvents) -> Option<replica::Replica> {
    let url = settings.database_replica_url.as_deref()?;
    Some(replica::Replica::new(pool_of(settings, url, true, events)))
}

/// The metrics server's own pool: one read-only connection, checked out
/// within a second at most, its checkouts not in the metrics. Apart from
/// the requests' pool, so that a busy service does not read as a down
/// database and a scrape answers within about a second while the database
/// is down.
pub fn build_scrape_pool(settings: &Settings) -> PgPool {
    let limit = settings.db_connect_timeout.min(SCRAPE_TIMEOUT);
    builder(limit, true, 1, limit)
        .build_unchecked(Manager(ConnectionManager::new(&settings.database_url)))
}

/// Longest a scrape waits for the database.
const SCRAPE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

fn pool_of(settings: &Settings, url: &str, read_only: bool, events: PoolEvents) -> PgPool {
    builder(
        settings.statement_timeout,
        read_only,
        settings.db_pool_size,
        settings.db_connect_timeout,
    )
    .event_handler(Box::new(events))
    .build_unchecked(Manager(ConnectionManager::new(url)))
}

/// What every pool shares: sessions with `statement_timeout` (read-only
/// ones if `read_only`), up to `size` connections opened on demand, a
/// checkout waiting up to `checkout`, connections that cannot be opened
/// logged and counted.
fn builder(
    statement_timeout: std::time::Duration,
    read_only: bool,
    size: u32,
    checkout: std::time::Duration,
) -> diesel::r2d2::Builder<Manager> {
    Pool::builder()
        .error_handler(Box::new(ConnectErrors))
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout_ms: statement_timeout.as_millis(),
            read_only,
        }))
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(checkout)
        .test_on_check_out(false)
}

/// A pooled connection: diesel's, and whether it was found lost.
pub struct Pooled {
    pub conn: PgConnection,
    lost: bool,
}

/// Diesel's r2d2 manager, which also drops connections found lost.
#[derive(Debug)]
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        Ok(Pooled {
            conn: self.0.connect()?,
            lost: false,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        self.0.is_valid(&mut pooled.conn)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.lost || self.0.has_broken(&mut pooled.conn)
    }
}

/// Settings of every pooled connection's session.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u128,
    /// Sessions of the replica's pool: no transaction may write.
    read_only: bool,
}

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, Pooled { conn, .. }: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        // lock_timeout bounds lock waits as statement_timeout does,
        // including any at COMMIT, where statement_timeout no longer runs.
        let ms = self.statement_timeout_ms;
        let read_only = if self.read_only { "on" } else { "off" };
        conn.batch_execute(&format!(
            "SET statement_timeout = {ms}; SET lock_timeout = {ms}; \
             SET default_transaction_read_only = {read_only}"
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
        let mut pooled = pool.get()?;
        let outcome = work(&mut pooled.conn);
        if matches!(outcome, Err(Error::Unavailable(_))) {
            // Busy, or gone (a restarted database)? A lost connection is
            // dropped instead of being handed to the next request.
            pooled.lost = pooled.conn.batch_execute("SELECT 1").is_err();
        }
        outcome
    })
    .await
    .map_err(Error::internal)?
}

/// Like [`run`], inside one transaction: everything `work` writes commits
/// together or not at all. `actor`, the API key making the change, is what
/// the journal triggers record as its author. Where the request tracks its
/// write positions ([`replica::tracking_writes`]), the position after the
/// commit is read on the same connection and noted.
pub async fn transaction<T, F>(pool: &PgPool, actor: Option<Uuid>, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    let tracked = replica::tracked();
    let (value, position) = run(pool, move |conn| {
        let value = in_transaction(conn, actor, work)?;
        // Committed: a failure to read the position must not fail the write.
        let position = tracked
            .then(|| replica::current_position(conn))
            .transpose()
            .unwrap_or_else(|err| {
                log::warn!("no write position after a commit: {err}");
                None
            });
        Ok((value, position))
    })
    .await?;
    if let Some(position) = position {
        replica::note(position);
    }
    Ok(value)
}

/// Runs `work` in a transaction of `conn` whose changes the journal
/// records as made by `actor` (the transaction-local setting
/// `alliance.key_id`); commits if it succeeds, rolls back otherwise.
/// `BEGIN` and the setting travel to PostgreSQL together: one round trip
/// less for every write.
pub fn in_transaction<T, F>(
    conn: &mut PgConnection,
    actor: Option<Uuid>,
    work: F,
) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    // A UUID's text is hex digits and hyphens: nothing to quote.
    let actor = actor
        .map(|id| id.hyphenated().to_string())
        .unwrap_or_default();
    if let Err(err) = AnsiTransactionManager::begin_transaction_sql(
        conn,
        &format!("BEGIN; SELECT set_config('alliance.key_id', '{actor}', true)"),
    ) {
        // BEGIN may have run before the setting failed (a cancelled
        // statement): leave no transaction open on a pooled connection.
        let _ = conn.batch_execute("ROLLBACK");
        return Err(err.into());
    }
    match work(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        // As diesel's own `transaction`: the work's error is the one that
        // matters, unless the rollback itself failed otherwise.
        Err(err) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
            Err(rollback) => Err(rollback.into()),
        },
    }
}
