//! The binary: configuration errors, concurrent start-up against an empty
//! database, the openapi command, and graceful shutdown on SIGTERM.

use crate::helpers::{mint_key, TestDatabase};
use alliance_registry::db::migrate::MIGRATIONS;
use alliance_registry::store::api_keys::Scope;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_alliance-registry");

/// The binary on `database_url`, with a clean environment.
pub fn command(database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    cmd
}

/// A child process, killed when dropped (so a failing test leaves no
/// server running).
pub struct Service(pub Child);

impl Service {
    /// `serve` on `database_url` at 127.0.0.1:`port`, with `env` added.
    pub fn serve(database_url: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let mut cmd = command(database_url);
        cmd.env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Self::spawn(cmd)
    }

    pub fn spawn(mut cmd: Command) -> Self {
        Self(cmd.spawn().unwrap())
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn invalid_configuration_is_one_line_on_stderr_and_a_nonzero_exit() {
    let db = TestDatabase::not_created();
    for (name, value) in [
        ("DB_POOL_SIZE", "lots"),
        ("BIND_ADDR", "nowhere"),
        ("DATABASE_URL", "mysql://x/y"),
        ("LOG_FORMAT", "xml"),
        ("METRICS_ADDR", "everywhere"),
    ] {
        let output = command(&db.url).env(name, value).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("error: invalid configuration: {name}=")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn concurrent_instances_create_and_migrate_the_database_exactly_once() {
    let db = TestDatabase::not_created();
    let children: Vec<_> = (0..4)
        .map(|_| {
            command(&db.url)
                .arg("migrate")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let n: usize = stdout
            .split('(')
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        applied.push(n);
    }
    let total = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    applied.sort();
    assert_eq!(applied.iter().sum::<usize>(), total, "{applied:?}");
    assert_eq!(
        *applied.last().unwrap(),
        total,
        "one instance applied them all: {applied:?}"
    );

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Count = diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations")
        .get_result(&mut db.connect())
        .unwrap();
    assert_eq!(rows.n as usize, total);
}

#[actix_web::test]
async fn three_servers_starting_at_once_on_a_missing_database_apply_each_migration_once_and_all_serve(
) {
    let db = TestDatabase::not_created();
    let ports: Vec<u16> = (0..3)
        .map(|_| crate::private_cluster::free_port())
        .collect();
    let servers: Vec<Service> = ports
        .iter()
        .map(|port| {
            let mut cmd = command(&db.url);
            cmd.env("BIND_ADDR", format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "warn,alliance_registry::db::migrate=info")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            Service::spawn(cmd)
        })
        .collect();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    for port in &ports {
        wait_until_ready(&client, *port).await;
    }

    // Each serves: writes, and reads what the others wrote.
    let (_, token) = mint_key(&db, "servers", &[Scope::Read, Scope::Write], None);
    for port in &ports {
        let mut response = client
            .post(format!("http://127.0.0.1:{port}/v1/organizations"))
            .bearer_auth(&token)
            .send_json(&serde_json::json!({"name": format!("Via {port}"), "kind": "other"}))
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.body().await);
    }
    for port in &ports {
        let page = get_json(
            &client,
            &format!("http://127.0.0.1:{port}/v1/organizations"),
            &token,
        )
        .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
    }

    // Each migration applied once: by one server or another, and
    // recorded once.
    let total = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    let mut applied = 0;
    for mut server in servers {
        server.terminate();
        assert!(wait_for_exit(&mut server.0).success());
        let mut stderr = String::new();
        server
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        for line in stderr.lines().filter(|l| l.contains("migration(s)")) {
            let n: usize = line
                .split("applied ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            applied += n;
        }
    }
    assert_eq!(applied, total);

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Count =
        diesel::sql_query("SELECT count(DISTINCT version) AS n FROM __diesel_schema_migrations")
            .get_result(&mut db.connect())
            .unwrap();
    assert_eq!(rows.n as usize, total);
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

/// The JSON body of `GET url` with `token`.
async fn get_json(client: &awc::Client, url: &str, token: &str) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the server on `port` answers readiness with 200.
pub async fn wait_until_ready(client: &awc::Client, port: u16) {
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(&url).send().await {
            if response.status() == 200 {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not come up"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (up to 30 s) for `child` to exit; its exit status.
pub fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn serve_creates_the_database_and_on_sigterm_finishes_every_request_in_flight_then_exits_0() {
    let db = TestDatabase::not_created();
    let port = crate::private_cluster::free_port();
    let mut child = command(&db.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    wait_until_ready(&client, port).await;

    // Hold a lock so that requests stay in flight: three reads and a write.
    let mut blocker = db.connect();
    diesel::sql_query("BEGIN").execute(&mut blocker).unwrap();
    diesel::sql_query("LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .unwrap();
    let (_, token) = mint_key(&db, "drain", &[Scope::Read, Scope::Write], None);
    let url = format!("http://127.0.0.1:{port}/v1/organizations");
    let mut in_flight: Vec<_> = (0..3)
        .map(|_| {
            let request = client.get(&url).bearer_auth(&token);
            actix_web::rt::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let write = client.post(&url).bearer_auth(&token);
    in_flight.push(actix_web::rt::spawn(async move {
        write
            .send_json(&serde_json::json!({"name": "Written while stopping", "kind": "other"}))
            .await
            .map(|r| r.status().as_u16())
    }));
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Longer than a moment: requests that take seconds still finish.
    actix_web::rt::time::sleep(Duration::from_millis(2_000)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server waits for the requests in flight"
    );

    diesel::sql_query("COMMIT").execute(&mut blocker).unwrap();
    let mut statuses = Vec::new();
    for request in in_flight {
        statuses.push(
            request
                .await
                .unwrap()
                .expect("each request in flight is answered"),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 201]);
    let exit = wait_for_exit(&mut child);
    assert!(exit.success(), "exit status {exit:?}");

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let written: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM organizations WHERE name = 'Written while stopping'",
    )
    .get_result(&mut blocker)
    .unwrap();
    assert_eq!(written.n, 1, "the write in flight committed");
}

#[test]
fn keys_command_creates_lists_and_revokes_keys() {
    let db = TestDatabase::not_created();
    let output = command(&db.url)
        .args([
            "keys",
            "create",
            "--name",
            "bootstrap",
            "--scopes",
            "admin,read,write,pii",
            "--expires",
            "2999-01-01",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        token.starts_with("ar_"),
        "stdout is just the token: {token}"
    );

    let list = command(&db.url).args(["keys", "list"]).output().unwrap();
    let listing = String::from_utf8(list.stdout).unwrap();
    assert!(
        listing.contains("bootstrap")
            && listing.contains("admin,pii,read,write")
            && listing.contains("active")
    );
    assert!(!listing.contains(&token), "tokens are never listed");
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    let revoke = command(&db.url)
        .args(["keys", "revoke", &id])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let listing = String::from_utf8(
        command(&db.url)
            .args(["keys", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(listing.contains("revoked"));

    let bad = command(&db.url)
        .args(["keys", "create", "--name", "x", "--scopes", "root"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));
}

#[actix_web::test]
async fn the_default_time_zone_of_events_is_configured_by_default_timezone() {
    let db = TestDatabase::not_created();
    let output = command(&db.url)
        .env("DEFAULT_TIMEZONE", "Mars/Olympus")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: invalid configuration: DEFAULT_TIMEZONE="),
        "{stderr}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command(&db.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DEFAULT_TIMEZONE", "Europe/Berlin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    wait_until_ready(&client, port).await;
    let (_, token) = mint_key(&db, "writer", &[Scope::Read, Scope::Write], None);
    let mut response = client
        .post(format!("http://127.0.0.1:{port}/v1/events"))
        .bearer_auth(&token)
        .send_json(&serde_json::json!({"title": "Seminar", "start_date": "2023-05-23"}))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let event: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{event}");
    assert_eq!(event["timezone"], "Europe/Berlin");
    // Its day is Berlin's: it begins at 2023-05-22T22:00Z (summer time).
    let url = format!("http://127.0.0.1:{port}/v1/events?to=2023-05-22T22:00:00Z");
    let page = get_json(&client, &url, &token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(wait_for_exit(&mut child).success());
}

#[derive(QueryableByName)]
struct GinIndex {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    options: Option<String>,
}

#[test]
fn every_gin_index_merges_its_pending_list_every_64_kilobytes() {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    let indexes: Vec<GinIndex> = diesel::sql_query(
        "SELECT c.relname::text AS name, array_to_string(c.reloptions, ',') AS options
           FROM pg_index AS i
           JOIN pg_class AS c ON c.oid = i.indexrelid
           JOIN pg_am AS a ON a.oid = c.relam
           JOIN pg_namespace AS n ON n.oid = c.relnamespace
          WHERE a.amname = 'gin' AND n.nspname = current_schema()",
    )
    .load(&mut conn)
    .unwrap();
    assert!(
        indexes.len() >= 10,
        "the register's names, grams and identifiers"
    );
    for index in indexes {
        assert_eq!(
            index.options.as_deref(),
            Some("gin_pending_list_limit=64"),
            "{}: searches read the whole pending list",
            index.name
        );
    }
}

#[actix_web::test]
async fn log_format_json_writes_one_object_a_line_with_no_token_query_or_path_values() {
    let db = TestDatabase::migrated();
    let (key_id, token) = mint_key(
        &db,
        "logged",
        &[Scope::Read, Scope::Write, Scope::Pii],
        None,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("ar-log-{}", uuid::Uuid::new_v4().simple()));
    let mut child = command(&db.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let client = awc::Client::default();
    wait_until_ready(&client, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let search = client
        .get(format!("{base}/v1/people?q=%E7%8E%8B%E4%BC%9F"))
        .bearer_auth(&token)
        .insert_header(("X-Request-Id", "trace-me-42"))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status().as_u16(), 200);
    let by_identifier = client
        .put(format!(
            "{base}/v1/people/by-identifier?scheme=national&value=S1234567Z"
        ))
        .bearer_auth(&token)
        .send_json(&serde_json::json!({"email": "not-logged@example.org"}))
        .await
        .unwrap();
    assert_eq!(by_identifier.status().as_u16(), 422);
    let refused = client
        .get(format!("{base}/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut child).success());

    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(lines
        .iter()
        .all(|line| line["time"].is_string() && line["level"].is_string()));
    let access: Vec<_> = lines
        .iter()
        .filter(|line| line["target"] == "access")
        .collect();
    let searched = access
        .iter()
        .find(|line| line["request_id"] == "trace-me-42")
        .expect("the search's access line");
    assert_eq!(searched["method"], "GET");
    assert_eq!(searched["route"], "/v1/people");
    assert_eq!(searched["status"], 200);
    assert!(searched["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(searched["key_id"], key_id.to_string());
    assert!(access
        .iter()
        .any(|line| line["route"] == "/v1/people/by-identifier"
            && line["method"] == "PUT"
            && line["status"] == 422));
    for secret in [
        token.as_str(),
        "王伟",
        "%E7%8E%8B",
        "S1234567Z",
        "not-logged",
    ] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
