//! When roles are held: SQL conditions on the period of a role (from the
//! first day of its `start_date` to the last day of its `end_date`, both
//! partial dates, both days included, a missing one open), for listings of
//! roles and of the people holding them.

use crate::error::Error;
use crate::store::sort::{keyset_page, Keyset, NameSort, Plan, SortOrder};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Uuid as SqlUuid};
use uuid::Uuid;

/// Opens the condition "the role started on or before the day bound next".
const STARTED: &str = "(roles.start_date IS NULL OR partial_date_first(roles.start_date) <= ";
/// Continues [`STARTED`]: "… and it had not ended before the day bound next".
const NOT_ENDED: &str = ") AND (roles.end_date IS NULL OR partial_date_last(roles.end_date) >= ";

/// Roles active on `day`: started on or before it (or with no start) and
/// not ended before it (or with no end). Both boundary days count.
pub fn active_on<QS: 'static>(
    day: NaiveDate,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    Box::new(
        sql::<Bool>(STARTED)
            .bind::<Date, _>(day)
            .sql(NOT_ENDED)
            .bind::<Date, _>(day)
            .sql(")"),
    )
}

/// People (rows of `people`) holding a live role — in `organization` when
/// given, active on `day` when given.
pub fn person_holds_role<QS: 'static>(
    organization: Option<Uuid>,
    day: Option<NaiveDate>,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    const HELD: &str = "EXISTS (SELECT 1 FROM roles \
        WHERE roles.person_id = people.id AND roles.deleted_at IS NULL";
    match (organization, day) {
        (Some(organization), Some(day)) => Box::new(
            sql::<Bool>(&format!("{HELD} AND roles.organization_id = "))
                .bind::<SqlUuid, _>(organization)
                .sql(&format!(" AND {STARTED}"))
                .bind::<Date, _>(day)
                .sql(NOT_ENDED)
                .bind::<Date, _>(day)
                .sql("))"),
        ),
        (Some(organization), None) => Box::new(
            sql::<Bool>(&format!("{HELD} AND roles.organization_id = "))
                .bind::<SqlUuid, _>(organization)
                .sql(")"),
        ),
        (None, Some(day)) => Box::new(
            sql::<Bool>(&format!("{HELD} AND {STARTED}"))
                .bind::<Date, _>(day)
                .sql(NOT_ENDED)
                .bind::<Date, _>(day)
                .sql("))"),
        ),
        (None, None) => Box::new(sql::<Bool>(&format!("{HELD})"))),
    }
}

/// The ids of the people of one keyset page of `/v1/people` filtered by
/// organization alone (and `day`): those holding a live role in
/// `organization` (active on `day` when given), in `page` order, read
/// from `role_holders` by one walk of its index from the cursor on.
pub fn holders_page(
    conn: &mut PgConnection,
    organization: Uuid,
    day: Option<NaiveDate>,
    page: Keyset<NameSort>,
) -> Result<Vec<Uuid>, Error> {
    use crate::db::schema::role_holders::dsl;
    let mut query = match page.sort.column() {
        ("name", _) => dsl::role_holders
            .distinct_on((dsl::name, dsl::id))
            .select(dsl::id)
            .into_boxed(),
        _ => dsl::role_holders
            .distinct_on((dsl::created_at, dsl::id))
            .select(dsl::id)
            .into_boxed(),
    }
    .filter(dsl::organization_id.eq(organization));
    if let Some(day) = day {
        query = query
            .filter(dsl::first_day.is_null().or(dsl::first_day.le(day)))
            .filter(dsl::last_day.is_null().or(dsl::last_day.ge(day)));
    }
    keyset_page(conn, query, "role_holders", page, Plan::Prepared)
}
