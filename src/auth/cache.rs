//! The in-process cache of API keys, so that a request whose key was seen
//! lately is authenticated without a database round trip.
//!
//! A key's copy is dropped as soon as the key changes anywhere: PostgreSQL
//! announces every change of a key on [`CHANGES_CHANNEL`] when it commits
//! (a trigger, whoever makes the change), and each server keeps one
//! connection listening there (a thread of its own, [`KeyCache::listen`]).
//! While that connection is not listening — at start, after it is lost,
//! until it listens again — the cache serves nothing and every request
//! reads its key from the database, as without a cache. As a safety net
//! against a notification lost some other way, a copy is also dropped once
//! it is older than the cache's time to live.
//!
//! A change made through this service answers only once every server has
//! dropped the key ([`await_every_cache`]): each listening server holds a
//! lease in the database, renewed every second, and acknowledges probes
//! sent after the change; a server whose lease ran out serves nothing from
//! its cache until it has renewed the lease and emptied the cache.
//!
//! A copy read from the database is stored only if no change was
//! announced while it was being read (a generation number), so a read that
//! raced with a revocation never puts the old key back.

use crate::error::Error;
use crate::store::api_keys::{self, StoredKey, CHANGES_CHANNEL, PROBE_PREFIX};
use diesel::pg::PgConnection;
use postgres::config::SslMode;
use postgres::fallible_iterator::FallibleIterator;
use postgres_native_tls::MakeTlsConnector;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The announcement of a change of every key (`TRUNCATE api_keys`); no
/// prefix reads so (prefixes are hex digits).
pub const EVERY_KEY: &str = "*";

/// How long a listening server's lease runs from the moment it asked to
/// renew it. A server that stopped renewing is waited for no longer.
const LEASE: Duration = Duration::from_secs(3);

/// How often the listening thread renews its lease (and checks whether the
/// server that owns the cache is gone).
const RENEW_EVERY: Duration = Duration::from_secs(1);

/// How the listening connection names itself to PostgreSQL (unless the
/// database URL names its connections).
pub const APPLICATION_NAME: &str = "alliance-registry key cache";

/// How often a wait for the acknowledgements looks again.
pub const PROBE_POLL: Duration = Duration::from_millis(2);

/// The longest pause between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The keys a server has seen lately, by prefix. Cheap to clone (shared).
#[derive(Clone)]
pub struct KeyCache(Arc<Inner>);

struct Inner {
    /// How long a copy is trusted; zero turns the cache off.
    ttl: Duration,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    /// Until when the cache may serve: the listening connection listens
    /// and its lease runs (none while it is not listening).
    lease_ends: Option<Instant>,
    /// Counts announced changes (and losses of the listener).
    generation: u64,
    keys: HashMap<String, Copy>,
}

struct Copy {
    key: Arc<StoredKey>,
    read_at: Instant,
}

impl KeyCache {
    /// A cache that trusts a copy for `ttl` (zero: no cache at all). It
    /// serves nothing until [`KeyCache::listen`] has started listening.
    pub fn new(ttl: Duration) -> Self {
        Self(Arc::new(Inner {
            ttl,
            state: RwLock::new(State::default()),
        }))
    }

    /// Whether the cache is on (a time to live above zero).
    pub fn enabled(&self) -> bool {
        !self.0.ttl.is_zero()
    }

    /// The copy of the key `prefix`, if the listener is listening, its
    /// lease runs and the copy is younger than the time to live.
    pub fn get(&self, prefix: &str) -> Option<Arc<StoredKey>> {
        let state = self.0.state.read().ok()?;
        let now = Instant::now();
        let copy = state
            .keys
            .get(prefix)
            .filter(|_| state.lease_ends.is_some_and(|end| now < end))?;
        (now.duration_since(copy.read_at) < self.0.ttl).then(|| copy.key.clone())
    }

    /// The current generation: pass it to [`KeyCache::put`] with a key read
    /// from the database after this call.
    pub fn generation(&self) -> u64 {
        self.0
            .state
            .read()
            .map(|s| s.generation)
            .unwrap_or(u64::MAX)
    }

    /// Keeps `key`, read from the database after [`KeyCache::generation`]
    /// returned `seen`, unless a change was announced since (or the cache
    /// is off or not listening).
    pub fn put(&self, key: StoredKey, seen: u64) {
        if !self.enabled() {
            return;
        }
        let Ok(mut state) = self.0.state.write() else {
            return;
        };
        if state.lease_ends.is_some() && state.generation == seen {
            let prefix = key.record.prefix.clone();
            let copy = Copy {
                key: Arc::new(key),
                read_at: Instant::now(),
            };
            state.keys.insert(prefix, copy);
        }
    }

    /// Drops the copy of the key `prefix` (announced as changed), or of
    /// every key for [`EVERY_KEY`].
    pub fn forget(&self, prefix: &str) {
        if let Ok(mut state) = self.0.state.write() {
            state.generation += 1;
            if prefix == EVERY_KEY {
                state.keys.clear();
            } else {
                state.keys.remove(prefix);
            }
        }
    }

    /// Stops serving: the listening connection was lost.
    fn lost(&self) {
        if let Ok(mut state) = self.0.state.write() {
            state.lease_ends = None;
            state.generation += 1;
            state.keys.clear();
        }
    }

    /// Records a lease renewed (or first taken) until `ends`. If the
    /// previous lease had run out — changes may have answered without this
    /// server's acknowledgement — every copy is dropped first.
    fn renewed(&self, ends: Instant) {
        if let Ok(mut state) = self.0.state.write() {
            if state.lease_ends.is_none_or(|end| end <= Instant::now()) {
                state.generation += 1;
                state.keys.clear();
            }
            state.lease_ends = Some(ends);
        }
    }

    /// Starts the thread that listens for changes of keys on a connection
    /// of its own to `database_url`, listening again (after a pause
    /// growing to 10 s) whenever the connection is lost. The thread ends
    /// once the cache is dropped. Does nothing when the cache is off, and
    /// leaves it off (with a warning) when the URL cannot be listened on.
    ///
    /// The connection is encrypted when the URL says `sslmode=require`
    /// (without verifying the server's certificate, as libpq does in that
    /// mode); under `prefer` (libpq's default) or `disable` it is not.
    pub fn listen(&self, database_url: &str) -> std::io::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let listener = match Listener::for_url(database_url) {
            Ok(listener) => listener,
            Err(err) => {
                log::warn!("key cache off: {err}; every request reads its key from the database");
                return Ok(());
            }
        };
        let cache = Arc::downgrade(&self.0);
        std::thread::Builder::new()
            .name("key-cache".into())
            .spawn(move || listener.run(&cache))
            .map(drop)
    }
}

/// A wait for every server that caches keys to process the key changes
/// committed before it began: a probe announced after them, and the
/// listening servers that have not acknowledged it yet.
pub struct Probe {
    id: Uuid,
    waiting: Vec<Uuid>,
    give_up: Instant,
}

impl Probe {
    /// Announces a probe to the servers whose lease runs (none: `None`,
    /// nothing to wait for).
    pub fn send(conn: &mut PgConnection) -> Result<Option<Self>, Error> {
        Ok(api_keys::probe_caches(conn)?.map(|(id, waiting)| Self {
            id,
            waiting,
            // A server that neither acknowledges nor renews is waited for
            // until its lease would have run out without renewal.
            give_up: Instant::now() + LEASE + RENEW_EVERY,
        }))
    }

    /// Looks again; true once every server acknowledged or lost its lease
    /// (or the wait ran out).
    pub fn settled(&mut self, conn: &mut PgConnection) -> Result<bool, Error> {
        self.waiting = api_keys::unacknowledged(conn, self.id, &self.waiting)?;
        Ok(self.waiting.is_empty() || Instant::now() >= self.give_up)
    }

    /// Ends the wait: deletes the probe's acknowledgements and returns the
    /// servers that neither acknowledged nor lost their lease in time (none,
    /// unless a server renews its lease without reading its notifications).
    pub fn finish(self, conn: &mut PgConnection) -> Result<Vec<Uuid>, Error> {
        api_keys::forget_probe(conn, self.id)?;
        Ok(self.waiting)
    }
}

/// Waits on `conn` until every server that caches keys has processed the
/// key changes committed before this call (see [`Probe`]).
pub fn await_every_cache(conn: &mut PgConnection) -> Result<Vec<Uuid>, Error> {
    let Some(mut probe) = Probe::send(conn)? else {
        return Ok(Vec::new());
    };
    while !probe.settled(conn)? {
        std::thread::sleep(PROBE_POLL);
    }
    probe.finish(conn)
}

/// How the cache's thread reaches the database.
struct Listener {
    /// This server's row in `key_cache_listeners`.
    id: String,
    config: postgres::Config,
    tls: Option<MakeTlsConnector>,
}

impl Listener {
    fn for_url(url: &str) -> Result<Self, String> {
        let mut config: postgres::Config = url.parse().map_err(|err| format!("{err}"))?;
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        let tls = match config.get_ssl_mode() {
            SslMode::Require => Some(MakeTlsConnector::new(
                native_tls::TlsConnector::builder()
                    .danger_accept_invalid_certs(true)
                    .danger_accept_invalid_hostnames(true)
                    .build()
                    .map_err(|err| err.to_string())?,
            )),
            _ => None,
        };
        let id = Uuid::new_v4().to_string();
        Ok(Self { id, config, tls })
    }

    fn run(&self, cache: &Weak<Inner>) {
        let mut pause = Duration::from_millis(100);
        while cache.strong_count() > 0 {
            match self.session(cache) {
                Ok(()) => return,
                Err(err) => {
                    if let Some(inner) = cache.upgrade() {
                        KeyCache(inner).lost();
                        log::warn!(
                            "key cache: not listening for key changes ({err}); \
                             keys are read from the database until it listens again"
                        );
                    }
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// Listens until the cache is dropped (Ok) or the connection fails.
    fn session(&self, cache: &Weak<Inner>) -> Result<(), postgres::Error> {
        let mut client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone())?,
            None => self.config.connect(postgres::NoTls)?,
        };
        // Listening and registering commit together: a server that a
        // change finds registered receives the probe sent after it.
        let mut register = client.transaction()?;
        register.batch_execute(&format!(
            "LISTEN {CHANGES_CHANNEL}; \
             DELETE FROM key_cache_listeners \
              WHERE lease_until < clock_timestamp() - interval '1 hour'"
        ))?;
        let mut lease = self.renew(&mut register)?;
        register.commit()?;
        loop {
            match cache.upgrade() {
                Some(inner) => KeyCache(inner).renewed(lease),
                None => return self.leave(&mut client),
            }
            let renew_at = lease - LEASE + RENEW_EVERY;
            while let Some(wait) = renew_at.checked_duration_since(Instant::now()) {
                let Some(notification) = client.notifications().timeout_iter(wait).next()? else {
                    break;
                };
                let Some(inner) = cache.upgrade() else {
                    return self.leave(&mut client);
                };
                match notification.payload().strip_prefix(PROBE_PREFIX) {
                    Some(probe) => self.acknowledge(&mut client, probe)?,
                    None => KeyCache(inner).forget(notification.payload()),
                }
            }
            lease = self.renew(&mut client)?;
        }
    }

    /// Renews this server's lease; returns when it ends (counted from
    /// before the request, so never later than the database's reckoning).
    /// Acknowledgements older than a minute are deleted on the way.
    fn renew(&self, client: &mut impl postgres::GenericClient) -> Result<Instant, postgres::Error> {
        let asked = Instant::now();
        client.execute(
            "WITH stale AS (DELETE FROM key_cache_acks \
                             WHERE acked_at < clock_timestamp() - interval '1 minute') \
             INSERT INTO key_cache_listeners (id, lease_until) \
             VALUES ($1::text::uuid, clock_timestamp() + make_interval(secs => $2)) \
             ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until",
            &[&self.id, &LEASE.as_secs_f64()],
        )?;
        Ok(asked + LEASE)
    }

    /// Acknowledges `probe`: every change announced before it is processed.
    fn acknowledge(
        &self,
        client: &mut postgres::Client,
        probe: &str,
    ) -> Result<(), postgres::Error> {
        if Uuid::parse_str(probe).is_ok() {
            client.execute(
                "INSERT INTO key_cache_acks (probe, listener) \
                 VALUES ($1::text::uuid, $2::text::uuid) ON CONFLICT DO NOTHING",
                &[&probe, &self.id],
            )?;
        }
        Ok(())
    }

    /// Ends this server's lease: its cache is gone.
    fn leave(&self, client: &mut postgres::Client) -> Result<(), postgres::Error> {
        client.execute(
            "DELETE FROM key_cache_listeners WHERE id = $1::text::uuid",
            &[&self.id],
        )?;
        Ok(())
    }
}
