//! Request allowances per API key, kept in PostgreSQL so that every
//! instance of the service enforces one limit per key (migration
//! `shared_rate_limits`: a continuously refilled bucket per key).

use crate::error::Error;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Uuid as SqlUuid};
use std::num::NonZeroU32;
use std::time::Duration;
use uuid::Uuid;

diesel::define_sql_function! {
    /// Takes one request of `key`'s allowance: 0, or the seconds until a
    /// request would be allowed (nothing taken).
    fn rate_limit_take(key: SqlUuid, per_minute: Integer) -> Double;
}

/// Takes one request of `key`'s allowance of `per_minute` requests a
/// minute (as many at once, then one every `60 / per_minute` seconds).
/// `None`: go ahead; `Some(wait)`: refused, allowed again after `wait`.
pub fn take(
    conn: &mut PgConnection,
    key: Uuid,
    per_minute: NonZeroU32,
) -> Result<Option<Duration>, Error> {
    let per_minute = i32::try_from(per_minute.get()).unwrap_or(i32::MAX);
    let wait: f64 = diesel::select(rate_limit_take(key, per_minute)).get_result(conn)?;
    Ok((wait > 0.0).then(|| Duration::from_secs_f64(wait)))
}
