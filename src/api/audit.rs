//! `/v1/audit` (admin scope): every change of the register — when, by which
//! key, to which record, and the fields that changed, before and after.

use crate::api::problems::ListErrors;
use crate::domain::Instant;
use crate::error::Error;
use crate::page_type;
use crate::store::api_keys::{Principal, Scope};
use crate::store::journal::{self as store, JournalFilter, JournalRecord, JournalSort};
use crate::store::people::PII_FIELDS;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

crate::store::text::text_values! {
    /// Kinds of records the audit trail covers.
    pub enum AuditEntityType {
        Organization => "organization",
        Person => "person",
        Role => "role",
        Event => "event",
        Participant => "participant",
        Area => "area",
        Post => "post",
        ApiKey => "api_key",
    }
}

/// What happened to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOperation {
    Created,
    Updated,
    Deleted,
}

/// A field's value before and after a change (`null` where it had none).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

/// One change of one record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42,
    "changed_at": "2026-11-26T08:00:00Z",
    "key_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ab0",
    "entity_type": "organization",
    "entity_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6a7b",
    "op": "updated",
    "version": 2,
    "changes": {"description": {"before": null, "after": "Convened by the Organization Department."}}
}))]
pub struct AuditEntry {
    /// Position in the journal; increases with every change.
    pub seq: i64,
    pub changed_at: DateTime<Utc>,
    /// The API key that made the change (`null`: made outside the API,
    /// e.g. by the command line).
    #[schema(required = true)]
    pub key_id: Option<Uuid>,
    pub entity_type: AuditEntityType,
    pub entity_id: Uuid,
    pub op: AuditOperation,
    /// The record's version after the change.
    pub version: i64,
    /// The fields that changed: every field on creation, the changed ones
    /// on update, the last values on deletion. Personal data of people is
    /// left out for keys without the `pii` scope.
    pub changes: BTreeMap<String, FieldChange>,
}

impl AuditEntry {
    fn present(r: JournalRecord, viewer: &Principal) -> Result<Self, Error> {
        let entity_type = serde_json::from_value(Value::String(r.entity_type.clone()))
            .map_err(Error::internal)?;
        let op = match r.op.as_str() {
            "created" => AuditOperation::Created,
            "updated" => AuditOperation::Updated,
            "deleted" => AuditOperation::Deleted,
            other => return Err(Error::internal(format!("journal op {other:?}"))),
        };
        let field = |doc: &Option<Value>, name: &str| {
            doc.as_ref()
                .and_then(|d| d.get(name))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let fields: Vec<String> = match op {
            AuditOperation::Deleted => r
                .before
                .as_ref()
                .and_then(Value::as_object)
                .map(|doc| {
                    doc.keys()
                        .filter(|k| !store::BOOKKEEPING.contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            _ => r.changed.clone(),
        };
        let hide_pii = entity_type == AuditEntityType::Person && !viewer.has(Scope::Pii);
        let changes = fields
            .into_iter()
            .filter(|name| !(hide_pii && PII_FIELDS.contains(&name.as_str())))
            .map(|name| {
                let change = FieldChange {
                    before: field(&r.before, &name),
                    after: field(&r.after, &name),
                };
                (name, change)
            })
            .collect();
        Ok(Self {
            seq: r.seq,
            changed_at: r.changed_at,
            key_id: r.key_id,
            entity_type,
            entity_id: r.entity_id,
            op,
            version: match hide_pii {
                true => r.public_version().unwrap_or(r.version),
                false => r.version,
            },
            changes,
        })
    }
}

page_type!(
    /// One page of the audit trail.
    AuditPage,
    AuditEntry
);

crate::list_params! {
    /// Filters and paging of `GET /v1/audit`.
    pub struct ListAuditParams sorted by JournalSort {
        /// Only changes of this kind of record.
        entity_type: Option<AuditEntityType>,
        /// Only changes of this record.
        entity_id: Option<Uuid>,
        /// Only changes made with this API key.
        key_id: Option<Uuid>,
        /// Only changes at or after this instant (RFC 3339).
        from: Option<Instant>,
        /// Only changes before this instant (RFC 3339).
        to: Option<Instant>,
    }
}

crate::list_operation! {
    get "/v1/audit" in "audit" as "listAuditEntries", params(ListAuditParams),
    "One page of changes" => AuditPage, ListErrors;
    /// Lists the audit trail.
    pub async fn list: store::list, AuditEntry::present, |p, viewer| JournalFilter {
        entity_type: p.entity_type.map(|t| t.as_str().to_owned()),
        entity_id: p.entity_id,
        key_id: p.key_id,
        from: p.from.map(Into::into),
        to: p.to.map(Into::into),
        without_private: !viewer.has(Scope::Pii),
    }
}

crate::routes! {
    Admin => list,
}
