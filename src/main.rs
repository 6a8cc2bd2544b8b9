//! Command line of the alliance registry.

use alliance_registry::api;
use alliance_registry::app::Application;
use alliance_registry::auth::cache;
use alliance_registry::client::{
    self, CsvResource, ExportFormat, ExportResource, Failure, ImportFormat, Server,
};
use alliance_registry::config::{self, Settings};
use alliance_registry::db::{in_transaction, migrate};
use alliance_registry::error::Error;
use alliance_registry::store::api_keys::{self, Scope};
use alliance_registry::store::generate;
use alliance_registry::store::{CreatedSort, Keyset};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use diesel::{Connection, PgConnection};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use uuid::Uuid;

#[derive(Parser)]
#[command(
    version,
    about = "The register of an alliance of organizations, as a JSON REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if missing, migrate it, and serve the API (default).
    Serve,
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Print the OpenAPI document to stdout.
    Openapi,
    /// Fill an empty register with a synthetic one at scale, for benchmarks
    /// (scripts/bench): organizations, people, roles, posts, events.
    Generate {
        /// How many people; every other count scales with them.
        #[arg(long, default_value_t = 1_000_000)]
        people: u32,
        /// The database, created and migrated first [default: DATABASE_URL].
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Manage API keys (e.g. create the first admin key).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import a file of records through a running server (POST /v1/imports).
    Import {
        /// The file: .json, .ndjson or .jsonl, .csv (streamed, not read into memory).
        file: PathBuf,
        /// json, ndjson or csv [default: from the file's extension].
        #[arg(long)]
        format: Option<ImportFormat>,
        /// With csv only: the resource the rows are (areas, organizations, posts,
        /// people or roles).
        #[arg(long)]
        resource: Option<CsvResource>,
        /// Check every record and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stream a resource's live records from a running server to stdout
    /// (GET /v1/exports/RESOURCE).
    Export {
        /// areas, organizations, posts, people, roles, events, participants, or register
        /// (every resource, importable as it is; ndjson only).
        resource: ExportResource,
        /// ndjson or csv.
        #[arg(long, default_value = "ndjson")]
        format: ExportFormat,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Where the server of `import` and `export` is, and the key to use.
#[derive(Args)]
struct ServerArgs {
    /// The server's base URL.
    #[arg(long, env = "ALLIANCE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API key's token (write scope to import, read to export).
    #[arg(long, env = "ALLIANCE_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print its token — shown this once only.
    Create {
        /// What the key is for, e.g. "district sync".
        #[arg(long)]
        name: String,
        /// Comma-separated: read, write, pii, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<Scope>,
        /// Refuse the key from this day (YYYY-MM-DD, UTC) or instant (RFC 3339) on.
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<DateTime<Utc>>,
    },
    /// List keys (never their tokens).
    List,
    /// Revoke a key; it is refused from its next request on.
    Revoke {
        /// The key's id.
        id: Uuid,
    },
}

fn parse_expiry(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| "expected YYYY-MM-DD or an RFC 3339 instant".to_owned())
}

/// Runs a key command against the database of `settings` (created and
/// migrated first, so the first key can be made on a fresh server).
fn keys(settings: &Settings, command: KeysCommand) -> Result<(), String> {
    migrate::prepare_database(&settings.database_url).map_err(|e| e.to_string())?;
    let mut conn = PgConnection::establish(&settings.database_url).map_err(|e| e.to_string())?;
    let revokes = matches!(command, KeysCommand::Revoke { .. });
    let outcome: Result<(), Error> = in_transaction(&mut conn, None, |conn| {
        match command {
            KeysCommand::Create {
                name,
                scopes,
                expires,
            } => {
                if name.trim().is_empty() {
                    return Err(Error::invalid("name", "must not be empty"));
                }
                let (key, token) = api_keys::create(conn, name.trim(), &scopes, expires)?;
                eprintln!(
                    "created key {} ({}); its token, shown only now:",
                    key.id, key.name
                );
                println!("{token}");
            }
            KeysCommand::List => {
                println!(
                    "{:<36}  {:<12}  {:<22}  {:<10}  name",
                    "id", "prefix", "scopes", "state"
                );
                for key in api_keys::list(conn, Keyset::first(CreatedSort::CreatedAt, i64::MAX))? {
                    let state = match (key.revoked_at, key.expires_at) {
                        (Some(_), _) => "revoked",
                        (None, Some(at)) if at <= Utc::now() => "expired",
                        _ => "active",
                    };
                    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                    println!(
                        "{:<36}  {:<12}  {:<22}  {:<10}  {}",
                        key.id,
                        key.prefix,
                        scopes.join(","),
                        state,
                        key.name
                    );
                }
            }
            KeysCommand::Revoke { id } => {
                let key = api_keys::revoke(conn, id)?;
                println!("revoked key {} ({})", key.id, key.name);
            }
        }
        Ok(())
    });
    let outcome = outcome.and_then(|()| {
        if !revokes {
            return Ok(());
        }
        // A revocation is done once every server caching keys dropped it.
        let late = cache::await_every_cache(&mut conn)?;
        if !late.is_empty() {
            eprintln!("servers {late:?} hold a key-cache lease but did not acknowledge");
        }
        Ok(())
    });
    outcome.map_err(|err| match err {
        Error::Internal(cause) => cause,
        other => other.to_string(),
    })
}

/// Generates a register of `people` people into the database at
/// `database_url` in one transaction, reporting each stage on stderr.
fn generate(database_url: &str, people: u32) -> Result<(), String> {
    migrate::prepare_database(database_url).map_err(|e| e.to_string())?;
    let mut conn = PgConnection::establish(database_url).map_err(|e| e.to_string())?;
    let started = Instant::now();
    conn.transaction(|conn| {
        generate::register(conn, people, |stage, rows, took| {
            eprintln!("{stage:<18}{rows:>10} rows  {:>7.1} s", took.as_secs_f64());
        })
    })
    .map_err(|err| err.to_string())?;
    eprintln!(
        "generated {people} people and the rest in {:.1} s (journal entries included)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("error: cannot read .env: {err}");
            return ExitCode::from(2);
        }
    }
    match config::log_format(|name| std::env::var(name).ok()) {
        Ok(format) => format.init(),
        Err(err) => return fail(2, err),
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", api::openapi_json());
            ExitCode::SUCCESS
        }
        Command::Migrate => {
            let settings = match Settings::from_env() {
                Ok(settings) => settings,
                Err(err) => return fail(2, err),
            };
            match migrate::prepare_database(&settings.database_url) {
                Ok(n) => {
                    println!("database is up to date ({n} migration(s) applied)");
                    ExitCode::SUCCESS
                }
                Err(err) => fail(1, err),
            }
        }
        Command::Generate {
            people,
            database_url,
        } => {
            let database_url = match database_url {
                Some(url) => url,
                None => match Settings::from_env() {
                    Ok(settings) => settings.database_url,
                    Err(err) => return fail(2, err),
                },
            };
            match generate(&database_url, people) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(1, err),
            }
        }
        Command::Keys { command } => {
            let settings = match Settings::from_env() {
                Ok(settings) => settings,
                Err(err) => return fail(2, err),
            };
            match keys(&settings, command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(1, err),
            }
        }
        Command::Import {
            file,
            format,
            resource,
            dry_run,
            server,
        } => {
            let outcome = Server::new(&server.url, &server.token).and_then(|server| {
                let format = client::import_format(&file, format)?;
                server.import(&file, format, resource, dry_run)
            });
            match outcome {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(failure) => failed(failure),
            }
        }
        Command::Export {
            resource,
            format,
            server,
        } => {
            let mut stdout = std::io::stdout().lock();
            let outcome = Server::new(&server.url, &server.token)
                .and_then(|server| server.export(resource, format, &mut stdout));
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => failed(failure),
            }
        }
        Command::Serve => {
            let settings = match Settings::from_env() {
                Ok(settings) => settings,
                Err(err) => return fail(2, err),
            };
            if let Err(err) = migrate::prepare_database(&settings.database_url) {
                return fail(1, err);
            }
            match actix_web::rt::System::new().block_on(serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(1, err),
            }
        }
    }
}

async fn serve(settings: Settings) -> std::io::Result<()> {
    let app = Application::build(&settings)?;
    log::info!("listening on {}:{}", settings.bind_addr.ip(), app.port());
    app.run_until_stopped().await
}

/// Reports a failure of `import` or `export` on stderr: a refusal as the
/// server gave it, anything else as an error.
fn failed(failure: Failure) -> ExitCode {
    match failure {
        Failure::Rejected(text) => {
            eprintln!("{text}");
            ExitCode::from(1)
        }
        other => fail(other.exit_code(), other),
    }
}

/// Reports `err` as one line on stderr and exits with `code`.
fn fail(code: u8, err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(code)
}
