//! The OpenAPI schemas of the value types the store defines: its closed
//! sets of text values (kinds, statuses, scopes, sort orders). The store
//! knows nothing of OpenAPI; the schemas are stated here, under the names
//! of the types.

use crate::api::audit::AuditEntityType;
use crate::api::changes::FeedEntityType;
use crate::store::api_keys::Scope;
use crate::store::events::{EventKind, EventSort, EventStatus};
use crate::store::journal::JournalSort;
use crate::store::organizations::OrganizationKind;
use crate::store::participants::ParticipantRole;
use crate::store::posts::LabelSort;
use crate::store::{CreatedSort, NameSort};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The schema of a string that is one of `values`.
fn text_values(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Gives each listed store type (with `ALL` and `as_str`) the schema of a
/// string that is one of its values, described by the text beside it.
macro_rules! text_value_schemas {
    ($($T:ty: $description:literal,)+) => {$(
        impl PartialSchema for $T {
            fn schema() -> RefOr<Schema> {
                text_values($description, <$T>::ALL.iter().map(|value| value.as_str()))
            }
        }

        impl ToSchema for $T {}
    )+};
}

text_value_schemas! {
    NameSort: "Orders of a listing of named records; ties are broken by id.",
    CreatedSort: "Orders of a listing by creation time; ties are broken by id.",
    LabelSort: "Orders of a listing of posts, by label or by creation time; ties are broken by id.",
    EventSort: "Orders of an event listing; ties are broken by id.",
    JournalSort: "Orders of the audit trail.",
    OrganizationKind: "What kind of unit an organization is.",
    EventKind: "What kind of event.",
    EventStatus: "Where an event stands.",
    ParticipantRole: "In which capacity a member takes part in an event.",
    Scope: "What a key may do.",
    AuditEntityType: "Kinds of records the audit trail covers.",
    FeedEntityType: "Kinds of records in the feed.",
}
