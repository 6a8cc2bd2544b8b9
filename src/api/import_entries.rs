//! The records of an import file as read, whatever its format: each with
//! where it stands in the file, the resource it is and its members. Each
//! format's reader makes them; the import parses and writes them.

use crate::error::FieldError;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The resources of an import, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportResource {
    Areas,
    Organizations,
    Posts,
    People,
    Roles,
    Events,
    Participants,
}

impl ImportResource {
    pub const ALL: [ImportResource; 7] = [
        Self::Areas,
        Self::Organizations,
        Self::Posts,
        Self::People,
        Self::Roles,
        Self::Events,
        Self::Participants,
    ];

    /// The member of a JSON import holding these records.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Areas => "areas",
            Self::Organizations => "organizations",
            Self::Posts => "posts",
            Self::People => "people",
            Self::Roles => "roles",
            Self::Events => "events",
            Self::Participants => "participants",
        }
    }

    /// The `type` of these records in NDJSON.
    pub fn singular(self) -> &'static str {
        match self {
            Self::Areas => "area",
            Self::Organizations => "organization",
            Self::Posts => "post",
            Self::People => "person",
            Self::Roles => "role",
            Self::Events => "event",
            Self::Participants => "participant",
        }
    }
}

/// One record of an import file: where it stands (the prefix of the
/// fields its faults name), what it is, and its members.
pub struct Entry {
    pub at: String,
    pub kind: ImportResource,
    pub members: Map<String, Value>,
    /// Its line of an NDJSON body (index and bytes), to read it again from.
    pub line: Option<Line>,
    /// Members the file names otherwise (this register's name, the file's),
    /// for naming faults as the file does.
    pub renamed: &'static [(&'static str, &'static str)],
    /// The identifier (scheme, value) the entry is upserted by, when not its
    /// first (a Popolo object's id).
    pub key: Option<(&'static str, String)>,
    /// The record the file names by its id (a Popolo object's UUID id): it
    /// is the one written when no live record carries the entry's first
    /// identifier.
    pub id: Option<uuid::Uuid>,
}

/// A line of an NDJSON body: its index and where it lies in the body.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub index: usize,
    pub start: usize,
    pub end: usize,
}

/// The records of an import, one at a time (so that each is held only
/// until it is parsed), or the faults of one that is not a record.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, Vec<FieldError>>> + 'a>;
