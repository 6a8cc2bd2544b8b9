//! Organizations: the alliance, its member units, their party organizations
//! and the government bodies around them, in a tree through `parent_id`.

use crate::{
    db::schema::organizations::{self, dsl},
    error::{ConflictingRecord, Error},
    store::{keyset_condition, like_escape, After, SortValue, VersionCheck},
    text_enum,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    dsl::now,
    pg::{Pg, PgConnection},
    prelude::*,
    sql_types::{BigInt, Bool, Uuid as SqlUuid},
};
use serde_json::Value;
use uuid::Uuid;

const ENTITY: &str = "organization";

/// Advisory lock key serializing changes of `parent_id`, so two concurrent
/// moves cannot together create a cycle.
const HIERARCHY_LOCK_KEY: i64 = 0x6f72_675f_7472_6565;

/// How many blocking records a conflict names at most.
const MAX_CONFLICTS_LISTED: i64 = 20;

text_enum! {
    /// What kind of unit an organization is.
    pub enum OrganizationKind {
        /// The alliance itself.
        Alliance => "alliance",
        /// A party committee (党委).
        PartyCommittee => "party_committee",
        /// A party general branch (党总支).
        PartyGeneralBranch => "party_general_branch",
        /// A party branch (党支部).
        PartyBranch => "party_branch",
        /// A party working committee (党工委), e.g. of a street.
        PartyWorkingCommittee => "party_working_committee",
        /// A company.
        Enterprise => "enterprise",
        /// A (university) science and technology park.
        SciencePark => "science_park",
        /// A government department or commission.
        GovernmentDepartment => "government_department",
        /// A school, e.g. a party school.
        School => "school",
        /// A street office (街道).
        StreetOffice => "street_office",
        /// Anything else.
        Other => "other",
    }
}

/// An organization row, tombstones included.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations, check_for_backend(Pg))]
pub struct OrganizationRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<Uuid>,
    pub other_names: Value,
    pub founding_date: Option<NaiveDate>,
    pub dissolution_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub contact_details: Value,
    pub sources: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The writable content of an organization, already validated.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
pub struct OrganizationData {
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<Uuid>,
    /// JSON array of `{name, lang?, note?}`.
    pub other_names: Value,
    pub founding_date: Option<NaiveDate>,
    pub dissolution_date: Option<NaiveDate>,
    pub description: Option<String>,
    /// JSON array of `{type, value, label?}`.
    pub contact_details: Value,
    /// JSON array of `{url, note?}`.
    pub sources: Value,
}

impl OrganizationRecord {
    /// The writable content of this record.
    pub fn data(&self) -> OrganizationData {
        OrganizationData {
            name: self.name.clone(),
            kind: self.kind,
            parent_id: self.parent_id,
            other_names: self.other_names.clone(),
            founding_date: self.founding_date,
            dissolution_date: self.dissolution_date,
            description: self.description.clone(),
            contact_details: self.contact_details.clone(),
            sources: self.sources.clone(),
        }
    }
}

/// List filters; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub kind: Option<OrganizationKind>,
    pub parent_id: Option<Uuid>,
    /// Case-insensitive substring of the name or any other name.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// Orders a listing can take; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationSort {
    Name,
    NameDesc,
    CreatedAt,
    CreatedAtDesc,
}

impl OrganizationSort {
    /// The sort value of `record`, from which the next page starts.
    pub fn key(self, record: &OrganizationRecord) -> After {
        let value = match self {
            Self::Name | Self::NameDesc => SortValue::Text(record.name.clone()),
            Self::CreatedAt | Self::CreatedAtDesc => SortValue::Time(record.created_at),
        };
        After {
            value,
            id: record.id,
        }
    }

    /// Whether `value` can be a position in this order.
    pub fn accepts(self, value: &SortValue) -> bool {
        matches!(
            (self, value),
            (Self::Name | Self::NameDesc, SortValue::Text(_))
                | (Self::CreatedAt | Self::CreatedAtDesc, SortValue::Time(_))
        )
    }
}

/// The live organization `id`, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<OrganizationRecord, Error> {
    dsl::organizations
        .find(id)
        .filter(dsl::deleted_at.is_null())
        .select(OrganizationRecord::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(ENTITY, id))
}

/// The live organization `id`, locked for update until the transaction ends.
fn lock_live(conn: &mut PgConnection, id: Uuid) -> Result<OrganizationRecord, Error> {
    dsl::organizations
        .find(id)
        .filter(dsl::deleted_at.is_null())
        .select(OrganizationRecord::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(ENTITY, id))
}

/// Creates an organization with a new time-ordered (v7) id.
pub fn create(
    conn: &mut PgConnection,
    data: &OrganizationData,
) -> Result<OrganizationRecord, Error> {
    if let Some(parent) = data.parent_id {
        check_parent(conn, None, parent)?;
    }
    let record = diesel::insert_into(dsl::organizations)
        .values((dsl::id.eq(Uuid::now_v7()), data))
        .returning(OrganizationRecord::as_returning())
        .get_result(conn)?;
    Ok(record)
}

/// Replaces the content of organization `id` with what `change` makes of
/// the current record. A change that alters nothing keeps the version.
///
/// `may_reparent` says whether the change may give the organization a new
/// parent. Such changes take the hierarchy lock before any row lock, so two
/// concurrent moves are serialized (and cannot together close a cycle)
/// without deadlocking on each other's rows.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    check: &VersionCheck,
    may_reparent: bool,
    change: impl FnOnce(&OrganizationRecord) -> Result<OrganizationData, Error>,
) -> Result<OrganizationRecord, Error> {
    if may_reparent {
        lock_hierarchy(conn)?;
    }
    let current = lock_live(conn, id)?;
    check.verify(current.version)?;
    let data = change(&current)?;
    if data == current.data() {
        return Ok(current);
    }
    if data.parent_id != current.parent_id {
        if let Some(parent) = data.parent_id {
            if !may_reparent {
                return Err(Error::internal("parent change without the hierarchy lock"));
            }
            check_parent(conn, Some(id), parent)?;
        }
    }
    let record = diesel::update(dsl::organizations.find(id))
        .set((
            &data,
            dsl::version.eq(dsl::version + 1),
            dsl::updated_at.eq(now),
        ))
        .returning(OrganizationRecord::as_returning())
        .get_result(conn)?;
    Ok(record)
}

/// Soft-deletes organization `id`: the row stays as a tombstone. Refused
/// with 409 while live organizations still have it as their parent.
pub fn delete(conn: &mut PgConnection, id: Uuid, check: &VersionCheck) -> Result<(), Error> {
    let current = lock_live(conn, id)?;
    check.verify(current.version)?;
    let children: Vec<(Uuid, String)> = dsl::organizations
        .filter(dsl::parent_id.eq(id))
        .filter(dsl::deleted_at.is_null())
        .select((dsl::id, dsl::name))
        .order((dsl::name, dsl::id))
        .limit(MAX_CONFLICTS_LISTED)
        .load(conn)?;
    if !children.is_empty() {
        let names: Vec<&str> = children.iter().map(|(_, name)| name.as_str()).collect();
        return Err(Error::Conflict {
            detail: format!(
                "organization {id} still has live child organizations ({}); \
                 delete them or move them to another parent first",
                names.join(", ")
            ),
            conflicts: children
                .into_iter()
                .map(|(id, name)| ConflictingRecord {
                    entity_type: ENTITY.to_owned(),
                    id,
                    name,
                })
                .collect(),
        });
    }
    diesel::update(dsl::organizations.find(id))
        .set((
            dsl::deleted_at.eq(now),
            dsl::version.eq(dsl::version + 1),
            dsl::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One keyset page of live organizations: at most `limit` rows after `after`.
pub fn list(
    conn: &mut PgConnection,
    filter: &OrganizationFilter,
    sort: OrganizationSort,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<OrganizationRecord>, Error> {
    let mut query = dsl::organizations
        .filter(dsl::deleted_at.is_null())
        .select(OrganizationRecord::as_select())
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(dsl::kind.eq(kind));
    }
    if let Some(parent) = filter.parent_id {
        query = query.filter(dsl::parent_id.eq(parent));
    }
    if let Some(q) = &filter.q {
        query = query.filter(dsl::search_text.ilike(format!("%{}%", like_escape(q))));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(dsl::updated_at.ge(since));
    }
    let (column, descending) = match sort {
        OrganizationSort::Name => ("organizations.name", false),
        OrganizationSort::NameDesc => ("organizations.name", true),
        OrganizationSort::CreatedAt => ("organizations.created_at", false),
        OrganizationSort::CreatedAtDesc => ("organizations.created_at", true),
    };
    if let Some(after) = after {
        query = query.filter(keyset_condition(
            column,
            "organizations.id",
            descending,
            after,
        ));
    }
    query = match sort {
        OrganizationSort::Name => query.order((dsl::name.asc(), dsl::id.asc())),
        OrganizationSort::NameDesc => query.order((dsl::name.desc(), dsl::id.desc())),
        OrganizationSort::CreatedAt => query.order((dsl::created_at.asc(), dsl::id.asc())),
        OrganizationSort::CreatedAtDesc => query.order((dsl::created_at.desc(), dsl::id.desc())),
    };
    Ok(query.limit(limit).load(conn)?)
}

/// Takes the transaction-scoped lock that serializes parent changes.
fn lock_hierarchy(conn: &mut PgConnection) -> Result<(), Error> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(HIERARCHY_LOCK_KEY)
        .execute(conn)?;
    Ok(())
}

/// Checks that `parent` can be the parent of `child` (`None` for a new
/// organization): it must be live, and the move must not close a cycle (the
/// caller holds the hierarchy lock when `child` is given). Locks the parent
/// row against deletion until the transaction ends.
fn check_parent(conn: &mut PgConnection, child: Option<Uuid>, parent: Uuid) -> Result<(), Error> {
    let parent_state: Option<Option<DateTime<Utc>>> = dsl::organizations
        .find(parent)
        .select(dsl::deleted_at)
        .for_share()
        .first(conn)
        .optional()?;
    if !matches!(parent_state, Some(None)) {
        return Err(Error::invalid(
            "parent_id",
            format!("no organization has id {parent}"),
        ));
    }
    let Some(child) = child else {
        return Ok(());
    };
    if child == parent {
        return Err(Error::invalid(
            "parent_id",
            "an organization cannot be its own parent",
        ));
    }
    if is_ancestor(conn, child, parent)? {
        return Err(Error::invalid(
            "parent_id",
            format!("organization {parent} is inside organization {child}; the move would create a cycle"),
        ));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Whether `ancestor` is `of` or one of its ancestors.
fn is_ancestor(conn: &mut PgConnection, ancestor: Uuid, of: Uuid) -> Result<bool, Error> {
    let row: Exists = diesel::sql_query(
        "WITH RECURSIVE chain (id, parent_id) AS ( \
             SELECT id, parent_id FROM organizations WHERE id = $1 \
           UNION \
             SELECT o.id, o.parent_id FROM organizations o JOIN chain c ON o.id = c.parent_id \
         ) SELECT EXISTS (SELECT 1 FROM chain WHERE id = $2) AS exists",
    )
    .bind::<SqlUuid, _>(of)
    .bind::<SqlUuid, _>(ancestor)
    .get_result(conn)?;
    Ok(row.exists)
}

#[cfg(test)]
mod tests {
    use super::OrganizationKind::{self, *};

    #[test]
    fn kinds_serialize_as_their_stored_text() {
        let all: [OrganizationKind; 11] = [
            Alliance,
            PartyCommittee,
            PartyGeneralBranch,
            PartyBranch,
            PartyWorkingCommittee,
            Enterprise,
            SciencePark,
            GovernmentDepartment,
            School,
            StreetOffice,
            Other,
        ];
        for kind in all {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
