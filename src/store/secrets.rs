//! Server secrets kept in the database, so that every instance of a
//! deployment uses the same ones (e.g. the key that signs cursors).

use crate::error::Error;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bytea, Text};
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Secret {
    #[diesel(sql_type = Bytea)]
    secret: Vec<u8>,
}

/// The secret called `name`; the first caller creates it (32 random bytes),
/// concurrent first callers agree on one.
pub fn get_or_create(conn: &mut PgConnection, name: &str) -> Result<Vec<u8>, Error> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(Error::internal)?;
    diesel::sql_query(
        "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind::<Text, _>(name)
    .bind::<Bytea, _>(fresh.to_vec())
    .execute(conn)?;
    let stored: Secret = diesel::sql_query("SELECT secret FROM server_secrets WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result(conn)?;
    Ok(stored.secret)
}
