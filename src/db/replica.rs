//! Reads from a streaming replica (`DATABASE_REPLICA_URL`), and the WAL
//! positions that give a client its own writes there.
//!
//! Which reads may go to the replica is declared with their routes (see
//! [`crate::api::routes`]); everything else reads and writes through the
//! primary's pool. A read sent to the replica runs there when the replica
//! can be reached and has replayed the client's `Min-Position`; otherwise
//! it runs on the primary.

use super::{run, PgPool};
use crate::error::Error;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The pool of the streaming replica; in the app data when one is
/// configured. Its sessions are read-only: the service never writes (nor
/// migrates) through it. After a read failed there for want of the server,
/// reads skip it for [`Replica::PAUSE`], so that an outage of the replica
/// does not cost every read a connection timeout.
#[derive(Clone)]
pub struct Replica {
    pool: PgPool,
    skipped_until: Arc<Mutex<Option<Instant>>>,
}

impl Replica {
    /// How long reads skip a replica that failed.
    pub const PAUSE: Duration = Duration::from_secs(5);

    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            skipped_until: Arc::default(),
        }
    }

    fn skipped(&self) -> bool {
        let until = self.skipped_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    fn failed(&self) {
        *self.skipped_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + Self::PAUSE);
    }
}

/// A position in PostgreSQL's write-ahead log, as `pg_lsn` writes it: two
/// hexadecimal numbers of at most 8 digits, e.g. `0/3000148`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(u64);

impl Lsn {
    /// The pattern of its text (the `Write-Position` and `Min-Position`
    /// headers).
    pub const PATTERN: &'static str = "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$";

    /// Parses `0/3000148`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (high, low) = text.split_once('/')?;
        let part = |digits: &str| {
            (1..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !part(high) || !part(low) {
            return None;
        }
        let high = u64::from_str_radix(high, 16).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        Some(Self(high << 32 | low))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Text)]
    lsn: String,
}

/// Where the WAL ends now, as seen by `conn`: right after a COMMIT, a
/// position at or past that commit's record. A replica that has replayed
/// it shows what the transaction wrote.
pub fn current_position(conn: &mut PgConnection) -> Result<Lsn, Error> {
    let Position { lsn } =
        diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS lsn").get_result(conn)?;
    Lsn::parse(&lsn).ok_or_else(|| Error::internal(format!("unexpected WAL position {lsn:?}")))
}

#[derive(QueryableByName)]
struct Replayed {
    #[diesel(sql_type = Bool)]
    replayed: bool,
}

/// Whether the server of `conn` is a standby that has replayed the WAL up
/// to `min` (a promoted or primary server answers no).
fn has_replayed(conn: &mut PgConnection, min: Lsn) -> Result<bool, Error> {
    let Replayed { replayed } = diesel::sql_query(
        "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS replayed",
    )
    .bind::<Text, _>(min.to_string())
    .get_result(conn)?;
    Ok(replayed)
}

/// Where a read that tolerates lag runs: the replica, if there is one,
/// unless it has not replayed `min` yet; else the primary.
#[derive(Clone)]
pub struct Reads {
    pub primary: PgPool,
    pub replica: Option<Replica>,
    /// The client's last write position (`Min-Position`).
    pub min: Option<Lsn>,
}

/// What happened to a read tried on the replica.
enum Tried<T> {
    Done(Result<T, Error>),
    /// The replica has not replayed the client's position.
    Behind,
}

/// Runs `work` (see [`run`]) on the replica when `reads` has one that is
/// reachable and has replayed `reads.min`, else on the primary. The work
/// runs on the primary too when it failed on the replica for want of the
/// server (a checkout that timed out, a lost connection, a query that
/// recovery cancelled): `work` is cloned for that second try, and the
/// replica is skipped for a while.
pub async fn read<T, F>(reads: &Reads, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error> + Clone + Send + 'static,
    T: Send + 'static,
{
    let Some(replica) = reads.replica.as_ref().filter(|replica| !replica.skipped()) else {
        return run(&reads.primary, work).await;
    };
    let min = reads.min;
    let first = work.clone();
    let tried = run(&replica.pool, move |conn| {
        if let Some(min) = min {
            if !has_replayed(conn, min)? {
                return Ok(Tried::Behind);
            }
        }
        Ok(Tried::Done(first(conn)))
    })
    .await;
    match tried {
        Ok(Tried::Done(Ok(value))) => Ok(value),
        // The client's own mistakes are the same on the primary.
        Ok(Tried::Done(Err(err))) if !on_the_server(&err) => Err(err),
        Ok(Tried::Behind) => run(&reads.primary, work).await,
        Ok(Tried::Done(Err(err))) | Err(err) => {
            log::warn!("a read failed on the replica, which reads skip for a while: {err}");
            replica.failed();
            run(&reads.primary, work).await
        }
    }
}

/// Whether `err` came from the server rather than from the request.
fn on_the_server(err: &Error) -> bool {
    matches!(err, Error::Unavailable(_) | Error::Internal(_))
}

tokio::task_local! {
    /// The position after the last write of the request being served, when
    /// its write positions are tracked (see [`tracking_writes`]).
    static WRITTEN: std::cell::Cell<Option<Lsn>>;
}

/// Runs `request` (an HTTP request being served), noting where the WAL
/// ends after each of its transactions; returns its outcome and the last
/// position noted (none when it wrote nothing).
pub async fn tracking_writes<F: std::future::Future>(request: F) -> (F::Output, Option<Lsn>) {
    WRITTEN
        .scope(std::cell::Cell::new(None), async move {
            let outcome = request.await;
            (outcome, WRITTEN.with(std::cell::Cell::get))
        })
        .await
}

/// Whether the request being served tracks its write positions.
pub(super) fn tracked() -> bool {
    WRITTEN.try_with(|_| ()).is_ok()
}

/// Notes `position` as where the request being served last wrote.
pub(super) fn note(position: Lsn) {
    let _ = WRITTEN.try_with(|written| written.set(Some(position)));
}

#[cfg(test)]
mod tests {
    use super::Lsn;

    #[test]
    fn positions_read_and_write_as_pg_lsn_does() {
        for text in ["0/3000148", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/0"] {
            assert_eq!(Lsn::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Lsn::parse("0/3000148"), Lsn::parse("00/03000148"));
        assert!(Lsn::parse("1/0") > Lsn::parse("0/FFFFFFFF"));
        for bad in [
            "",
            "0",
            "/1",
            "1/",
            "0/3000148/1",
            "G/1",
            "123456789/0",
            " 0/1",
            "+1/1",
        ] {
            assert_eq!(Lsn::parse(bad), None, "{bad:?}");
        }
    }
}
