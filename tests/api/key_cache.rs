//! The servers' cache of API keys: a change of a key, by whoever makes it,
//! reaches every cache at once; a copy no announcement reached is trusted
//! no longer than the cache's lifetime; a server that stopped listening
//! trusts no copy. And the pool replaces connections the database dropped.

use crate::helpers::{mint_key, spawn_app_with, test_settings, TestApp};
use alliance_registry::app::Application;
use alliance_registry::auth::cache::APPLICATION_NAME;
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use std::time::{Duration, Instant};

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// The backend of the server's listening connection, once it listens and
/// has registered (committed its first lease).
fn listener(app: &TestApp) -> Option<i32> {
    diesel::sql_query(format!(
        "SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = '{APPLICATION_NAME}'
            AND state = 'idle' AND query <> ''"
    ))
    .get_result::<Backend>(&mut app.db.connect())
    .optional()
    .unwrap()
    .map(|backend| backend.pid)
}

/// Waits until the server listens on a backend other than `before`.
async fn listening(app: &TestApp, before: Option<i32>) -> i32 {
    let started = Instant::now();
    loop {
        match listener(app) {
            Some(pid) if Some(pid) != before => {
                // The server takes the listener as live right after it
                // registered.
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                return pid;
            }
            _ if started.elapsed() > Duration::from_secs(15) => panic!("the server never listens"),
            _ => actix_web::rt::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.send(app.request_as(Method::GET, "/v1/people", Some(token)), None)
        .await
        .status
}

/// Changes the key `token` names with `sql` (`$key` stands for its
/// prefix), outside the API.
fn change_key(app: &TestApp, token: &str, sql: &str) {
    let prefix = token.split('_').nth(1).unwrap();
    let sql = sql.replace("$key", &format!("'{prefix}'"));
    diesel::sql_query(sql)
        .execute(&mut app.db.connect())
        .unwrap();
}

/// Revokes the key `token` names in SQL, outside the API.
fn revoke_in_sql(app: &TestApp, token: &str) {
    change_key(
        app,
        token,
        "UPDATE api_keys SET revoked_at = now() WHERE prefix = $key",
    );
}

/// Turns the announcements of key changes off, as a lost notification
/// would look to the server.
fn silence_announcements(app: &TestApp) {
    diesel::sql_query("ALTER TABLE api_keys DISABLE TRIGGER api_key_changes")
        .execute(&mut app.db.connect())
        .unwrap();
}

/// Polls until the key `token` is answered `expected`, for at most 2 s.
async fn answered_within(app: &TestApp, token: &str, expected: u16) -> Duration {
    let started = Instant::now();
    while status(app, token).await != expected {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still not {expected} after 2 s"
        );
    }
    started.elapsed()
}

#[actix_web::test]
async fn a_key_changed_by_any_writer_is_dropped_from_every_cache_at_once() {
    let app = spawn_app_with(|_| {}).await;
    listening(&app, None).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    for _ in 0..3 {
        assert_eq!(status(&app, &token).await, 200);
    }
    // Scopes taken away in SQL, not through the API.
    change_key(
        &app,
        &token,
        "UPDATE api_keys SET scopes = '{pii}' WHERE prefix = $key",
    );
    answered_within(&app, &token, 403).await;
    change_key(
        &app,
        &token,
        "UPDATE api_keys SET scopes = '{read}' WHERE prefix = $key",
    );
    answered_within(&app, &token, 200).await;
    revoke_in_sql(&app, &token);
    answered_within(&app, &token, 401).await;
}

#[actix_web::test]
async fn a_cached_key_is_trusted_no_longer_than_the_cache_lifetime_without_an_announcement() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::from_secs(1)).await;
    listening(&app, None).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert_eq!(status(&app, &token).await, 200);
    silence_announcements(&app);
    let revoked = Instant::now();
    revoke_in_sql(&app, &token);
    assert_eq!(
        status(&app, &token).await,
        200,
        "served from the cache: nothing announced the revocation"
    );
    while status(&app, &token).await == 200 {
        assert!(revoked.elapsed() < Duration::from_secs(3));
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked.elapsed() >= Duration::from_millis(900));
    assert_eq!(status(&app, &token).await, 401);
}

#[actix_web::test]
async fn a_server_that_lost_its_listening_connection_forgets_every_key_it_held() {
    let app = spawn_app_with(|_| {}).await;
    let first = listening(&app, None).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert_eq!(status(&app, &token).await, 200);
    diesel::sql_query(format!("SELECT pg_terminate_backend({first})"))
        .execute(&mut app.db.connect())
        .unwrap();
    listening(&app, Some(first)).await;
    // No announcement can reach it now; only a forgotten copy is safe.
    silence_announcements(&app);
    revoke_in_sql(&app, &token);
    assert_eq!(status(&app, &token).await, 401);
}

#[actix_web::test]
async fn without_a_cache_every_request_reads_its_key() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::ZERO).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert_eq!(status(&app, &token).await, 200);
    assert_eq!(listener(&app), None, "nothing listens");
    silence_announcements(&app);
    revoke_in_sql(&app, &token);
    assert_eq!(status(&app, &token).await, 401);
}

#[actix_web::test]
async fn connections_the_database_dropped_are_replaced_without_a_restart() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::ZERO).await;
    for _ in 0..8 {
        app.get("/v1/organizations").await.expect(200);
    }
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut app.db.connect())
    .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.get("/v1/organizations").await.status);
    }
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 503)),
        "{statuses:?}"
    );
    assert!(
        statuses[4..].iter().all(|s| *s == 200),
        "each lost connection fails one request at most: {statuses:?}"
    );
}

#[derive(QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

#[actix_web::test]
async fn a_database_url_requiring_tls_is_listened_on_over_tls() {
    let app = spawn_app_with(|s| s.database_url.push_str("?sslmode=require")).await;
    let offered = diesel::sql_query("SELECT current_setting('ssl') = 'on' AS ssl")
        .get_result::<Encrypted>(&mut app.db.connect())
        .unwrap()
        .ssl;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert!(
        offered,
        "the test server offers TLS (Debian's PostgreSQL does, with its snakeoil certificate)"
    );
    let pid = listening(&app, None).await;
    let encrypted = diesel::sql_query(format!("SELECT ssl FROM pg_stat_ssl WHERE pid = {pid}"))
        .get_result::<Encrypted>(&mut app.db.connect())
        .unwrap()
        .ssl;
    assert!(encrypted);
    assert_eq!(status(&app, &token).await, 200);
    revoke_in_sql(&app, &token);
    answered_within(&app, &token, 401).await;
}

/// `TRUNCATE` is a change of every key too, but the trigger announces
/// only row changes: the servers keep serving the keys it removed.
#[actix_web::test]
async fn keys_removed_by_truncate_are_dropped_from_the_cache() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::from_secs(60)).await;
    listening(&app, None).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert_eq!(status(&app, &token).await, 200);
    assert_eq!(status(&app, &token).await, 200);
    diesel::sql_query("TRUNCATE api_keys CASCADE")
        .execute(&mut app.db.connect())
        .unwrap();
    answered_within(&app, &token, 401).await;
}

#[actix_web::test]
async fn writes_on_connections_the_database_dropped_are_503_then_succeed() {
    let app = spawn_app_with(|_| {}).await;
    for n in 0..8 {
        app.post(
            "/v1/organizations",
            &serde_json::json!({"name": format!("Unit {n}"), "kind": "enterprise"}),
        )
        .await
        .expect(201);
    }
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut app.db.connect())
    .unwrap();
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(
            app.post(
                "/v1/organizations",
                &serde_json::json!({"name": format!("Later {n}"), "kind": "enterprise"}),
            )
            .await
            .status,
        );
    }
    assert!(
        statuses.iter().all(|s| matches!(s, 201 | 503)),
        "{statuses:?}"
    );
    assert!(statuses[4..].iter().all(|s| *s == 201), "{statuses:?}");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Settings for another server on the database of `app`, caching keys
/// for `seconds`.
fn test_settings_ttl(app: &TestApp, seconds: u64) -> alliance_registry::config::Settings {
    let mut settings = test_settings(&app.db.url);
    settings.key_cache_ttl = Duration::from_secs(seconds);
    settings
}

fn count(app: &TestApp, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut app.db.connect())
        .unwrap()
        .n
}

/// Waits until `n` servers hold a lease on the database of `app`.
async fn leases(app: &TestApp, n: i64) {
    let started = Instant::now();
    while count(
        app,
        "SELECT count(*) AS n FROM key_cache_listeners WHERE lease_until > clock_timestamp()",
    ) < n
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never {n} leases"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // Each server serves from its cache right after it registered.
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
}

#[actix_web::test]
async fn a_revocation_answers_once_every_instance_has_dropped_the_key() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::from_secs(60)).await;
    let mut others = Vec::new();
    for _ in 0..2 {
        let other = Application::build(&test_settings_ttl(&app, 60)).unwrap();
        others.push(format!("http://127.0.0.1:{}", other.port()));
        actix_web::rt::spawn(other.run_until_stopped());
    }
    leases(&app, 3).await;
    let on = |address: &String, token: &str| {
        let request = app
            .client
            .get(format!("{address}/v1/people"))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for round in 0..20 {
        let created = app
            .post(
                "/v1/api-keys",
                &serde_json::json!({"name": format!("round {round}"), "scopes": ["read"]}),
            )
            .await
            .expect(201)
            .json();
        let token = created["token"].as_str().unwrap();
        for address in &others {
            assert_eq!(on(address, token).await, 200);
            assert_eq!(on(address, token).await, 200, "now from the cache");
        }
        app.delete(&format!("/v1/api-keys/{}", created["id"].as_str().unwrap()))
            .await
            .expect(204);
        for address in &others {
            assert_eq!(on(address, token).await, 401, "round {round}, {address}");
        }
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM key_cache_acks"),
        0,
        "acknowledgements are cleared once counted"
    );
}

#[actix_web::test]
async fn a_revocation_waits_for_a_leased_server_until_it_acknowledges_or_its_lease_ends() {
    let app = spawn_app_with(|_| {}).await;
    leases(&app, 1).await;
    // A server that took a lease and then stopped reading notifications.
    diesel::sql_query(
        "INSERT INTO key_cache_listeners (id, lease_until)
         VALUES ('00000000-0000-4000-8000-000000000001', clock_timestamp() + interval '1 second')",
    )
    .execute(&mut app.db.connect())
    .unwrap();
    let (id, _) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    app.delete(&format!("/v1/api-keys/{id}")).await.expect(204);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM key_cache_listeners
              WHERE id = '00000000-0000-4000-8000-000000000001'
                AND lease_until > clock_timestamp()"
        ),
        0,
        "answered only after the silent server's lease ended"
    );
}

#[actix_web::test]
async fn a_server_whose_lease_ran_out_serves_nothing_from_its_cache() {
    let app = spawn_app_with(|s| s.key_cache_ttl = Duration::from_secs(60)).await;
    listening(&app, None).await;
    let (_, token) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    assert_eq!(status(&app, &token).await, 200);
    assert_eq!(status(&app, &token).await, 200);
    silence_announcements(&app);
    // The server cannot renew its lease while the table is locked.
    let mut blocker = app.db.connect();
    blocker
        .batch_execute("BEGIN; LOCK TABLE key_cache_listeners IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(3_500)).await;
    revoke_in_sql(&app, &token);
    assert_eq!(
        status(&app, &token).await,
        401,
        "the lease ran out: the key is read from the database"
    );
    blocker.batch_execute("ROLLBACK").unwrap();
    leases(&app, 1).await;
    assert_eq!(
        status(&app, &token).await,
        401,
        "renewed after running out, the cache starts empty"
    );
}

#[actix_web::test]
async fn a_repeated_revocation_also_waits_for_every_server_and_holds_no_connection_meanwhile() {
    // One pooled connection: the wait must leave it to other requests.
    let app = spawn_app_with(|s| s.db_pool_size = 1).await;
    leases(&app, 1).await;
    let (id, _) = mint_key(&app.db, "district sync", &[Scope::Read], None);
    app.delete(&format!("/v1/api-keys/{id}")).await.expect(204);
    // A retry, as after an answer lost on the way: a server that took a
    // lease and stopped reading notifications must still be waited for.
    let silent = "00000000-0000-4000-8000-000000000002";
    diesel::sql_query(format!(
        "INSERT INTO key_cache_listeners (id, lease_until)
         VALUES ('{silent}', clock_timestamp() + interval '1500 milliseconds')"
    ))
    .execute(&mut app.db.connect())
    .unwrap();
    let path = format!("/v1/api-keys/{id}");
    let revoking = async {
        let reply = app.delete(&path).await;
        (reply, Instant::now())
    };
    let reading = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let reply = app.get("/v1/api-keys").await;
        (reply, Instant::now())
    };
    let ((revoked, revoked_at), (read, read_at)) =
        futures_util::future::join(revoking, reading).await;
    revoked.expect(204);
    read.expect(200);
    assert!(
        read_at < revoked_at,
        "the pool's one connection served a list while the revocation waited"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM key_cache_listeners
                  WHERE id = '{silent}' AND lease_until > clock_timestamp()"
            )
        ),
        0,
        "the retry answered only after the silent server's lease ended"
    );
}
