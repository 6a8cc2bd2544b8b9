//! A streaming read replica (`DATABASE_REPLICA_URL`): lists and exports
//! read from it, a client reads its own writes with `Min-Position`, and an
//! unreachable replica leaves reads to the primary. Each test runs a
//! private primary and its replica (see `private_cluster`), with the
//! replica's replay paused where a test needs it to lag.

use crate::helpers::{id, spawn_app_on, Reply, TestApp, TestDatabase};
use crate::private_cluster::{PrivateCluster, StopMode};
use alliance_registry::db::migrate;
use awc::http::Method;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The app on a primary and its streaming replica. Fields drop in order:
/// the app (and its database) before the servers.
struct Deployment {
    app: TestApp,
    replica: PrivateCluster,
    replica_url: String,
    primary_url: String,
    // Dropped last.
    _primary: PrivateCluster,
}

async fn deployment() -> Deployment {
    let primary = PrivateCluster::start();
    let db = TestDatabase::not_created_on(&primary.url("postgres"));
    migrate::prepare_database(&db.url).expect("the private cluster migrates");
    let replica = primary.replica();
    let (primary_url, replica_url) = (db.url.clone(), replica.url(&db.name));
    let url = replica_url.clone();
    let app = spawn_app_on(db, move |settings| {
        settings.database_replica_url = Some(url);
    })
    .await;
    let deployment = Deployment {
        app,
        replica,
        replica_url,
        primary_url,
        _primary: primary,
    };
    deployment.caught_up();
    deployment
}

fn connect(url: &str) -> PgConnection {
    PgConnection::establish(url).expect("the private cluster accepts connections")
}

/// Whether the condition `sql` holds on `conn`'s server.
fn holds(conn: &mut PgConnection, sql: &str) -> bool {
    diesel::select(diesel::dsl::sql::<Bool>(sql))
        .get_result(conn)
        .unwrap()
}

impl Deployment {
    /// Waits until the replica has replayed everything written so far.
    fn caught_up(&self) {
        let written: String = diesel::select(diesel::dsl::sql::<Text>(
            "pg_current_wal_insert_lsn()::text",
        ))
        .get_result(&mut connect(&self.primary_url))
        .unwrap();
        let mut replica = connect(&self.replica_url);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !holds(
            &mut replica,
            &format!("coalesce(pg_last_wal_replay_lsn() >= '{written}'::pg_lsn, false)"),
        ) {
            assert!(Instant::now() < deadline, "the replica does not catch up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Pauses the replica's replay: from now on it lags.
    fn pause_replay(&self) {
        let mut replica = connect(&self.replica_url);
        replica
            .batch_execute("SELECT pg_wal_replay_pause()")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !holds(&mut replica, "pg_get_wal_replay_pause_state() = 'paused'") {
            assert!(Instant::now() < deadline, "replay does not pause");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn resume_replay(&self) {
        connect(&self.replica_url)
            .batch_execute("SELECT pg_wal_replay_resume()")
            .unwrap();
    }

    /// A new organization, created while replay is paused; returns it and
    /// its `Write-Position`.
    async fn write_while_lagging(&self, name: &str) -> (Value, String) {
        self.pause_replay();
        let reply = self
            .app
            .post(
                "/v1/organizations",
                &json!({"name": name, "kind": "alliance"}),
            )
            .await
            .expect(201);
        let position = reply
            .header("write-position")
            .expect("a write answers with its Write-Position");
        (reply.json(), position)
    }

    async fn get_with(&self, path: &str, min_position: Option<&str>) -> Reply {
        let mut request = self.app.request(Method::GET, path);
        if let Some(position) = min_position {
            request = request.insert_header(("Min-Position", position));
        }
        self.app.send(request, None).await
    }

    /// The names a list shows.
    async fn names(&self, path: &str, min_position: Option<&str>) -> Vec<String> {
        let page = self.get_with(path, min_position).await.expect(200).json();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Whether an NDJSON export names `name`.
fn exported(reply: Reply, name: &str) -> bool {
    String::from_utf8(reply.expect(200).body)
        .unwrap()
        .contains(&format!("\"{name}\""))
}

#[actix_web::test]
async fn lists_and_exports_without_min_position_read_the_replica_which_has_not_replayed_a_new_write(
) {
    let cluster = deployment().await;
    let (_, _) = cluster.write_while_lagging("Written after the pause").await;

    assert!(cluster.names("/v1/organizations", None).await.is_empty());
    assert!(cluster
        .names("/v1/organizations?q=written", None)
        .await
        .is_empty());
    let export = cluster.get_with("/v1/exports/organizations", None).await;
    assert!(!exported(export, "Written after the pause"));
    let popolo = cluster.get_with("/v1/exports/popolo", None).await;
    assert!(popolo.expect(200).json()["organizations"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn lists_and_exports_with_the_write_position_show_the_write_by_reading_the_primary() {
    let cluster = deployment().await;
    let (_, position) = cluster.write_while_lagging("Written after the pause").await;

    let read = Some(position.as_str());
    assert_eq!(
        cluster.names("/v1/organizations", read).await,
        ["Written after the pause"]
    );
    assert_eq!(
        cluster.names("/v1/organizations?q=written", read).await,
        ["Written after the pause"]
    );
    let export = cluster.get_with("/v1/exports/organizations", read).await;
    assert!(exported(export, "Written after the pause"));
    let popolo = cluster.get_with("/v1/exports/popolo", read).await;
    assert_eq!(
        popolo.expect(200).json()["organizations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A position the replica has replayed is read there: still nothing.
    assert!(cluster
        .names("/v1/organizations", Some("0/1"))
        .await
        .is_empty());
}

#[actix_web::test]
async fn a_single_record_is_read_from_the_primary_and_shows_a_write_the_replica_has_not_replayed() {
    let cluster = deployment().await;
    let (created, _) = cluster.write_while_lagging("Written after the pause").await;

    let path = format!("/v1/organizations/{}", id(&created));
    let record = cluster.get_with(&path, None).await.expect(200);
    assert_eq!(record.json()["name"], "Written after the pause");
    assert_eq!(record.header("etag"), Some("\"1\"".to_owned()));
}

#[actix_web::test]
async fn once_replay_resumes_lists_without_min_position_catch_up() {
    let cluster = deployment().await;
    cluster.write_while_lagging("Written after the pause").await;
    assert!(cluster.names("/v1/organizations", None).await.is_empty());

    cluster.resume_replay();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster.names("/v1/organizations", None).await.is_empty() {
        assert!(Instant::now() < deadline, "the list does not catch up");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        cluster.names("/v1/organizations", None).await,
        ["Written after the pause"]
    );
}

#[actix_web::test]
async fn a_malformed_min_position_is_a_400_problem_naming_the_header() {
    let cluster = deployment().await;
    for bad in [
        "3000148",
        "0/",
        "0/xyz",
        "0/3000148/1",
        "123456789/0",
        "latest",
    ] {
        for path in [
            "/v1/organizations",
            "/v1/exports/people",
            "/v1/exports/popolo",
        ] {
            let problem = cluster.get_with(path, Some(bad)).await.problem(400);
            assert_eq!(Reply::fields(&problem), ["Min-Position"], "{bad} {path}");
        }
    }
}

#[actix_web::test]
async fn with_the_replica_stopped_lists_and_exports_still_answer_200_from_the_primary() {
    let cluster = deployment().await;
    cluster
        .app
        .post(
            "/v1/organizations",
            &json!({"name": "Before the outage", "kind": "alliance"}),
        )
        .await
        .expect(201);
    cluster.caught_up();
    // Pooled connections to the replica exist when it goes.
    assert_eq!(
        cluster.names("/v1/organizations", None).await,
        ["Before the outage"]
    );

    cluster.replica.stop(StopMode::Fast);
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(
            cluster.names("/v1/organizations", None).await,
            ["Before the outage"]
        );
        let export = cluster.get_with("/v1/exports/organizations", None).await;
        assert!(exported(export, "Before the outage"));
    }
    // At most one read waited for the replica (the test pool's checkout
    // timeout is 1 s): the others skipped it.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn writes_answer_with_their_write_position_and_reads_from_the_replica_document_min_position()
{
    let cluster = deployment().await;
    let created = cluster
        .app
        .post("/v1/people", &json!({"name": "Someone"}))
        .await
        .expect(201);
    let position = created.header("write-position").unwrap();
    let path = format!("/v1/people/{}", id(&created.json()));
    let changed = cluster
        .app
        .send(
            cluster
                .app
                .request(Method::PATCH, &path)
                .insert_header(("If-Match", "\"1\"")),
            Some((
                "application/merge-patch+json",
                json!({"name": "Someone else"}).to_string().into_bytes(),
            )),
        )
        .await
        .expect(200);
    let later = changed.header("write-position").unwrap();
    let lsn = |text: &str| {
        let (high, low) = text.split_once('/').unwrap();
        (u64::from_str_radix(high, 16).unwrap() << 32) | u64::from_str_radix(low, 16).unwrap()
    };
    assert!(lsn(&later) > lsn(&position), "{position} then {later}");
    // Reads answer without one.
    assert_eq!(
        cluster.get_with(&path, None).await.header("write-position"),
        None
    );

    let doc = cluster.app.get("/openapi.json").await.expect(200).json();
    let declares_min_position = |path: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Min-Position" && p["in"] == "header")
    };
    for path in [
        "/v1/organizations",
        "/v1/people",
        "/v1/roles",
        "/v1/areas",
        "/v1/posts",
        "/v1/events",
        "/v1/events/{id}/participants",
        "/v1/exports/{resource}",
        "/v1/exports/popolo",
    ] {
        assert!(declares_min_position(path), "{path}");
    }
    for path in [
        "/v1/organizations/{id}",
        "/v1/changes",
        "/v1/audit",
        "/v1/api-keys",
    ] {
        assert!(!declares_min_position(path), "{path}");
    }
    let header =
        &doc["paths"]["/v1/people"]["post"]["responses"]["201"]["headers"]["Write-Position"];
    assert_eq!(
        header["schema"]["pattern"],
        "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"
    );
}

#[actix_web::test]
async fn without_a_replica_writes_carry_no_write_position_and_min_position_is_still_checked() {
    let app = crate::helpers::spawn_app().await;
    let created = app
        .post(
            "/v1/organizations",
            &json!({"name": "Only a primary", "kind": "alliance"}),
        )
        .await
        .expect(201);
    assert_eq!(created.header("write-position"), None);

    let read = |position: &'static str| {
        app.send(
            app.request(Method::GET, "/v1/organizations")
                .insert_header(("Min-Position", position)),
            None,
        )
    };
    let listed = read("FFFFFFFF/FFFFFFFF").await.expect(200).json();
    assert_eq!(listed["items"][0]["name"], "Only a primary");
    let problem = read("latest").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["Min-Position"]);
}

#[actix_web::test]
async fn cors_preflights_may_send_min_position_and_responses_expose_write_position() {
    const PORTAL: &str = "https://portal.example";
    let app =
        crate::helpers::spawn_app_with(|s| s.cors_allowed_origins = vec![PORTAL.into()]).await;
    let listed = |reply: &Reply, name: &str| -> Vec<String> {
        reply
            .header(name)
            .unwrap_or_default()
            .split(',')
            .map(|item| item.trim().to_lowercase())
            .collect()
    };
    let preflight = app
        .send(
            app.request_as(Method::OPTIONS, "/v1/organizations", None)
                .insert_header(("Origin", PORTAL))
                .insert_header(("Access-Control-Request-Method", "GET"))
                .insert_header((
                    "Access-Control-Request-Headers",
                    "authorization, min-position",
                )),
            None,
        )
        .await
        .expect(200);
    assert!(listed(&preflight, "access-control-allow-headers").contains(&"min-position".into()));
    let reply = app
        .send(
            app.request(Method::GET, "/v1/organizations")
                .insert_header(("Origin", PORTAL)),
            None,
        )
        .await
        .expect(200);
    assert!(listed(&reply, "access-control-expose-headers").contains(&"write-position".into()));
}
