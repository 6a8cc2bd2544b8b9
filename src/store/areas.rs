//! Areas: the places the register's bodies serve (Shanghai, Yangpu
//! District, a street), in a tree through `parent_id`.

use crate::db::schema::areas::{self, dsl};
use crate::domain::Reference;
use crate::error::Error;
use crate::store::crud::Rules;
use crate::store::refs::{RefColumn, Tree, AREAS};
use crate::store::rows::{list_filter, listing, live_rows, referring};
use crate::store::sort::{keyset_page, Keyset, NameSort, Plan};
use crate::store::sql::containing;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// The area tree, through `parent_id`.
const TREE: Tree = Tree {
    parent: RefColumn::new("parent_id", AREAS),
    lock_key: 0x6172_655f_7472_6565,
};

live_rows! {
    /// The areas table.
    pub struct Areas for areas as AREAS;

    /// An area row, tombstones included.
    pub struct AreaRecord {}

    /// The writable content of an area, already validated.
    pub struct AreaData {
        pub name: String,
        /// Open, e.g. `city` or `district`.
        pub classification: Option<String>,
        pub parent_id: Option<Uuid>,
        /// JSON array of `{name, lang?, note?, start_date?, end_date?}`.
        pub other_names: Value,
        /// JSON array of `{url, note?}`.
        pub links: Value,
        /// JSON array of `{url, note?}`.
        pub sources: Value,
        /// JSON array of `{scheme, value}`.
        pub identifiers: Value,
    }

    named by name;
    identified by identifiers;
}

/// Areas form a tree; they are not deleted while live areas, organizations
/// or posts still refer to them.
impl Rules for Areas {
    const TREE: Option<Tree> = Some(TREE);
    const DEPENDENTS: Option<&'static str> = Some(
        "SELECT 'area' AS entity_type, id, name FROM areas \
           WHERE parent_id = $1 AND deleted_at IS NULL \
         UNION ALL \
         SELECT 'organization', id, name FROM organizations \
           WHERE area_id = $1 AND deleted_at IS NULL \
         UNION ALL \
         SELECT 'post', id, label FROM posts \
           WHERE area_id = $1 AND deleted_at IS NULL",
    );

    fn parent(data: &AreaData) -> Option<Uuid> {
        data.parent_id
    }
}

list_filter! {
    /// List filters; all given ones must hold.
    pub struct AreaFilter {
        /// Only areas of this classification (exact).
        pub classification: Option<String>,
        pub parent_id: Option<Reference>,
        /// Case-insensitive substring of the name or any other name.
        pub q: Option<String>,
    }
}

/// One keyset page of live areas.
pub fn list(
    conn: &mut PgConnection,
    filter: &AreaFilter,
    page: Keyset<NameSort>,
) -> Result<Vec<AreaRecord>, Error> {
    let mut query = listing!(areas, AreaRecord, filter, equal[classification]);
    referring!(conn, query, areas, filter, [parent_id => AREAS]);
    if let Some(q) = &filter.q {
        query = query.filter(dsl::search_text.ilike(containing(q)));
    }
    keyset_page(
        conn,
        query,
        "areas",
        page,
        Plan::searching(filter.q.is_some()),
    )
}
