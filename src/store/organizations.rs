//! Organizations: the alliance, its member units, their party organizations
//! and the government bodies around them, in a tree through `parent_id`.

use crate::db::schema::organizations;
use crate::domain::Reference;
use crate::error::Error;
use crate::store::crud::Rules;
use crate::store::refs::{RefColumn, Tree, AREAS, ORGANIZATIONS};
use crate::store::rows::{list_filter, listing, live_rows, referring, Rows};
use crate::store::sort::{keyset_page, Keyset, NameSort, Plan};
use crate::store::sql::names_containing;
use crate::store::text::text_enum;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// The organization tree, through `parent_id`.
const TREE: Tree = Tree {
    parent: RefColumn::new("parent_id", ORGANIZATIONS),
    lock_key: 0x6f72_675f_7472_6565,
};

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
        /// A department of a party committee, e.g. its Organization
        /// Department (组织部).
        PartyDepartment => "party_department",
        /// A company.
        Enterprise => "enterprise",
        /// A (university) science and technology park.
        SciencePark => "science_park",
        /// A government, e.g. a district people's government.
        Government => "government",
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

live_rows! {
    /// The organizations table.
    pub struct Organizations for organizations as ORGANIZATIONS;

    /// An organization row, tombstones included.
    pub struct OrganizationRecord {}

    /// The writable content of an organization, already validated.
    pub struct OrganizationData {
        pub name: String,
        pub kind: OrganizationKind,
        pub parent_id: Option<Uuid>,
        /// JSON array of `{name, lang?, note?}`.
        pub other_names: Value,
        /// A partial date (YYYY, YYYY-MM or YYYY-MM-DD).
        pub founding_date: Option<String>,
        /// A partial date, not before `founding_date`.
        pub dissolution_date: Option<String>,
        pub description: Option<String>,
        /// JSON array of `{type, value, label?}`.
        pub contact_details: Value,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
        /// Open classification beside `kind`, e.g. "district party committee
        /// department".
        pub classification: Option<String>,
        /// The area the organization serves.
        pub area_id: Option<Uuid>,
        /// JSON array of `{url, note?}` (absent from journal entries written
        /// before links were kept).
        #[serde(default = "crate::store::rows::empty_list")]
        pub links: Value,
    }

    named by name;
    identified by identifiers;
}

/// The area an organization serves, if it serves one.
const AREA: RefColumn = RefColumn::new("area_id", AREAS);

/// Organizations form a tree; they are not deleted while live
/// organizations, roles, posts or event participants still refer to them.
impl Rules for Organizations {
    const TREE: Option<Tree> = Some(TREE);
    const REFERENCES: &'static [crate::store::refs::Reference<OrganizationData>] =
        &[(AREA, |o| o.area_id)];
    const DEPENDENTS: Option<&'static str> = Some(
        "SELECT 'organization' AS entity_type, id, name FROM organizations \
           WHERE parent_id = $1 AND deleted_at IS NULL \
         UNION ALL \
         SELECT 'role', id, title FROM roles \
           WHERE (organization_id = $1 OR member_organization_id = $1 OR on_behalf_of_id = $1) \
             AND deleted_at IS NULL \
         UNION ALL \
         SELECT 'post', id, label FROM posts \
           WHERE organization_id = $1 AND deleted_at IS NULL \
         UNION ALL \
         SELECT 'participant', p.id, p.role || ' at ' || e.title \
           FROM event_participants p JOIN events e ON e.id = p.event_id \
           WHERE (p.organization_id = $1 OR p.on_behalf_of_id = $1) AND p.deleted_at IS NULL",
    );

    fn parent(data: &OrganizationData) -> Option<Uuid> {
        data.parent_id
    }
}

/// The live organization `id`, or 404.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<OrganizationRecord, Error> {
    Organizations::find_live(conn, id)
}

/// Live organization `id` and, with `descendants`, every live organization
/// below it in the tree (an organization's sub-organizations counting as
/// it), in one query.
pub fn and_below(conn: &mut PgConnection, id: Uuid, descendants: bool) -> Result<Vec<Uuid>, Error> {
    if !descendants {
        return Ok(vec![id]);
    }
    #[derive(QueryableByName)]
    struct Below {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let rows: Vec<Below> = diesel::sql_query(
        "WITH RECURSIVE below(id) AS ( \
           SELECT $1::uuid \
           UNION \
           SELECT o.id FROM organizations o JOIN below b ON o.parent_id = b.id \
            WHERE o.deleted_at IS NULL) \
         SELECT id FROM below",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct OrganizationFilter {
        pub kind: Option<OrganizationKind>,
        pub parent_id: Option<Reference>,
        /// Only organizations serving this area.
        pub area_id: Option<Reference>,
        /// Case-insensitive substring of the name or any other name.
        pub q: Option<String>,
    }
}

/// One keyset page of live organizations.
pub fn list(
    conn: &mut PgConnection,
    filter: &OrganizationFilter,
    page: Keyset<NameSort>,
) -> Result<Vec<OrganizationRecord>, Error> {
    let mut query = listing!(organizations, OrganizationRecord, filter, equal[kind]);
    referring!(conn, query, organizations, filter, [
        parent_id => ORGANIZATIONS,
        area_id => AREAS
    ]);
    if let Some(q) = &filter.q {
        query = query.filter(names_containing("organizations", q));
    }
    keyset_page(
        conn,
        query,
        "organizations",
        page,
        Plan::searching(filter.q.is_some()),
    )
}

#[cfg(test)]
mod tests {
    use super::OrganizationKind::{self, *};

    #[test]
    fn kinds_serialize_as_their_stored_text() {
        let all: [OrganizationKind; 13] = [
            Alliance,
            PartyCommittee,
            PartyGeneralBranch,
            PartyBranch,
            PartyWorkingCommittee,
            PartyDepartment,
            Enterprise,
            SciencePark,
            Government,
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
