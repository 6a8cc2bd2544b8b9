//! The process's log, on stderr: lines of text (the default) or one JSON
//! object per line (`LOG_FORMAT=json`), filtered by `RUST_LOG` (default
//! `info`). Structured fields of a record (an access line's method, route,
//! status, …) are printed as `key=value` after the text, or as members of
//! the JSON object.

use chrono::{SecondsFormat, Utc};
use log::kv::{Key, Value, VisitSource};
use serde_json::Value as Json;
use std::io::Write;

/// How log records are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// The variable that chooses the format.
    pub const VARIABLE: &'static str = "LOG_FORMAT";

    /// `text` or `json`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected text or json".to_owned()),
        }
    }

    /// Installs the process's logger in this format.
    pub fn init(self) {
        let mut builder =
            env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
        if self == Self::Json {
            builder.format(|buf, record| {
                let line = json_line(record, Utc::now());
                writeln!(buf, "{line}")
            });
        }
        builder.init();
    }
}

/// A record as one JSON object: `time`, `level`, `target`, `message`, then
/// its structured fields (numbers and booleans as such, the rest as text).
fn json_line(record: &log::Record, now: chrono::DateTime<Utc>) -> String {
    let mut fields = Fields(vec![
        (
            "time".to_owned(),
            now.to_rfc3339_opts(SecondsFormat::Millis, true).into(),
        ),
        ("level".to_owned(), record.level().as_str().into()),
        ("target".to_owned(), record.target().into()),
        ("message".to_owned(), record.args().to_string().into()),
    ]);
    // Visiting in-memory pairs cannot fail.
    let _ = record.key_values().visit(&mut fields);
    let members: Vec<String> = fields
        .0
        .into_iter()
        .map(|(key, value)| format!("{}:{value}", Json::String(key)))
        .collect();
    format!("{{{}}}", members.join(","))
}

struct Fields(Vec<(String, Json)>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            n.into()
        } else if let Some(n) = value.to_i64() {
            n.into()
        } else if let Some(x) = value.to_f64() {
            serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
        } else if let Some(b) = value.to_bool() {
            b.into()
        } else {
            value.to_string().into()
        };
        self.0.push((key.as_str().to_owned(), json));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_one_object_with_the_record_fields_in_order() {
        let kvs: &[(&str, Value)] = &[
            ("method", Value::from("GET")),
            ("status", Value::from(200u16)),
            ("duration_ms", Value::from(1.5f64)),
            ("key_id", Value::from("a\"b")),
        ];
        let line = json_line(
            &log::Record::builder()
                .args(format_args!("answered"))
                .level(log::Level::Info)
                .target("access")
                .key_values(&kvs)
                .build(),
            "2026-12-06T08:00:00.123Z".parse().unwrap(),
        );
        assert_eq!(
            line,
            r#"{"time":"2026-12-06T08:00:00.123Z","level":"INFO","target":"access","message":"answered","method":"GET","status":200,"duration_ms":1.5,"key_id":"a\"b"}"#
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_format_is_text_or_json() {
        assert_eq!(LogFormat::parse("json"), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse("text"), Ok(LogFormat::Text));
        assert!(LogFormat::parse("JSON ").is_err());
    }
}
