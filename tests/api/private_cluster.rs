//! Private PostgreSQL clusters for tests that must stop, kill or replicate
//! the database: `initdb` into a temporary directory, `pg_ctl` on a free
//! port of 127.0.0.1, trust authentication, user `postgres`. The server's
//! programs are found in `PG_BINDIR`, else in `pg_config --bindir`. Where
//! the tests run as root (PostgreSQL refuses to), the programs run as the
//! `postgres` user. A cluster is stopped and its directory removed when it
//! is dropped.

use diesel::{Connection, PgConnection, RunQueryDsl};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A PostgreSQL server of one test, in its own data directory.
pub struct PrivateCluster {
    root: PathBuf,
    port: u16,
}

/// `program` of PostgreSQL's bin directory (e.g. `pg_dump`), to run as
/// any user.
pub fn program(program: &str) -> PathBuf {
    bindir().join(program)
}

/// The directory of PostgreSQL's server programs.
fn bindir() -> &'static Path {
    static BINDIR: OnceLock<PathBuf> = OnceLock::new();
    BINDIR.get_or_init(|| {
        if let Ok(dir) = std::env::var("PG_BINDIR") {
            return PathBuf::from(dir);
        }
        let output = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .expect("pg_config is on PATH (or set PG_BINDIR)");
        PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` of the server's bin directory, run as `postgres` under root.
fn pg_command(program: &str) -> Command {
    let path = bindir().join(program);
    if running_as_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

pub fn run(mut cmd: Command) -> Output {
    let output = cmd.output().unwrap_or_else(|err| panic!("{cmd:?}: {err}"));
    assert!(
        output.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A port of 127.0.0.1 that nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateCluster {
    /// A new cluster, initialised and started.
    pub fn start() -> Self {
        let cluster = Self::initialised();
        cluster.start_again();
        cluster
    }

    /// A new cluster whose next transaction id is `next_xid` (a multiple
    /// of 1048576, where `pg_resetwal` may safely put it): as a server
    /// that has run for a while.
    pub fn start_aged(next_xid: u64) -> Self {
        assert!(next_xid.is_multiple_of(1 << 20), "{next_xid}");
        let cluster = Self::initialised();
        let mut reset = pg_command("pg_resetwal");
        reset
            .args(["-x", &next_xid.to_string(), "-D"])
            .arg(cluster.data());
        run(reset);
        cluster.start_again();
        cluster
    }

    fn initialised() -> Self {
        let cluster = Self::empty();
        let mut initdb = pg_command("initdb");
        initdb
            .args(["--auth=trust", "--username=postgres", "--no-sync"])
            .args(["--encoding=UTF8", "--locale=C.UTF-8", "-D"])
            .arg(cluster.data());
        run(initdb);
        cluster.configure(&[]);
        cluster
    }

    /// A streaming replica of this cluster (`pg_basebackup -R`), started:
    /// a hot standby that serves reads and replays the primary's WAL.
    pub fn replica(&self) -> Self {
        let replica = Self::empty();
        let mut backup = pg_command("pg_basebackup");
        backup
            .args(["-h", "127.0.0.1", "-U", "postgres", "-X", "stream", "-R"])
            // At once, not after a spread checkpoint (minutes on an idle server).
            .args(["--checkpoint=fast"])
            .args(["-p", &self.port.to_string(), "-D"])
            .arg(replica.data());
        run(backup);
        replica.configure(&["hot_standby = on"]);
        replica.start_again();
        replica
    }

    fn empty() -> Self {
        let root = std::env::temp_dir().join(format!("ar-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&root).unwrap();
        if running_as_root() {
            run({
                let mut chown = Command::new("chown");
                chown.args(["postgres:postgres"]).arg(&root);
                chown
            });
        }
        Self {
            root,
            port: free_port(),
        }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Appends the cluster's own settings (port, socket directory, small
    /// memory, no fsync: these servers hold test data only) and `extra`.
    fn configure(&self, extra: &[&str]) {
        let settings = [
            format!("port = {}", self.port),
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!("unix_socket_directories = '{}'", self.root.display()),
            "fsync = off".to_owned(),
            "shared_buffers = 32MB".to_owned(),
            "max_connections = 100".to_owned(),
        ];
        let text: String = settings
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .map(|line| format!("{line}\n"))
            .collect();
        // As root, the file belongs to postgres: append through the shell
        // of that user.
        let conf = self.data().join("postgresql.auto.conf");
        let mut cmd = if running_as_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", "sh", "-c"]);
            cmd
        } else {
            let mut cmd = Command::new("sh");
            cmd.arg("-c");
            cmd
        };
        cmd.arg(format!(
            "printf '%s' \"$0\" >> '{}'",
            conf.display().to_string().replace('\'', "")
        ))
        .arg(text);
        run(cmd);
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) {
        let mut ctl = pg_command("pg_ctl");
        ctl.args(["start", "-w", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.root.join("server.log"));
        run(ctl);
        self.wait_until_accepting();
    }

    fn wait_until_accepting(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while PgConnection::establish(&self.url("postgres")).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private cluster does not accept connections: {}",
                std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server: `fast` ends sessions and shuts down cleanly,
    /// `immediate` aborts every process as a crash would.
    pub fn stop(&self, mode: StopMode) {
        let mut ctl = pg_command("pg_ctl");
        ctl.args(["stop", "-w", "-t", "60", "-m", mode.as_str(), "-D"])
            .arg(self.data());
        run(ctl);
    }

    /// With `hold`, every COMMIT of a writing transaction waits (for a
    /// synchronous standby that never comes) until it is called again
    /// without, the server stops, or the statement times out.
    pub fn hold_commits(&self, hold: bool) {
        let mut conn = PgConnection::establish(&self.url("postgres")).expect("the server is up");
        let sql = if hold {
            "ALTER SYSTEM SET synchronous_standby_names = 'nobody'"
        } else {
            "ALTER SYSTEM RESET synchronous_standby_names"
        };
        for sql in [sql, "SELECT pg_reload_conf()"] {
            diesel::sql_query(sql)
                .execute(&mut conn)
                .unwrap_or_else(|err| panic!("{sql}: {err}"));
        }
    }

    /// URL of database `name` of this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// How [`PrivateCluster::stop`] stops the server.
#[derive(Clone, Copy, Debug)]
pub enum StopMode {
    Fast,
    Immediate,
}

impl StopMode {
    fn as_str(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let mut ctl = pg_command("pg_ctl");
        ctl.args(["stop", "-m", StopMode::Immediate.as_str(), "-D"])
            .arg(self.data());
        // Already stopped is fine.
        let _ = ctl.output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
