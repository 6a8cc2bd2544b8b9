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
//! A copy read from the database is stored only if no change was
//! announced while it was being read (a generation number), so a read that
//! raced with a revocation never puts the old key back.

use crate::store::api_keys::{StoredKey, CHANGES_CHANNEL};
use postgres::config::SslMode;
use postgres::fallible_iterator::FallibleIterator;
use postgres_native_tls::MakeTlsConnector;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The announcement of a change of every key (`TRUNCATE api_keys`); no
/// prefix reads so (prefixes are hex digits).
pub const EVERY_KEY: &str = "*";

/// How long the listening thread waits for a notification before it checks
/// whether the server that owns the cache is gone.
const WAKE_EVERY: Duration = Duration::from_secs(1);

/// The longest pause between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The keys a server has seen lately, by prefix. Cheap to clone (shared).
#[derive(Clone)]
pub struct KeyCache(Arc<Inner>);

struct Inner {
    /// How long a copy is trusted; zero turns the cache off.
    ttl: Duration,
    state: RwLock<State>,
    /// The prefix of every key announced as changed.
    changed: broadcast::Sender<String>,
}

#[derive(Default)]
struct State {
    /// Whether the listening connection is listening now.
    live: bool,
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
            changed: broadcast::channel(64).0,
        }))
    }

    /// Whether the cache is on (a time to live above zero).
    pub fn enabled(&self) -> bool {
        !self.0.ttl.is_zero()
    }

    /// The copy of the key `prefix`, if the listener is listening and the
    /// copy is younger than the time to live.
    pub fn get(&self, prefix: &str) -> Option<Arc<StoredKey>> {
        let state = self.0.state.read().ok()?;
        let copy = state.keys.get(prefix).filter(|_| state.live)?;
        (copy.read_at.elapsed() < self.0.ttl).then(|| copy.key.clone())
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
        if state.live && state.generation == seen {
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
        // Nobody listening is fine.
        let _ = self.0.changed.send(prefix.to_owned());
    }

    /// Announcements of changed keys, from now on (see
    /// [`KeyCache::announced`]).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.0.changed.subscribe()
    }

    /// Waits, at most `limit`, until the listener has received the
    /// announcement of a change of the key `prefix`, on a receiver
    /// subscribed before the change committed. PostgreSQL sends every
    /// server's listener the announcement at the same moment, so once this
    /// server has it the others have it too (give or take their threads'
    /// scheduling). Returns at once when the cache is not listening.
    pub async fn announced(
        &self,
        mut changes: broadcast::Receiver<String>,
        prefix: &str,
        limit: Duration,
    ) {
        if !self.is_live() {
            return;
        }
        let wait = async {
            loop {
                match changes.recv().await {
                    Ok(changed) if changed == prefix => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        };
        let _ = actix_web::rt::time::timeout(limit, wait).await;
    }

    fn is_live(&self) -> bool {
        self.0.state.read().map(|s| s.live).unwrap_or(false)
    }

    fn set_live(&self, live: bool) {
        if let Ok(mut state) = self.0.state.write() {
            state.live = live;
            state.generation += 1;
            state.keys.clear();
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

/// How the cache's thread reaches the database.
struct Listener {
    config: postgres::Config,
    tls: Option<MakeTlsConnector>,
}

impl Listener {
    fn for_url(url: &str) -> Result<Self, String> {
        let config: postgres::Config = url.parse().map_err(|err| format!("{err}"))?;
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
        Ok(Self { config, tls })
    }

    fn run(&self, cache: &Weak<Inner>) {
        let mut pause = Duration::from_millis(100);
        while cache.strong_count() > 0 {
            match self.session(cache) {
                Ok(()) => return,
                Err(err) => {
                    if let Some(inner) = cache.upgrade() {
                        KeyCache(inner).set_live(false);
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
        client.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))?;
        match cache.upgrade() {
            Some(inner) => KeyCache(inner).set_live(true),
            None => return Ok(()),
        }
        loop {
            let next = client.notifications().timeout_iter(WAKE_EVERY).next()?;
            let Some(inner) = cache.upgrade() else {
                return Ok(());
            };
            match next {
                Some(notification) => KeyCache(inner).forget(notification.payload()),
                // Woken to check that the cache is still there; a closed
                // connection fails the next query.
                None if client.is_closed() => {
                    client.batch_execute("")?;
                }
                None => {}
            }
        }
    }
}
