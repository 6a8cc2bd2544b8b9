//! Test support: a fresh database per test, cloned from a migrated template,
//! and the app running in-process on a random port.

use alliance_registry::app::Application;
use alliance_registry::config::Settings;
use alliance_registry::db::{migrate, PgPool};
use alliance_registry::store::api_keys::{self, Scope};
use awc::http::Method;
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

/// Any database of the test server, used to create and drop the others.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// URL of database `name` on the test server.
pub fn database_url(name: &str) -> String {
    with_database(&admin_url(), name)
}

fn admin() -> PgConnection {
    PgConnection::establish(&admin_url()).expect("the test PostgreSQL server is reachable")
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("a database URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn execute(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result::<Exists>(conn)
        .unwrap()
        .exists
}

/// A migrated template database, built once per migration set. Its name
/// carries a hash of `migrations/`, so a changed migration gets a new
/// template; it is built under another name and renamed when complete,
/// under an advisory lock, so concurrent test processes share it safely.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("ar_template_{:016x}", migrations_hash());
        let mut conn = admin();
        execute(&mut conn, "SELECT pg_advisory_lock(7243011)");
        if !database_exists(&mut conn, &name) {
            let building = format!("{name}_building");
            execute(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            );
            execute(&mut conn, &format!("CREATE DATABASE {building}"));
            migrate::run_migrations(&database_url(&building)).expect("migrations apply");
            execute(
                &mut conn,
                &format!("ALTER DATABASE {building} RENAME TO {name}"),
            );
        }
        execute(&mut conn, "SELECT pg_advisory_unlock(7243011)");
        name
    })
}

fn migrations_hash() -> u64 {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&root);
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.strip_prefix(&root).unwrap().hash(&mut hasher);
        std::fs::read(&file).unwrap().hash(&mut hasher);
    }
    hasher.finish()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A database of this test only, dropped (with its connections) at the end.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    /// A database of the same server, to create and drop this one from.
    admin_url: String,
}

impl TestDatabase {
    fn unique_name() -> String {
        format!("ar_test_{}", uuid::Uuid::new_v4().simple())
    }

    /// A fresh migrated database.
    pub fn migrated() -> Self {
        let name = Self::unique_name();
        execute(
            &mut admin(),
            &format!("CREATE DATABASE {name} TEMPLATE {}", template()),
        );
        Self {
            url: database_url(&name),
            name,
            admin_url: admin_url(),
        }
    }

    /// A name for a database that does not exist yet.
    pub fn not_created() -> Self {
        Self::not_created_on(&admin_url())
    }

    /// A name for a database that does not exist yet, on the server of
    /// `admin_url` (e.g. a [`crate::private_cluster::PrivateCluster`]).
    pub fn not_created_on(admin_url: &str) -> Self {
        let name = Self::unique_name();
        Self {
            url: with_database(admin_url, &name),
            name,
            admin_url: admin_url.to_owned(),
        }
    }

    /// Drops the database now, cutting off every connection to it.
    pub fn drop_now(&self) {
        let mut conn = PgConnection::establish(&self.admin_url).expect("the server is reachable");
        self.drop_with(&mut conn);
    }

    fn drop_with(&self, admin: &mut PgConnection) {
        execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }

    /// A direct connection, for inspecting what the app wrote.
    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // A private cluster may be gone already, and its databases with it.
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            self.drop_with(&mut admin);
        }
    }
}

/// The app serving on a random port against its own database.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub client: awc::Client,
    pub db: TestDatabase,
    /// Token of a key with every scope, sent by [`TestApp::request`].
    pub token: String,
    /// `http://127.0.0.1:PORT/metrics` of the metrics server, if one runs.
    pub metrics_url: Option<String>,
}

/// Settings for a test instance on `database_url`: a random port, few
/// threads, a short pool timeout.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        database_replica_url: None,
        bind_addr: "127.0.0.1:0".parse().unwrap(),
        db_pool_size: 4,
        db_connect_timeout: Duration::from_millis(1_000),
        max_body_bytes: Settings::DEFAULT_MAX_BODY_BYTES,
        import_max_body_bytes: 64 << 20,
        http_workers: 1,
        cors_allowed_origins: Vec::new(),
        rate_limit_per_minute: 0,
        idempotency_ttl: chrono::Duration::hours(24),
        feed_retention: chrono::Duration::hours(720),
        // Generous: the test server's cluster is shared, and another
        // database's writing transaction holds every feed's head back.
        feed_settle_wait: Duration::from_millis(10_000),
        statement_timeout: Duration::from_millis(5_000),
        cursor_secret: None,
        default_timezone: alliance_registry::domain::Timezone::parse("Asia/Shanghai").unwrap(),
        key_cache_ttl: Duration::from_secs(10),
        metrics_addr: None,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after `configure` adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::migrated();
    spawn_app_on(db, configure).await
}

/// Spawns the app on the existing database `db`.
pub async fn spawn_app_on(db: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&db.url);
    configure(&mut settings);
    let app = Application::build(&settings).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    let metrics_url = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}/metrics"));
    actix_web::rt::spawn(app.run_until_stopped());
    let token = mint_key(
        &db,
        "test",
        &[Scope::Read, Scope::Write, Scope::Pii, Scope::Admin],
        None,
    )
    .1;
    TestApp {
        address,
        pool,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish(),
        db,
        token,
        metrics_url,
    }
}

/// Creates an API key in `db`; returns its id and token.
pub fn mint_key(
    db: &TestDatabase,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> (uuid::Uuid, String) {
    let (key, token) =
        api_keys::create(&mut db.connect(), name, scopes, expires_at).expect("a key");
    (key.id, token)
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a problem document with this status and returns it.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let problem = reply.json();
        assert_eq!(problem["status"], status);
        for member in ["type", "title", "detail"] {
            assert!(problem[member].is_string(), "{member} missing: {problem}");
        }
        problem
    }

    /// The `field`s of a problem's `errors`.
    pub fn fields(problem: &Value) -> Vec<String> {
        problem["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request to `path` with the all-scopes token, to add headers to
    /// before [`TestApp::send`].
    pub fn request(&self, method: Method, path: &str) -> awc::ClientRequest {
        self.request_as(method, path, Some(&self.token))
    }

    /// A request to `path` with `token` (or none).
    pub fn request_as(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> awc::ClientRequest {
        let request = self.client.request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request` with `body` (if any) as `content_type`.
    pub async fn send(&self, request: awc::ClientRequest, body: Option<(&str, Vec<u8>)>) -> Reply {
        let response = match body {
            Some((content_type, bytes)) => {
                request
                    .insert_header(("content-type", content_type))
                    .send_body(bytes)
                    .await
            }
            None => request.send().await,
        };
        let mut response = response.expect("the request is answered");
        let body = response.body().limit(64 << 20).await.unwrap().to_vec();
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        }
    }

    /// The text the metrics server serves now.
    pub async fn scrape(&self) -> String {
        let url = self.metrics_url.as_deref().expect("a metrics server");
        let mut res = self.client.get(url).send().await.expect("a scrape");
        assert_eq!(res.status().as_u16(), 200);
        String::from_utf8(res.body().await.unwrap().to_vec()).unwrap()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path), None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send_json(Method::PUT, path, body).await
    }

    /// PATCH with a merge patch body.
    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::PATCH, path),
            Some((
                "application/merge-patch+json",
                body.to_string().into_bytes(),
            )),
        )
        .await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            self.request(method, path),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    /// Every item of a listing, following `next_cursor` from `path` (which
    /// carries its query, with `limit`) until a page comes back empty (the
    /// change feed always hands out a cursor to poll again).
    pub async fn all_items(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = path.to_owned();
        loop {
            let page = self.get(&next).await.expect(200).json();
            let page_items = page["items"].as_array().unwrap();
            if page_items.is_empty() {
                return items;
            }
            items.extend(page_items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) if !cursor.is_empty() => next = format!("{path}&cursor={cursor}"),
                _ => return items,
            }
        }
    }

    /// Creates an organization and returns its JSON representation.
    pub async fn create_organization(&self, body: Value) -> Value {
        self.post("/v1/organizations", &body)
            .await
            .expect(201)
            .json()
    }

    /// Creates a person named `name`.
    pub async fn person(&self, name: &str) -> Value {
        self.post("/v1/people", &serde_json::json!({ "name": name }))
            .await
            .expect(201)
            .json()
    }

    /// Creates a role from `body`.
    pub async fn role(&self, body: Value) -> Value {
        self.post("/v1/roles", &body).await.expect(201).json()
    }

    /// Creates an event from `body`.
    pub async fn event(&self, body: Value) -> Value {
        self.post("/v1/events", &body).await.expect(201).json()
    }

    /// Adds a participant from `body` to `event`.
    pub async fn participant(&self, event: &Value, body: Value) -> Value {
        self.post(&format!("/v1/events/{}/participants", id(event)), &body)
            .await
            .expect(201)
            .json()
    }

    /// Creates an organization of kind `kind` named `name` under `parent`.
    pub async fn organization(&self, name: &str, kind: &str, parent: Option<&Value>) -> Value {
        self.create_organization(serde_json::json!({
            "name": name,
            "kind": kind,
            "parent_id": parent.map(|p| p["id"].clone()),
        }))
        .await
    }
}

/// The `id` of a record.
pub fn id(record: &Value) -> &str {
    record["id"].as_str().expect("the record has an id")
}

/// The values of `member` in the items of a page, in order.
pub fn column(page: &Value, member: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a page has items")
        .iter()
        .map(|item| match &item[member] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Runs `work` on a direct connection to `db` and counts the SQL
/// statements it sends.
pub fn count_queries<T>(
    db: &TestDatabase,
    work: impl FnOnce(&mut PgConnection) -> T,
) -> (T, usize) {
    use diesel::connection::InstrumentationEvent;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };
    let mut conn = db.connect();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let result = work(&mut conn);
    (result, count.load(Ordering::SeqCst))
}
