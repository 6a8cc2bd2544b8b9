//! Faults of the service and of its database server: a killed service,
//! database servers stopped under traffic (on private clusters the tests
//! stop and start, see `private_cluster`), and a register restored from a
//! backup.
//!
//! What every fault must leave: each write the service acknowledged (2xx)
//! is there whole, with its identifiers, and the change feed holds each
//! committed record's creation exactly once and nothing else. A write that
//! got no answer, or a 503, may or may not be there, but never half.

use crate::helpers::{id, mint_key, spawn_app_on, Reply, TestApp, TestDatabase};
use crate::private_cluster::{free_port, program, run, PrivateCluster, StopMode};
use crate::startup::{wait_until_ready, Service};
use alliance_registry::db::migrate;
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The app on a migrated database of `cluster`.
async fn app_on(cluster: &PrivateCluster) -> TestApp {
    let db = TestDatabase::not_created_on(&cluster.url("postgres"));
    migrate::prepare_database(&db.url).expect("the private cluster migrates");
    spawn_app_on(db, |s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await
}

/// A server of the API over HTTP, in this process or another, with a key.
#[derive(Clone)]
struct Remote {
    base: String,
    token: String,
    client: awc::Client,
}

impl Remote {
    fn on_port(port: u16, token: &str) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
            token: token.to_owned(),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        }
    }

    fn of(app: &TestApp) -> Self {
        Self {
            base: app.address.clone(),
            token: app.token.clone(),
            client: app.client.clone(),
        }
    }

    /// The reply, or the failure to get one (e.g. the connection broke).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        let response = match body {
            Some(body) => request.send_json(body).await,
            None => request.send().await,
        };
        let mut response = response.map_err(|err| err.to_string())?;
        let body = response
            .body()
            .limit(64 << 20)
            .await
            .map_err(|err| err.to_string())?
            .to_vec();
        Ok(Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        })
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None)
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"))
    }

    /// The change feed from its start to its current end. Its head waits
    /// for the oldest writing transaction of the whole server (other
    /// tests' too), so it is read again until it holds at least `at_least`
    /// changes, for at most 30 s.
    async fn feed(&self, at_least: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut changes = Vec::new();
        let mut path = "/v1/changes?limit=1000".to_owned();
        loop {
            let page = self.get(&path).await.expect(200).json();
            let items = page["items"].as_array().unwrap();
            changes.extend(items.iter().cloned());
            path = format!(
                "/v1/changes?limit=1000&cursor={}",
                page["next_cursor"].as_str().expect("always a cursor")
            );
            assert!(
                Instant::now() < deadline + Duration::from_secs(30),
                "the feed never ends"
            );
            if items.is_empty() {
                if changes.len() >= at_least || Instant::now() > deadline {
                    return changes;
                }
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// One write of a client: what it created, and how the service answered.
#[derive(Debug)]
struct Write {
    /// `people` or `organizations`.
    resource: &'static str,
    name: String,
    identifiers: Value,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// 2xx, with the record.
    Acknowledged(Value),
    /// Answered, not with a 2xx (a 503 here).
    Refused(u16),
    /// No answer: the connection broke.
    Unanswered,
}

/// The `i`th write of client `n`: people and organizations in turn, every
/// third with an identifier.
fn write_body(n: usize, i: usize) -> (&'static str, String, Value, Value) {
    let name = format!("Client {n} write {i}");
    let identifiers = if i.is_multiple_of(3) {
        json!([{"scheme": "fault-test", "value": format!("{n}-{i}")}])
    } else {
        json!([])
    };
    if i.is_multiple_of(2) {
        let body = json!({"name": name, "identifiers": identifiers});
        ("people", name, identifiers, body)
    } else {
        let body = json!({"name": name, "kind": "other", "identifiers": identifiers});
        ("organizations", name, identifiers, body)
    }
}

/// A client creating records until `stop` is set or a request gets no
/// answer; with `also_read`, a list is read between writes. Every answer
/// must be a 2xx or a 503 problem with `Retry-After`.
async fn client(
    remote: Remote,
    n: usize,
    stop: Rc<Cell<bool>>,
    also_read: bool,
    writes: Rc<RefCell<Vec<Write>>>,
) {
    for i in 0.. {
        if stop.get() {
            return;
        }
        let (resource, name, identifiers, body) = write_body(n, i);
        let reply = remote
            .send(Method::POST, &format!("/v1/{resource}"), Some(&body))
            .await;
        let outcome = match reply {
            Ok(reply) if reply.status == 201 => Outcome::Acknowledged(reply.json()),
            Ok(reply) => {
                let status = reply.status;
                expect_unavailable(reply);
                Outcome::Refused(status)
            }
            Err(_) => Outcome::Unanswered,
        };
        let unanswered = matches!(outcome, Outcome::Unanswered);
        writes.borrow_mut().push(Write {
            resource,
            name,
            identifiers,
            outcome,
        });
        if unanswered {
            return;
        }
        if also_read {
            let path = format!("/v1/{resource}?limit=5");
            match remote.send(Method::GET, &path, None).await {
                Ok(reply) if reply.status == 200 => {}
                Ok(reply) => expect_unavailable(reply),
                Err(err) => panic!("GET {path} got no answer: {err}"),
            }
        }
    }
}

/// A 503 problem with `Retry-After`, and nothing else.
#[track_caller]
fn expect_unavailable(reply: Reply) {
    assert!(
        reply.status == 503 && reply.header("retry-after").is_some(),
        "{}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.problem(503)["type"], "/problems/unavailable");
}

/// What [`check_register`] counted.
struct Checked {
    acknowledged: usize,
    refused_but_there: usize,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// What the register must hold after a fault, checked through `remote`
/// against the tables of `db`:
/// - every acknowledged write is there as it was acknowledged;
/// - every record is one that was written, whole: its identifiers are
///   those written, and it can be found by them;
/// - the feed holds each record's creation exactly once, as the record
///   is, and nothing else.
///
/// Returns how many writes were acknowledged, and how many were refused
/// but are there (committed while the service lost sight of them).
async fn check_register(remote: &Remote, db: &TestDatabase, writes: &[Write]) -> Checked {
    let written: HashMap<&str, &Write> = writes.iter().map(|w| (w.name.as_str(), w)).collect();
    let mut acknowledged = 0;
    for write in writes {
        if let Outcome::Acknowledged(record) = &write.outcome {
            acknowledged += 1;
            let path = format!("/v1/{}/{}", write.resource, id(record));
            assert_eq!(
                &remote.get(&path).await.expect(200).json(),
                record,
                "{path}"
            );
        }
    }

    let rows: Vec<Row> = diesel::sql_query(
        "SELECT 'people' AS resource, id::text AS id, name FROM people
         UNION ALL
         SELECT 'organizations', id::text, name FROM organizations",
    )
    .load(&mut db.connect())
    .unwrap();
    for row in &rows {
        let write = written
            .get(row.name.as_str())
            .unwrap_or_else(|| panic!("{} was never written", row.name));
        assert_eq!(write.resource, row.resource);
        let path = format!("/v1/{}/{}", row.resource, row.id);
        let record = remote.get(&path).await.expect(200).json();
        assert_eq!(record["identifiers"], write.identifiers, "{path}");
        if let Some(identifier) = write.identifiers.as_array().unwrap().first() {
            let by_identifier = format!(
                "/v1/{}/{}:{}",
                row.resource,
                identifier["scheme"].as_str().unwrap(),
                identifier["value"].as_str().unwrap()
            );
            let found = remote.get(&by_identifier).await.expect(200).json();
            assert_eq!(found["id"], row.id.as_str(), "{by_identifier}");
        }
    }

    let by_id: HashMap<&str, &Row> = rows.iter().map(|row| (row.id.as_str(), row)).collect();
    let feed = remote.feed(rows.len()).await;
    let mut seen = HashSet::new();
    for change in &feed {
        let entity_id = change["entity_id"].as_str().unwrap();
        assert!(
            seen.insert(entity_id.to_owned()),
            "twice in the feed: {change}"
        );
        assert_eq!(change["op"], "created", "{change}");
        let row = by_id
            .get(entity_id)
            .unwrap_or_else(|| panic!("in the feed, not in the tables: {change}"));
        let entity_type = match row.resource.as_str() {
            "people" => "person",
            _ => "organization",
        };
        assert_eq!(change["entity_type"], entity_type);
        assert_eq!(change["data"]["name"], row.name.as_str());
        assert_eq!(
            change["data"]["identifiers"],
            written[row.name.as_str()].identifiers
        );
    }
    assert_eq!(seen.len(), rows.len(), "each record in the feed");
    let refused_but_there = rows
        .iter()
        .filter(|row| matches!(written[row.name.as_str()].outcome, Outcome::Refused(_)))
        .count();
    Checked {
        acknowledged,
        refused_but_there,
    }
}

#[actix_web::test]
async fn while_the_database_server_is_stopped_requests_get_503_with_retry_after_and_service_resumes_without_a_restart(
) {
    let cluster = PrivateCluster::start();
    let app = app_on(&cluster).await;
    let before = app
        .organization("Before the outage", "alliance", None)
        .await;
    let path = format!("/v1/organizations/{}", id(&before));

    cluster.stop(StopMode::Fast);
    let started = Instant::now();
    for reply in [
        app.get("/health/ready").await,
        app.get("/v1/organizations").await,
        app.get(&path).await,
        app.post(
            "/v1/organizations",
            &json!({"name": "During the outage", "kind": "alliance"}),
        )
        .await,
    ] {
        expect_unavailable(reply);
    }
    // Each within the pool's timeout (1 s in tests), plus slack.
    assert!(started.elapsed() < Duration::from_secs(20));
    app.get("/health/live").await.expect(200);
    let metrics = app.scrape().await;
    assert!(metrics
        .lines()
        .any(|l| l == "alliance_registry_database_up 0"));
    let timeouts: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("alliance_registry_db_pool_timeouts_total "))
        .and_then(|n| n.parse().ok())
        .expect("pool timeouts are counted");
    assert!(timeouts >= 1.0, "{metrics}");
    assert!(
        metrics.contains(r#"alliance_registry_database_errors_total{kind="connection"}"#),
        "{metrics}"
    );

    cluster.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/health/ready").await.status != 200 {
        assert!(Instant::now() < deadline, "no recovery after the restart");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    app.get(&path).await.expect(200);
    app.post(
        "/v1/organizations",
        &json!({"name": "After the outage", "kind": "alliance"}),
    )
    .await
    .expect(201);
    let names: Vec<String> = app
        .all_items("/v1/organizations")
        .await
        .iter()
        .map(|org| org["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Before the outage".to_owned()));
    assert!(names.contains(&"After the outage".to_owned()));
    let metrics = app.scrape().await;
    assert!(metrics
        .lines()
        .any(|l| l == "alliance_registry_database_up 1"));
}

/// The binary serving `db` on `port`.
fn serve(db: &TestDatabase, port: u16) -> Service {
    Service::serve(
        &db.url,
        port,
        &[
            ("HTTP_WORKERS", "2"),
            ("DB_POOL_SIZE", "8"),
            ("FEED_SETTLE_WAIT_MS", "10000"),
        ],
    )
}

#[actix_web::test]
async fn a_killed_service_loses_no_acknowledged_write_and_the_feed_holds_each_committed_change_once(
) {
    let db = TestDatabase::migrated();
    let scopes = [Scope::Read, Scope::Write, Scope::Pii];
    let (_, token) = mint_key(&db, "writers", &scopes, None);
    let port = free_port();
    let mut service = serve(&db, port);
    let remote = Remote::on_port(port, &token);
    wait_until_ready(&remote.client, port).await;

    // Eight clients write for two seconds; then the service gets SIGKILL.
    let writes = Rc::new(RefCell::new(Vec::new()));
    let stop = Rc::new(Cell::new(false));
    let clients = futures_util::future::join_all(
        (0..8).map(|n| client(remote.clone(), n, stop.clone(), false, writes.clone())),
    );
    let kill = async {
        actix_web::rt::time::sleep(Duration::from_secs(2)).await;
        service.0.kill().expect("SIGKILL");
        service.0.wait().unwrap();
    };
    futures_util::future::join(clients, kill).await;
    let writes = writes.take();
    let unanswered = writes
        .iter()
        .filter(|w| matches!(w.outcome, Outcome::Unanswered))
        .count();
    assert_eq!(unanswered, 8, "each client's last write");
    assert!(
        writes
            .iter()
            .all(|w| !matches!(w.outcome, Outcome::Refused(_))),
        "nothing is refused before the kill"
    );

    // Restarted on the same database.
    let port = free_port();
    let _service = serve(&db, port);
    let remote = Remote::on_port(port, &token);
    wait_until_ready(&remote.client, port).await;
    let checked = check_register(&remote, &db, &writes).await;
    assert!(
        checked.acknowledged >= 8,
        "a burst of writes: {}",
        checked.acknowledged
    );
}

/// Clients write and read while the database server of `app` stops in
/// `mode` and starts again: every request is answered, 2xx or 503; the
/// service is not ready while the server is down, and serves again after
/// it is back, without a restart; the register holds what
/// [`check_register`] demands.
async fn a_database_server_stopped_under_traffic(mode: StopMode) {
    let cluster = Arc::new(PrivateCluster::start());
    let app = app_on(&cluster).await;
    let remote = Remote::of(&app);
    let writes = Rc::new(RefCell::new(Vec::new()));
    let stop = Rc::new(Cell::new(false));
    let clients = futures_util::future::join_all(
        (0..6).map(|n| client(remote.clone(), n, stop.clone(), true, writes.clone())),
    );
    let outage = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        // Writes in flight wait at COMMIT when the server stops: their
        // outcome is unknown to the service.
        cluster.hold_commits(true);
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let server = cluster.clone();
        actix_web::rt::task::spawn_blocking(move || server.stop(mode))
            .await
            .unwrap();
        expect_unavailable(app.get("/health/ready").await);
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        expect_unavailable(app.get("/health/ready").await);
        let server = cluster.clone();
        actix_web::rt::task::spawn_blocking(move || server.start_again())
            .await
            .unwrap();
        cluster.hold_commits(false);

        let deadline = Instant::now() + Duration::from_secs(30);
        while app.get("/health/ready").await.status != 200 {
            assert!(Instant::now() < deadline, "no recovery after the restart");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        // Writes succeed again.
        let recovered = writes.borrow().len();
        let acknowledged_since = || {
            writes.borrow()[recovered..]
                .iter()
                .filter(|w| matches!(w.outcome, Outcome::Acknowledged(_)))
                .count()
        };
        while acknowledged_since() < 12 {
            assert!(Instant::now() < deadline, "no writes after the restart");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        stop.set(true);
    };
    futures_util::future::join(clients, outage).await;

    let writes = writes.take();
    assert!(
        writes
            .iter()
            .all(|w| !matches!(w.outcome, Outcome::Unanswered)),
        "every request is answered"
    );
    assert!(
        writes
            .iter()
            .any(|w| matches!(w.outcome, Outcome::Refused(503))),
        "the outage was met"
    );
    let checked = check_register(&remote, &app.db, &writes).await;
    assert!(
        checked.refused_but_there > 0,
        "writes were in flight at COMMIT when the server stopped"
    );
}

#[actix_web::test]
async fn a_database_server_stopped_fast_under_traffic_costs_only_503s_and_no_acknowledged_or_half_write(
) {
    a_database_server_stopped_under_traffic(StopMode::Fast).await;
}

#[actix_web::test]
async fn a_database_server_stopped_immediately_under_traffic_costs_only_503s_and_no_acknowledged_or_half_write(
) {
    a_database_server_stopped_under_traffic(StopMode::Immediate).await;
}

/// The lines of an NDJSON body, each read as JSON.
fn ndjson(reply: Reply) -> Vec<Value> {
    let reply = reply.expect(200);
    String::from_utf8(reply.body)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

/// The feed's changes after `cursor` (from its start if empty), read until at least `at_least` came
/// (for at most 30 s), and the cursor after them.
async fn feed_after(remote: &Remote, cursor: &str, at_least: usize) -> (Vec<Value>, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut changes = Vec::new();
    let mut cursor = cursor.to_owned();
    loop {
        let path = match cursor.as_str() {
            "" => "/v1/changes?limit=1000".to_owned(),
            cursor => format!("/v1/changes?limit=1000&cursor={cursor}"),
        };
        let page = remote.get(&path).await.expect(200).json();
        let items = page["items"].as_array().unwrap();
        changes.extend(items.iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        if items.is_empty() {
            if changes.len() >= at_least || Instant::now() > deadline {
                return (changes, cursor);
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[derive(QueryableByName)]
struct Shift {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    shift: i64,
}

/// How far the feed keys of `db` are shifted past its server's
/// transaction ids.
fn feed_shift(db: &TestDatabase) -> i64 {
    diesel::sql_query("SELECT shift FROM feed_shift")
        .get_result::<Shift>(&mut db.connect())
        .unwrap()
        .shift
}

#[actix_web::test]
async fn a_register_restored_from_pg_dump_on_a_younger_server_exports_the_same_and_its_feed_goes_on_after_the_restored_changes(
) {
    // The original: on a server that has run for a while (a million
    // transactions), as a production server has.
    let original = PrivateCluster::start_aged(1 << 20);
    let app = app_on(&original).await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let committee = app
        .organization("District Committee", "party_committee", Some(&alliance))
        .await;
    let park = app
        .organization("Science Park", "enterprise", Some(&alliance))
        .await;
    let mut people = Vec::new();
    for name in ["Zhou Haiying", "Li Wei", "Wang Fang"] {
        people.push(app.person(name).await);
    }
    for (person, organization, title) in [
        (&people[0], &alliance, "Convenor"),
        (&people[1], &committee, "Secretary"),
        (&people[2], &park, "Liaison"),
    ] {
        app.role(
            json!({"organization_id": id(organization), "person_id": id(person), "title": title}),
        )
        .await;
    }
    let founding = app
        .event(json!({"title": "Founding meeting", "start_date": "2023-05-23"}))
        .await;
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-06-01T02:00:00Z"}))
        .await;
    for (event, person, role) in [
        (&founding, &people[0], "speaker"),
        (&founding, &people[1], "attendee"),
        (&seminar, &people[2], "attendee"),
    ] {
        app.participant(event, json!({"person_id": id(person), "role": role}))
            .await;
    }
    app.patch(
        &format!("/v1/people/{}", id(&people[1])),
        &json!({"biography": "Secretary since 2021."}),
    )
    .await
    .expect(200);
    let changes = 3 + 3 + 3 + 2 + 3 + 1;
    let remote = Remote::of(&app);
    let (feed, cursor) = feed_after(&remote, "", changes).await;
    assert_eq!(feed.len(), changes);
    let export = ndjson(app.get("/v1/exports/register").await);
    // Preparing it again, as every start does, leaves a register that
    // wrote its own keys as it is.
    migrate::prepare_database(&app.db.url).unwrap();
    assert_eq!(feed_shift(&app.db), 0);

    // Backed up, and restored on a new server.
    let dump = std::env::temp_dir().join(format!("ar-dump-{}", uuid::Uuid::new_v4().simple()));
    let mut pg_dump = Command::new(program("pg_dump"));
    pg_dump
        .args(["-Fc", "-f"])
        .arg(&dump)
        .args(["-d", &app.db.url]);
    run(pg_dump);
    let younger = PrivateCluster::start();
    let db = TestDatabase::not_created_on(&younger.url("postgres"));
    diesel::sql_query(format!("CREATE DATABASE {}", db.name))
        .execute(&mut PgConnection::establish(&younger.url("postgres")).unwrap())
        .unwrap();
    let mut pg_restore = Command::new(program("pg_restore"));
    pg_restore
        .args(["--no-owner", "--exit-on-error", "-d", &db.url])
        .arg(&dump);
    run(pg_restore);
    let _ = std::fs::remove_file(&dump);

    // Served as the binary would: prepared first.
    migrate::prepare_database(&db.url).expect("the restored database is prepared");
    assert!(feed_shift(&db) > 1 << 19, "shifted past the restored keys");
    let restored = spawn_app_on(db, |_| {}).await;
    assert_eq!(ndjson(restored.get("/v1/exports/register").await), export);
    let restored_remote = Remote::of(&restored);
    let (restored_feed, _) = feed_after(&restored_remote, "", changes).await;
    assert_eq!(restored_feed.len(), changes, "the restored feed is served");
    assert_eq!(restored_feed, feed, "the same feed");

    // A consumer of the original goes on with its cursor: the restored
    // changes are behind it, a write after the restore comes next.
    let after = restored.person("After the restore").await;
    let (next, _) = feed_after(&restored_remote, &cursor, 1).await;
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0]["entity_id"], after["id"]);
    assert_eq!(next[0]["op"], "created");
    let (whole, _) = feed_after(&restored_remote, "", changes + 1).await;
    assert_eq!(whole.len(), changes + 1);
    assert_eq!(whole[changes]["entity_id"], after["id"], "last in the feed");
}
