//! Command line of the alliance registry.

use alliance_registry::{api, app::Application, config::Settings, db::migrate};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("error: cannot read .env: {err}");
            return ExitCode::from(2);
        }
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
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

/// Reports `err` as one line on stderr and exits with `code`.
fn fail(code: u8, err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(code)
}
