//! Database creation and schema migrations.
//!
//! Several instances may start at once against an empty server: each creates
//! the database if missing (tolerating a concurrent creator) and then runs
//! the embedded migrations while holding a PostgreSQL advisory lock, so they
//! are applied exactly once. Under the same lock, a register restored from
//! another server gets its change feed's keys shifted past the restored
//! ones (see the migration `feed_shift`).

use diesel::pg::PgConnection;
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Advisory lock key held while migrating ("alliance" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x616c_6c69_616e_6365;

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    #[error("migration failed: {0}")]
    Migration(Box<dyn std::error::Error + Send + Sync>),
}

/// Creates the database named by `database_url` if needed and brings its
/// schema up to date. Returns the number of migrations applied.
pub fn prepare_database(database_url: &str) -> Result<usize, SetupError> {
    ensure_database_exists(database_url)?;
    run_migrations(database_url)
}

/// Creates the database named by `database_url` unless it exists, by way of
/// the server's `postgres` maintenance database. Returns whether this call
/// created it.
pub fn ensure_database_exists(database_url: &str) -> Result<bool, SetupError> {
    if PgConnection::establish(database_url).is_ok() {
        return Ok(false);
    }
    let (maintenance_url, name) = maintenance_url(database_url)?;
    let mut conn = PgConnection::establish(&maintenance_url)?;
    if database_exists(&mut conn, &name)? {
        return Ok(false);
    }
    match diesel::sql_query(format!("CREATE DATABASE {}", quote_identifier(&name)))
        .execute(&mut conn)
    {
        Ok(_) => {
            log::info!("created database {name}");
            Ok(true)
        }
        // Another instance created it between our check and our CREATE.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(err) if database_exists(&mut conn, &name)? => {
            log::debug!("database {name} was created concurrently: {err}");
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// Applies pending migrations under the advisory lock. Returns how many ran.
pub fn run_migrations(database_url: &str) -> Result<usize, SetupError> {
    let mut conn = PgConnection::establish(database_url)?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(SetupError::Migration);
    let shifted = match applied {
        Ok(_) => shift_feed_past_restored_keys(&mut conn).map_err(SetupError::Query),
        Err(_) => Ok(false),
    };
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(&mut conn)?;
    let applied = applied?;
    if shifted? {
        log::warn!(
            "the change feed's keys were ahead of this server's transaction ids (a database \
             restored from another server): later changes now follow the restored ones"
        );
    }
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    Ok(applied)
}

/// Raises `feed_shift.shift` when the journal holds a feed key beyond this
/// server's current transaction id plus the shift, as only a register
/// restored from a server further on in its transaction ids does (see the
/// migration `feed_shift`): every later key is then larger than every
/// restored one, and the restored changes are settled. Returns whether it
/// did. Run under the migration lock, before the service writes.
fn shift_feed_past_restored_keys(conn: &mut PgConnection) -> Result<bool, DieselError> {
    let shifted = diesel::sql_query(
        "UPDATE feed_shift
            SET shift = (SELECT max(feed_key) FROM journal) + 1 - pg_current_xact_id()::text::bigint
          WHERE (SELECT max(feed_key) FROM journal) > pg_current_xact_id()::text::bigint + shift",
    )
    .execute(conn)?;
    Ok(shifted > 0)
}

/// The URL of the `postgres` database on the same server, and the name of
/// the database `database_url` points at.
pub fn maintenance_url(database_url: &str) -> Result<(String, String), SetupError> {
    let mut url =
        url::Url::parse(database_url).map_err(|err| SetupError::InvalidUrl(err.to_string()))?;
    let encoded = url.path().trim_start_matches('/').to_owned();
    let name = percent_encoding::percent_decode_str(&encoded)
        .decode_utf8_lossy()
        .into_owned();
    if name.is_empty() {
        return Err(SetupError::InvalidUrl("the URL names no database".into()));
    }
    url.set_path("/postgres");
    Ok((url.to_string(), name))
}

/// Quotes `name` as an SQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, DieselError> {
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result::<Exists>(conn)
        .map(|row| row.exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_url_keeps_server_and_options() {
        let (url, name) =
            maintenance_url("postgres://u:p@db.example:5433/my%20db?sslmode=disable").unwrap();
        assert_eq!(
            url,
            "postgres://u:p@db.example:5433/postgres?sslmode=disable"
        );
        assert_eq!(name, "my db");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier(r#"a"b"#), r#""a""b""#);
    }
}
