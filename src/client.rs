//! The command line's client of a running server: imports a file through
//! `POST /v1/imports` and streams `GET /v1/exports/{resource}` to a writer,
//! over HTTP with an API key's token. It knows the API only as a client
//! does — paths, media types and the JSON it answers — and names none of
//! the server's modules.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use ureq::{Agent, Body, SendBody};
use uuid::Uuid;

/// Files at least this large show a progress bar while they are sent (when
/// stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 1 << 20;

/// How much of a refusal's body is read to report it.
const REFUSAL_MAX_BYTES: u64 = 64 * 1024;

/// How much of an import's answer is read.
const REPORT_MAX_BYTES: u64 = 1 << 20;

/// Why a command against the server failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command cannot be carried out as given, e.g. an unknown file
    /// extension or an unreadable file.
    #[error("{0}")]
    Usage(String),
    /// No answer from the server: it could not be connected to, or the
    /// request could not be sent.
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// The server answered with a refusal, rendered for the terminal.
    #[error("{0}")]
    Rejected(String),
    /// The exchange broke off after the server's answer began, or the
    /// answer was not what the API promises.
    #[error("{0}")]
    Broken(String),
}

impl Failure {
    /// The process exit code: 2 when nothing was asked of the server
    /// (usage, connection), 1 when it refused or the exchange broke off.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Unreachable { .. } => 2,
            Self::Rejected(_) | Self::Broken(_) => 1,
        }
    }
}

/// Declares an enum of named values: `name()` writes a value, `FromStr`
/// reads one (an unknown name is refused, listing the known ones).
macro_rules! named {
    ($(#[$meta:meta])* pub enum $T:ident { $($(#[$value_meta:meta])* $Value:ident => $name:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $T {
            $($(#[$value_meta])* $Value,)+
        }

        impl $T {
            /// The value's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$Value => $name,)+
                }
            }
        }

        impl FromStr for $T {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($name => Ok(Self::$Value),)+
                    _ => Err(format!("expected one of: {}", [$($name),+].join(", "))),
                }
            }
        }
    };
}

named! {
    /// The formats `POST /v1/imports` takes.
    pub enum ImportFormat {
        Json => "json",
        Ndjson => "ndjson",
        Csv => "csv",
    }
}

impl ImportFormat {
    /// The format a file's extension names: `.json`, `.ndjson` or `.jsonl`,
    /// `.csv` (in any case); `None` for any other.
    pub fn of_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" => Some(Self::Ndjson),
            other => other.parse().ok(),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv",
        }
    }
}

named! {
    /// The resources a CSV import can hold (one a file).
    pub enum CsvResource {
        Areas => "areas",
        Organizations => "organizations",
        Posts => "posts",
        People => "people",
        Roles => "roles",
    }
}

named! {
    /// What `GET /v1/exports/{resource}` exports.
    pub enum ExportResource {
        Areas => "areas",
        Organizations => "organizations",
        Posts => "posts",
        People => "people",
        Roles => "roles",
        Events => "events",
        Participants => "participants",
        /// Every resource, in dependency order (NDJSON only).
        Register => "register",
    }
}

named! {
    /// The formats of an export.
    pub enum ExportFormat {
        Ndjson => "ndjson",
        Csv => "csv",
    }
}

/// The format of an import: the one asked for, else the one `path`'s
/// extension names.
pub fn import_format(path: &Path, asked: Option<ImportFormat>) -> Result<ImportFormat, Failure> {
    asked.or_else(|| ImportFormat::of_path(path)).ok_or_else(|| {
        Failure::Usage(format!(
            "cannot tell the format of {} from its extension (.json, .ndjson, .jsonl, .csv); name it with --format",
            path.display()
        ))
    })
}

/// The query of an import: CSV files name their resource, the others may
/// not (their records name their own).
fn import_query(
    format: ImportFormat,
    resource: Option<CsvResource>,
    dry_run: bool,
) -> Result<String, Failure> {
    match (format, resource) {
        (ImportFormat::Csv, Some(resource)) => {
            Ok(format!("dry_run={dry_run}&resource={}", resource.name()))
        }
        (ImportFormat::Csv, None) => Err(Failure::Usage(
            "a CSV import names its resource: --resource areas|organizations|posts|people|roles"
                .to_owned(),
        )),
        (_, Some(_)) => Err(Failure::Usage(
            "only CSV imports take --resource; JSON and NDJSON records name their own".to_owned(),
        )),
        (_, None) => Ok(format!("dry_run={dry_run}")),
    }
}

/// What an import did (or, in a dry run, would do) to one resource.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct Counts {
    created: u64,
    updated: u64,
    unchanged: u64,
}

/// The counts of an import by resource; resources without records may be
/// absent.
#[derive(Debug, Deserialize)]
struct Tally {
    areas: Option<Counts>,
    organizations: Option<Counts>,
    posts: Option<Counts>,
    people: Option<Counts>,
    roles: Option<Counts>,
    events: Option<Counts>,
    participants: Option<Counts>,
}

/// The server's record of an import (`201` of `POST /v1/imports`). Shown,
/// it is the table of what was done to each resource.
#[derive(Debug, Deserialize)]
pub struct ImportReport {
    id: Uuid,
    dry_run: bool,
    counts: Tally,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = &self.counts;
        let mut rows: Vec<(&str, Counts)> = [
            ("areas", counts.areas),
            ("organizations", counts.organizations),
            ("posts", counts.posts),
            ("people", counts.people),
            ("roles", counts.roles),
            ("events", counts.events),
            ("participants", counts.participants),
        ]
        .into_iter()
        .filter_map(|(name, counts)| counts.map(|counts| (name, counts)))
        .collect();
        let total = rows.iter().fold(Counts::default(), |sum, (_, c)| Counts {
            created: sum.created + c.created,
            updated: sum.updated + c.updated,
            unchanged: sum.unchanged + c.unchanged,
        });
        rows.push(("total", total));

        let header = ["resource", "created", "updated", "unchanged"];
        let mut widths = header.map(str::len);
        for (name, c) in &rows {
            let cells = [
                name.len(),
                digits(c.created),
                digits(c.updated),
                digits(c.unchanged),
            ];
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell);
            }
        }
        let [w0, w1, w2, w3] = widths;

        if self.dry_run {
            writeln!(f, "import {} (dry run: nothing was written)", self.id)?;
        } else {
            writeln!(f, "import {}", self.id)?;
        }
        let [h0, h1, h2, h3] = header;
        writeln!(f, "{h0:<w0$}  {h1:>w1$}  {h2:>w2$}  {h3:>w3$}")?;
        for (name, c) in rows {
            writeln!(
                f,
                "{name:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
                c.created, c.updated, c.unchanged
            )?;
        }
        Ok(())
    }
}

fn digits(n: u64) -> usize {
    n.to_string().len()
}

/// An RFC 9457 problem document, as the API answers every refusal.
#[derive(Debug, Deserialize)]
struct Problem {
    title: String,
    detail: Option<String>,
    #[serde(default)]
    errors: Vec<FieldError>,
}

#[derive(Debug, Deserialize)]
struct FieldError {
    field: String,
    message: String,
}

/// Renders a refusal: `rejected: STATUS TITLE: DETAIL` and a line per
/// field at fault, or the status and the body as it came when the body is
/// no problem document.
fn rejection(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => {
            let mut text = format!("rejected: {status} {}", problem.title);
            if let Some(detail) = problem.detail {
                text.push_str(&format!(": {detail}"));
            }
            for error in problem.errors {
                text.push_str(&format!("\n  {}: {}", error.field, error.message));
            }
            text
        }
        Err(_) => {
            let body = String::from_utf8_lossy(body);
            let body = body.trim_end();
            if body.is_empty() {
                format!("rejected: {status} (empty body)")
            } else {
                format!("rejected: {status}\n{body}")
            }
        }
    }
}

/// A running server and the token to reach it with.
pub struct Server {
    base: String,
    token: String,
    agent: Agent,
}

impl Server {
    /// A server at `url` (`http://` or `https://`, with any path prefix the
    /// API is served under).
    pub fn new(url: &str, token: &str) -> Result<Self, Failure> {
        match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            _ => {
                return Err(Failure::Usage(format!(
                    "not an http:// or https:// URL: {url}"
                )))
            }
        }
        if token.trim().is_empty() {
            return Err(Failure::Usage("the token is empty".to_owned()));
        }
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("alliance-registry/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
        })
    }

    /// Sends the file at `path` to `POST /v1/imports`, streamed from disk
    /// (with a progress bar of the bytes sent when stderr is a terminal and
    /// the file is large), and returns the server's report.
    pub fn import(
        &self,
        path: &Path,
        format: ImportFormat,
        resource: Option<CsvResource>,
        dry_run: bool,
    ) -> Result<ImportReport, Failure> {
        let query = import_query(format, resource, dry_run)?;
        let unreadable =
            |err: io::Error| Failure::Usage(format!("cannot read {}: {err}", path.display()));
        let file = File::open(path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        let bar = if size >= PROGRESS_MIN_BYTES && io::stderr().is_terminal() {
            let bar = ProgressBar::new(size);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .expect("the template is valid"),
            );
            // Redrawn while the server checks the records, after the last byte.
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        let mut sending = Sending {
            file,
            bar,
            fault: None,
        };
        let url = format!("{}/v1/imports?{query}", self.base);
        let sent = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", format.content_type())
            .header("Content-Length", size)
            .send(SendBody::from_reader(&mut sending));
        sending.bar.finish_and_clear();
        let response = match (sent, sending.fault) {
            (Ok(response), _) => response,
            (Err(_), Some(fault)) => return Err(unreadable(fault)),
            (Err(err), None) => return Err(self.unreachable(err)),
        };
        let status = response.status().as_u16();
        let body = read_limited(response.into_body(), REPORT_MAX_BYTES)?;
        if status != 201 {
            return Err(Failure::Rejected(rejection(status, &body)));
        }
        serde_json::from_slice(&body).map_err(|err| {
            Failure::Broken(format!(
                "the server's report is not understood ({err}): {}",
                String::from_utf8_lossy(&body)
            ))
        })
    }

    /// Streams `GET /v1/exports/{resource}` to `out` as it arrives.
    pub fn export(
        &self,
        resource: ExportResource,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        if resource == ExportResource::Register && format != ExportFormat::Ndjson {
            return Err(Failure::Usage(
                "the register exports only as ndjson".to_owned(),
            ));
        }
        let url = format!(
            "{}/v1/exports/{}?format={}",
            self.base,
            resource.name(),
            format.name()
        );
        let response = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .map_err(|err| self.unreachable(err))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_limited(response.into_body(), REFUSAL_MAX_BYTES)?;
            return Err(Failure::Rejected(rejection(status.as_u16(), &body)));
        }
        let mut body = response.into_body().into_reader();
        let mut buffer = vec![0; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match body.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(Failure::Broken(format!(
                        "the export broke off after {written} bytes: {err}"
                    )))
                }
            };
            out.write_all(&buffer[..n])
                .map_err(|err| Failure::Broken(format!("cannot write the export: {err}")))?;
            written += n as u64;
        }
        out.flush()
            .map_err(|err| Failure::Broken(format!("cannot write the export: {err}")))
    }

    fn unreachable(&self, err: ureq::Error) -> Failure {
        Failure::Unreachable {
            url: self.base.clone(),
            cause: err.to_string(),
        }
    }
}

/// Reads at most `limit` bytes of a response's body.
fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    body.into_reader()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|err| Failure::Broken(format!("the server's answer broke off: {err}")))?;
    Ok(bytes)
}

/// The file being sent: counts the bytes read on the progress bar, and
/// keeps the file's own read error apart from the connection's.
struct Sending {
    file: File,
    bar: ProgressBar,
    fault: Option<io::Error>,
}

impl Read for Sending {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buf) {
            Ok(n) => {
                self.bar.inc(n as u64);
                if Some(self.bar.position()) == self.bar.length() {
                    self.bar
                        .set_message("sent; the server is checking the records");
                }
                Ok(n)
            }
            Err(err) => {
                let kept = io::Error::new(err.kind(), err.to_string());
                self.fault = Some(err);
                Err(kept)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_extensions() {
        let of = |name: &str| ImportFormat::of_path(Path::new(name));
        assert_eq!(
            of("examples/yangpu-alliance.json"),
            Some(ImportFormat::Json)
        );
        assert_eq!(of("register.ndjson"), Some(ImportFormat::Ndjson));
        assert_eq!(of("register.JSONL"), Some(ImportFormat::Ndjson));
        assert_eq!(of("people.csv"), Some(ImportFormat::Csv));
        assert_eq!(of("people.tsv"), None);
        assert_eq!(of("people"), None);
        assert_eq!(of(".csv"), None);
    }

    #[test]
    fn an_asked_format_wins_over_the_extension() {
        let path = Path::new("export.txt");
        assert!(matches!(import_format(path, None), Err(Failure::Usage(_))));
        assert_eq!(
            import_format(path, Some(ImportFormat::Ndjson)).unwrap(),
            ImportFormat::Ndjson
        );
        assert_eq!(
            import_format(Path::new("a.json"), Some(ImportFormat::Csv)).unwrap(),
            ImportFormat::Csv
        );
        assert_eq!(Failure::Usage(String::new()).exit_code(), 2);
    }

    #[test]
    fn only_csv_imports_name_their_resource() {
        let query = import_query(ImportFormat::Csv, Some(CsvResource::People), true).unwrap();
        assert_eq!(query, "dry_run=true&resource=people");
        let query = import_query(ImportFormat::Json, None, false).unwrap();
        assert_eq!(query, "dry_run=false");
        assert!(import_query(ImportFormat::Csv, None, false).is_err());
        let refused = import_query(ImportFormat::Ndjson, Some(CsvResource::Roles), false);
        assert!(matches!(refused, Err(Failure::Usage(_))));
    }

    #[test]
    fn a_report_is_an_aligned_table() {
        let report: ImportReport = serde_json::from_str(
            r#"{"id": "0194d2b1-7c3e-7a10-9f00-5c2d1e4b8a61", "dry_run": false,
                "format": "json", "records": 68, "created_at": "2026-12-05T06:00:00Z",
                "key_id": "0194d2b1-0000-7000-8000-000000000001",
                "counts": {
                    "participants": {"created": 16, "updated": 0, "unchanged": 0},
                    "organizations": {"created": 26, "updated": 0, "unchanged": 0},
                    "people": {"created": 3, "updated": 1, "unchanged": 1},
                    "events": {"created": 0, "updated": 0, "unchanged": 2},
                    "roles": {"created": 18, "updated": 0, "unchanged": 0},
                    "posts": {"created": 1, "updated": 0, "unchanged": 0},
                    "areas": {"created": 2, "updated": 0, "unchanged": 0}}}"#,
        )
        .unwrap();
        assert_eq!(
            report.to_string(),
            "import 0194d2b1-7c3e-7a10-9f00-5c2d1e4b8a61\n\
             resource       created  updated  unchanged\n\
             areas                2        0          0\n\
             organizations       26        0          0\n\
             posts                1        0          0\n\
             people               3        1          1\n\
             roles               18        0          0\n\
             events               0        0          2\n\
             participants        16        0          0\n\
             total               66        1          3\n"
        );
    }

    #[test]
    fn a_dry_run_report_shows_only_the_resources_present() {
        let report: ImportReport = serde_json::from_str(
            r#"{"id": "0194d2b1-7c3e-7a10-9f00-5c2d1e4b8a61", "dry_run": true,
                "counts": {"people": {"created": 1234567, "updated": 0, "unchanged": 8}}}"#,
        )
        .unwrap();
        assert_eq!(
            report.to_string(),
            "import 0194d2b1-7c3e-7a10-9f00-5c2d1e4b8a61 (dry run: nothing was written)\n\
             resource  created  updated  unchanged\n\
             people    1234567        0          8\n\
             total     1234567        0          8\n"
        );
    }

    #[test]
    fn problems_are_rendered_with_their_fields() {
        let body = br#"{"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
            "detail": "2 fields are invalid",
            "errors": [{"field": "organizations[0].name", "message": "must not be empty"},
                       {"field": "roles[3].organization_id", "message": "no live record carries it"}]}"#;
        assert_eq!(
            rejection(422, body),
            "rejected: 422 Unprocessable Entity: 2 fields are invalid\n  \
             organizations[0].name: must not be empty\n  \
             roles[3].organization_id: no live record carries it"
        );
        let body = br#"{"type": "about:blank", "title": "Unauthorized", "status": 401,
            "detail": "missing bearer token"}"#;
        assert_eq!(
            rejection(401, body),
            "rejected: 401 Unauthorized: missing bearer token"
        );
    }

    #[test]
    fn other_refusals_show_their_body() {
        assert_eq!(
            rejection(502, b"<html>Bad Gateway</html>\n"),
            "rejected: 502\n<html>Bad Gateway</html>"
        );
        assert_eq!(rejection(503, b""), "rejected: 503 (empty body)");
        assert_eq!(Failure::Rejected(String::new()).exit_code(), 1);
    }
}
