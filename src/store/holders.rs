//! The holders of a post: the live roles naming it as their `post_id`,
//! each with the person or organization holding it. A module of its own,
//! so that neither [`crate::store::posts`] nor [`crate::store::roles`]
//! imports the other.

use crate::db::schema::{organizations, people, roles};
use crate::error::Error;
use crate::store::organizations::OrganizationRecord;
use crate::store::people::PersonRecord;
use crate::store::roles::{MemberRow, RoleRecord};
use crate::store::sort::{keyset_page, CreatedSort, Keyset, Plan};
use crate::store::tenure::active_on;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

/// One keyset page of the live roles holding post `id` (optionally only
/// those active on `day`), each with its holder — in one query.
pub fn holders(
    conn: &mut PgConnection,
    id: Uuid,
    day: Option<NaiveDate>,
    page: Keyset<CreatedSort>,
) -> Result<Vec<MemberRow>, Error> {
    let mut query = roles::table
        .left_join(people::table.on(roles::person_id.eq(people::id.nullable())))
        .left_join(
            organizations::table.on(roles::member_organization_id.eq(organizations::id.nullable())),
        )
        .filter(roles::post_id.eq(id))
        .filter(roles::deleted_at.is_null())
        .select((
            RoleRecord::as_select(),
            Option::<PersonRecord>::as_select(),
            Option::<OrganizationRecord>::as_select(),
        ))
        .into_boxed();
    if let Some(day) = day {
        query = query.filter(active_on(day));
    }
    keyset_page(conn, query, "roles", page, Plan::Prepared)
}
