//! Issue 11's Popolo fields, end to end: partial dates and how periods
//! read them, events by day (in their time zone), by instant or undated,
//! the new embeds and filters, links, the new kinds, and the change feed
//! over events recorded before and after.

use crate::helpers::{column, id, mint_key, spawn_app, spawn_app_on, Reply, TestApp, TestDatabase};
use alliance_registry::db::migrate::{ensure_database_exists, MIGRATIONS};
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::RunQueryDsl;
use diesel_migrations::MigrationHarness;
use serde_json::{json, Value};
use std::collections::HashSet;

/// The `field`s of a problem's errors, sorted.
fn fields(problem: &Value) -> Vec<String> {
    let mut fields = Reply::fields(problem);
    fields.sort();
    fields
}

/// The titles of a page of events or roles.
fn titles(page: &Value) -> Vec<String> {
    column(page, "title")
}

/// The titles of a page of events or roles, sorted.
fn sorted_titles(page: &Value) -> Vec<String> {
    let mut titles = titles(page);
    titles.sort();
    titles
}

/// The titles of the roles of a page of a role view (members of an
/// organization, roles of a person), sorted.
fn view_titles(page: &Value) -> Vec<String> {
    let mut titles: Vec<String> = page["items"]
        .as_array()
        .expect("a page has items")
        .iter()
        .map(|item| item["role"]["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

/// The names of a page of people, sorted.
fn names(page: &Value) -> Vec<String> {
    let mut names = column(page, "name");
    names.sort();
    names
}

async fn event_titles(app: &TestApp, query: &str) -> Vec<String> {
    titles(
        &app.get(&format!("/v1/events?{query}"))
            .await
            .expect(200)
            .json(),
    )
}

// 1. Partial dates.

#[actix_web::test]
async fn partial_dates_are_accepted_and_returned_as_written() {
    let app = spawn_app().await;
    for date in ["2023", "2023-05", "2023-05-23"] {
        let org = app
            .create_organization(
                json!({"name": format!("Founded {date}"), "kind": "other", "founding_date": date, "dissolution_date": date}),
            )
            .await;
        assert_eq!(org["founding_date"], date);
        assert_eq!(org["dissolution_date"], date);
        let stored = app
            .get(&format!("/v1/organizations/{}", id(&org)))
            .await
            .expect(200)
            .json();
        assert_eq!(stored["founding_date"], date, "stored as written");

        let person = app
            .post(
                "/v1/people",
                &json!({"name": format!("Born {date}"), "birth_date": date, "death_date": date,
                    "other_names": [{"name": "Alias", "start_date": date, "end_date": date}]}),
            )
            .await
            .expect(201)
            .json();
        assert_eq!(person["birth_date"], date);
        assert_eq!(person["death_date"], date);
        assert_eq!(person["other_names"][0]["start_date"], date);
        assert_eq!(person["other_names"][0]["end_date"], date);

        let role = app
            .role(
                json!({"organization_id": id(&org), "person_id": id(&person), "title": "Secretary",
                "start_date": date, "end_date": date}),
            )
            .await;
        assert_eq!(role["start_date"], date);
        assert_eq!(role["end_date"], date);
    }
}

#[actix_web::test]
async fn impossible_partial_dates_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let org = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Zhou Haiying").await;
    for bad in ["2023-13", "2023-02-30", "0000", "2023-5"] {
        for field in ["founding_date", "dissolution_date"] {
            let problem = app
                .post(
                    "/v1/organizations",
                    &json!({"name": "Unit", "kind": "other", field: bad}),
                )
                .await
                .problem(422);
            assert_eq!(fields(&problem), [field], "{field}: {bad}");
        }
        for field in ["birth_date", "death_date"] {
            let problem = app
                .post("/v1/people", &json!({"name": "Someone", field: bad}))
                .await
                .problem(422);
            assert_eq!(fields(&problem), [field], "{field}: {bad}");
        }
        for field in ["start_date", "end_date"] {
            let problem = app
                .post(
                    "/v1/roles",
                    &json!({"organization_id": id(&org), "person_id": id(&person), "title": "Member", field: bad}),
                )
                .await
                .problem(422);
            assert_eq!(fields(&problem), [field], "{field}: {bad}");
            let problem = app
                .post(
                    "/v1/organizations",
                    &json!({"name": "Unit", "kind": "other",
                        "other_names": [{"name": "Fine"}, {"name": "Alias", field: bad}]}),
                )
                .await
                .problem(422);
            assert_eq!(
                fields(&problem),
                [format!("other_names[1].{field}")],
                "{field}: {bad}"
            );
        }
    }
}

#[actix_web::test]
async fn a_role_from_a_year_is_active_through_that_year_and_one_until_a_month_through_its_last_day()
{
    let app = spawn_app().await;
    let org = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    let since = app.person("Since 2020").await;
    let until = app.person("Until 2020-05").await;
    app.role(json!({"organization_id": id(&org), "person_id": id(&since), "title": "Secretary", "start_date": "2020"}))
        .await;
    app.role(json!({"organization_id": id(&org), "person_id": id(&until), "title": "Deputy Secretary", "end_date": "2020-05"}))
        .await;

    for (day, expected) in [
        ("2019-12-31", vec!["Deputy Secretary"]),
        ("2020-01-01", vec!["Deputy Secretary", "Secretary"]),
        ("2020-05-31", vec!["Deputy Secretary", "Secretary"]),
        ("2020-06-01", vec!["Secretary"]),
    ] {
        let roles = app
            .get(&format!("/v1/roles?active_on={day}"))
            .await
            .expect(200)
            .json();
        assert_eq!(sorted_titles(&roles), expected, "/v1/roles on {day}");
        let members = app
            .get(&format!(
                "/v1/organizations/{}/members?active_on={day}",
                id(&org)
            ))
            .await
            .expect(200)
            .json();
        assert_eq!(view_titles(&members), expected, "members on {day}");
        let people = app
            .get(&format!("/v1/people?active_on={day}"))
            .await
            .expect(200)
            .json();
        let expected_people: Vec<&str> = expected
            .iter()
            .map(|title| {
                if *title == "Secretary" {
                    "Since 2020"
                } else {
                    "Until 2020-05"
                }
            })
            .collect();
        let mut expected_people: Vec<String> =
            expected_people.into_iter().map(str::to_owned).collect();
        expected_people.sort();
        assert_eq!(names(&people), expected_people, "/v1/people on {day}");
        let people_there = app
            .get(&format!(
                "/v1/people?organization_id={}&active_on={day}",
                id(&org)
            ))
            .await
            .expect(200)
            .json();
        assert_eq!(
            names(&people_there),
            expected_people,
            "/v1/people in the organization on {day}"
        );
    }
    let held = |person: &Value, day: &str| {
        let path = format!("/v1/people/{}/roles?active_on={day}", id(person));
        let app = &app;
        async move { view_titles(&app.get(&path).await.expect(200).json()) }
    };
    assert_eq!(held(&since, "2020-06-01").await, ["Secretary"]);
    assert!(held(&since, "2019-12-31").await.is_empty());
    assert_eq!(held(&until, "2020-05-31").await, ["Deputy Secretary"]);
    assert!(held(&until, "2020-06-01").await.is_empty());
}

#[actix_web::test]
async fn a_partial_end_may_share_its_start_s_span_but_not_end_before_it_begins() {
    let app = spawn_app().await;
    let org = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Jiang Daorong").await;

    // Roles.
    let role = app
        .role(
            json!({"organization_id": id(&org), "person_id": id(&person), "title": "Secretary",
            "start_date": "2020-05", "end_date": "2020"}),
        )
        .await;
    assert_eq!(
        (&role["start_date"], &role["end_date"]),
        (&json!("2020-05"), &json!("2020"))
    );
    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": id(&org), "person_id": id(&person), "title": "Deputy",
            "start_date": "2020-05", "end_date": "2020-04"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["end_date"]);
    let problem = app
        .patch(
            &format!("/v1/roles/{}", id(&role)),
            &json!({"end_date": "2020-04"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["end_date"], "a patch is held to it too");

    // Organizations.
    let unit = app
        .create_organization(json!({"name": "Short-lived", "kind": "other",
            "founding_date": "2020-05", "dissolution_date": "2020"}))
        .await;
    assert_eq!(unit["dissolution_date"], "2020");
    let problem = app
        .post(
            "/v1/organizations",
            &json!({"name": "Backwards", "kind": "other",
                "founding_date": "2020-05", "dissolution_date": "2020-04"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["dissolution_date"]);

    // People.
    app.post(
        "/v1/people",
        &json!({"name": "Short life", "birth_date": "1950-05", "death_date": "1950"}),
    )
    .await
    .expect(201);
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "Backwards", "birth_date": "1950-05", "death_date": "1950-04"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["death_date"]);

    // Other names, each named by its place.
    let names = json!([
        {"name": "Old name", "start_date": "2020-05", "end_date": "2020"},
        {"name": "Backwards", "start_date": "2020-05", "end_date": "2020-04"}
    ]);
    for (resource, body) in [
        (
            "/v1/organizations",
            json!({"name": "Named", "kind": "other", "other_names": names}),
        ),
        ("/v1/people", json!({"name": "Named", "other_names": names})),
    ] {
        let problem = app.post(resource, &body).await.problem(422);
        assert_eq!(fields(&problem), ["other_names[1].end_date"], "{resource}");
    }
    let named = app
        .create_organization(json!({"name": "Named", "kind": "other", "other_names": [names[0]]}))
        .await;
    assert_eq!(named["other_names"][0]["start_date"], "2020-05");
    assert_eq!(named["other_names"][0]["end_date"], "2020");
}

#[actix_web::test]
async fn overlapping_roles_are_judged_by_the_spans_of_their_partial_dates() {
    let app = spawn_app().await;
    let org = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Zhou Haiying").await;
    let role = |start: Value, end: Value| json!({"organization_id": id(&org), "person_id": id(&person), "title": "Secretary", "start_date": start, "end_date": end});
    let from_2020 = app.role(role(json!("2020"), Value::Null)).await;

    // Ends within 2020 (March): overlaps a role held from 2020.
    let problem = app
        .post("/v1/roles", &role(Value::Null, json!("2020-03")))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], from_2020["id"]);
    // Ends in the last month before: no overlap.
    app.role(role(Value::Null, json!("2019-12"))).await;

    // A partial end is read through its last day: a role "until 2020-03"
    // overlaps one from 2020-03-15.
    let director = |start: Value, end: Value| json!({"organization_id": id(&org), "person_id": id(&person), "title": "Director", "start_date": start, "end_date": end});
    let from_mid_march = app.role(director(json!("2020-03-15"), Value::Null)).await;
    let problem = app
        .post("/v1/roles", &director(Value::Null, json!("2020-03")))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], from_mid_march["id"]);
    app.role(director(Value::Null, json!("2020-02"))).await;

    // A partial start is read from its first day: a role "from 2022-01"
    // overlaps one until 2022-01-15.
    let treasurer = |start: Value, end: Value| json!({"organization_id": id(&org), "person_id": id(&person), "title": "Treasurer", "start_date": start, "end_date": end});
    let until_mid_january = app.role(treasurer(Value::Null, json!("2022-01-15"))).await;
    let problem = app
        .post("/v1/roles", &treasurer(json!("2022-01"), Value::Null))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], until_mid_january["id"]);
    app.role(treasurer(json!("2022-02"), Value::Null)).await;

    // And the other roles' dates too: one "until 2021" overlaps a role from
    // 2021-12-31, not one from 2022.
    let convenor = |start: Value, end: Value| json!({"organization_id": id(&org), "person_id": id(&person), "title": "Convenor", "start_date": start, "end_date": end});
    let until_2021 = app.role(convenor(Value::Null, json!("2021"))).await;
    let problem = app
        .post("/v1/roles", &convenor(json!("2021-12-31"), Value::Null))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], until_2021["id"]);
    app.role(convenor(json!("2022"), Value::Null)).await;

    // Moving a role into an overlap by merge patch is refused the same way.
    let problem = app
        .patch(
            &format!("/v1/roles/{}", id(&from_mid_march)),
            &json!({"start_date": "2020-02"}),
        )
        .await
        .problem(409);
    assert!(problem["conflicts"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
}

// 2. Events by day, by instant, or undated.

#[actix_web::test]
async fn an_all_day_event_is_found_by_its_local_day() {
    let app = spawn_app().await;
    let seminar = app
        .event(
            json!({"title": "Founding seminar", "kind": "seminar", "status": "held",
            "start_date": "2023-05-23", "timezone": "Asia/Shanghai"}),
        )
        .await;
    assert_eq!(seminar["start_date"], "2023-05-23");
    assert_eq!(seminar["starts_at"], Value::Null);
    assert_eq!(seminar["end_date"], Value::Null);
    assert_eq!(seminar["timezone"], "Asia/Shanghai");

    let found = ["Founding seminar"];
    let none: [&str; 0] = [];
    // The day in Shanghai is 2023-05-22T16:00Z to 2023-05-23T16:00Z.
    for (query, expected) in [
        (
            "from=2023-05-23T00:00:00Z&to=2023-05-23T23:59:59Z",
            &found[..],
        ),
        ("from=2023-05-23&to=2023-05-23", &found),
        ("from=2023-05-23", &found),
        ("to=2023-05-23", &found),
        ("from=2023-05-22T16:00:00Z&to=2023-05-22T16:00:00Z", &found),
        ("from=2023-05-23T15:59:59Z", &found),
        ("from=2023-05-24", &none),
        ("to=2023-05-22", &none),
        ("from=2023-05-24&to=2023-05-24", &none),
        ("from=2023-05-23T16:00:00Z", &none),
        ("to=2023-05-22T15:59:59Z", &none),
    ] {
        assert_eq!(event_titles(&app, query).await, expected, "{query}");
    }

    // Two days: found on either.
    app.event(
        json!({"title": "Two-day activity", "status": "held", "start_date": "2023-06-01",
        "end_date": "2023-06-02", "timezone": "UTC"}),
    )
    .await;
    assert_eq!(
        event_titles(&app, "from=2023-06-02&to=2023-06-02").await,
        ["Two-day activity"]
    );
    assert_eq!(
        event_titles(&app, "from=2023-06-02T23:00:00Z").await,
        ["Two-day activity"]
    );
    assert!(event_titles(&app, "from=2023-06-03").await.is_empty());
}

#[actix_web::test]
async fn a_timed_event_is_found_by_the_local_day_of_its_own_time_zone() {
    let app = spawn_app().await;
    // 2023-05-23T15:30Z: the 23rd in Shanghai and in UTC.
    app.event(json!({"title": "Late in Shanghai", "status": "held",
        "starts_at": "2023-05-23T23:30:00+08:00", "timezone": "Asia/Shanghai"}))
        .await;
    // 2023-05-23T17:30Z: the 24th in Shanghai, the 23rd in UTC.
    app.event(json!({"title": "Early in Shanghai", "status": "held",
        "starts_at": "2023-05-24T01:30:00+08:00", "timezone": "Asia/Shanghai"}))
        .await;
    app.event(json!({"title": "Same instant in UTC", "status": "held",
        "starts_at": "2023-05-24T01:30:00+08:00", "timezone": "UTC"}))
        .await;

    let mut on_23 = event_titles(&app, "from=2023-05-23&to=2023-05-23").await;
    on_23.sort();
    assert_eq!(on_23, ["Late in Shanghai", "Same instant in UTC"]);
    assert_eq!(
        event_titles(&app, "from=2023-05-24&to=2023-05-24").await,
        ["Early in Shanghai"]
    );
}

#[actix_web::test]
async fn the_time_zone_defaults_to_the_configured_one_and_must_be_known() {
    let app = spawn_app().await;
    let event = app
        .event(json!({"title": "Seminar", "start_date": "2023-05-23"}))
        .await;
    assert_eq!(event["timezone"], "Asia/Shanghai", "the tests' default");
    // The default counts for the day: the Shanghai day starts at 16:00Z.
    assert!(event_titles(&app, "from=2023-05-23T16:00:00Z")
        .await
        .is_empty());

    for zone in ["Mars/Olympus", "asia/shanghai", "+08:00"] {
        let problem = app
            .post(
                "/v1/events",
                &json!({"title": "x", "start_date": "2023-05-23", "timezone": zone}),
            )
            .await
            .problem(422);
        assert_eq!(fields(&problem), ["timezone"], "{zone}");
    }

    let doc = app.get("/openapi.json").await.expect(200).json();
    let zones: Vec<&str> = doc["components"]["schemas"]["Timezone"]["enum"]
        .as_array()
        .expect("the schema lists the zones")
        .iter()
        .map(|zone| zone.as_str().unwrap())
        .collect();
    for zone in ["Asia/Shanghai", "UTC", "Europe/Berlin"] {
        assert!(zones.contains(&zone), "{zone}");
    }
    assert!(!zones.contains(&"Mars/Olympus"));
}

#[actix_web::test]
async fn planned_and_recurring_events_may_be_undated_and_come_last() {
    let app = spawn_app().await;
    let activities = app
        .event(json!({"title": "Rotating themed activities", "kind": "themed_activity",
            "status": "recurring", "recurrence": "each quarter, hosted by the member units in turn"}))
        .await;
    assert_eq!(activities["starts_at"], Value::Null);
    assert_eq!(activities["start_date"], Value::Null);
    assert_eq!(
        activities["recurrence"],
        "each quarter, hosted by the member units in turn"
    );
    app.event(json!({"title": "Next joint meeting", "kind": "joint_meeting"}))
        .await;
    app.event(json!({"title": "Founding seminar", "status": "held", "start_date": "2023-05-23"}))
        .await;
    app.event(
        json!({"title": "Discussion", "status": "held", "starts_at": "2023-05-23T10:30:00+08:00"}),
    )
    .await;

    assert_eq!(
        event_titles(&app, "").await,
        [
            "Founding seminar",
            "Discussion",
            "Rotating themed activities",
            "Next joint meeting"
        ],
        "undated events come after every dated one"
    );
    for query in [
        "from=0001-01-01",
        "to=9999-12-31",
        "from=2000-01-01T00:00:00Z",
        "to=9999-12-31T23:59:59Z",
        "from=0001-01-01&to=9999-12-31",
    ] {
        assert_eq!(
            event_titles(&app, query).await,
            ["Founding seminar", "Discussion"],
            "a period leaves undated events out: {query}"
        );
    }
    let fetched = app
        .get(&format!("/v1/events/{}", id(&activities)))
        .await
        .expect(200)
        .json();
    assert_eq!(fetched["status"], "recurring");
    assert_eq!(fetched["recurrence"], activities["recurrence"]);

    // Once held, it needs its date.
    let path = format!("/v1/events/{}", id(&activities));
    let problem = app
        .patch(&path, &json!({"status": "held"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["start_date", "starts_at"]);
    let held = app
        .patch(
            &path,
            &json!({"status": "held", "start_date": "2023-11-11"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(held["recurrence"], activities["recurrence"]);
    assert_eq!(
        event_titles(&app, "from=2023-11-11&to=2023-11-11").await,
        ["Rotating themed activities"]
    );
}

#[actix_web::test]
async fn an_event_is_timed_all_day_or_undated_never_two_at_once() {
    let app = spawn_app().await;
    let refused = |body: Value| {
        let app = &app;
        async move { fields(&app.post("/v1/events", &body).await.problem(422)) }
    };
    for status in ["held", "cancelled", "postponed"] {
        assert_eq!(
            refused(json!({"title": "x", "status": status})).await,
            ["start_date", "starts_at"],
            "{status} without a date"
        );
    }
    assert_eq!(
        refused(json!({"title": "x", "starts_at": "2023-05-23T09:30:00+08:00", "start_date": "2023-05-23"})).await,
        ["start_date", "starts_at"]
    );
    assert_eq!(
        refused(json!({"title": "x", "end_date": "2023-05-23"})).await,
        ["end_date"]
    );
    assert_eq!(
        refused(
            json!({"title": "x", "start_date": "2023-05-23", "ends_at": "2023-05-23T10:00:00Z"})
        )
        .await,
        ["ends_at"]
    );
    assert_eq!(
        refused(json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z", "ends_at": "2023-05-23T09:59:59Z"}))
            .await,
        ["ends_at"]
    );
    assert_eq!(
        refused(json!({"title": "x", "start_date": "2023-05-23", "end_date": "2023-05-22"})).await,
        ["end_date"]
    );
    assert_eq!(
        refused(json!({"title": "x", "start_date": "2023-05"})).await,
        ["start_date"],
        "an event's day is a whole day"
    );
}

#[actix_web::test]
async fn sorting_by_start_interleaves_all_day_and_timed_events() {
    let app = spawn_app().await;
    // Begins 2023-05-23T00:00Z.
    app.event(json!({"title": "All day in UTC", "start_date": "2023-05-23", "timezone": "UTC"}))
        .await;
    app.event(json!({"title": "At 17:00Z", "starts_at": "2023-05-22T17:00:00Z"}))
        .await;
    // Begins 2023-05-22T16:00Z.
    app.event(json!({"title": "All day in Shanghai", "start_date": "2023-05-23", "timezone": "Asia/Shanghai"}))
        .await;
    app.event(json!({"title": "At 15:00Z", "starts_at": "2023-05-22T15:00:00Z"}))
        .await;
    app.event(json!({"title": "Undated", "status": "planned"}))
        .await;

    let order = [
        "At 15:00Z",
        "All day in Shanghai",
        "At 17:00Z",
        "All day in UTC",
        "Undated",
    ];
    assert_eq!(event_titles(&app, "sort=starts_at").await, order);
    let mut reversed = order.to_vec();
    reversed.reverse();
    assert_eq!(event_titles(&app, "sort=-starts_at").await, reversed);
}

/// Every event of the listing `query`, walking pages of one by the
/// `next_cursor`s.
async fn walk(app: &TestApp, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = format!("/v1/events?limit=1&{query}");
    for _ in 0..100 {
        let page = app.get(&path).await.expect(200).json();
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/events?limit=1&{query}&cursor={cursor}"),
            None => return seen,
        }
    }
    panic!("the walk does not end: {seen:?}");
}

#[actix_web::test]
async fn pages_of_one_walk_every_event_once_undated_ones_included() {
    let app = spawn_app().await;
    for (title, body) in [
        ("Undated 1", json!({"status": "planned"})),
        ("Timed", json!({"starts_at": "2023-05-23T01:30:00Z"})),
        (
            "Undated 2",
            json!({"status": "recurring", "recurrence": "monthly"}),
        ),
        ("All day", json!({"start_date": "2023-05-23"})),
        ("Undated 3", json!({"status": "planned"})),
    ] {
        let mut body = body;
        body["title"] = json!(title);
        app.event(body).await;
    }
    let all: HashSet<String> = ["Undated 1", "Timed", "Undated 2", "All day", "Undated 3"]
        .map(str::to_owned)
        .into();
    for sort in ["starts_at", "-starts_at", "created_at", "-created_at"] {
        let seen = walk(&app, &format!("sort={sort}")).await;
        assert_eq!(seen.len(), 5, "{sort}: {seen:?}");
        assert_eq!(
            seen.iter().cloned().collect::<HashSet<_>>(),
            all,
            "{sort}: each exactly once"
        );
        if sort == "starts_at" {
            assert_eq!(
                seen,
                ["All day", "Timed", "Undated 1", "Undated 2", "Undated 3"]
            );
        }
    }
}

#[actix_web::test]
async fn a_timed_event_becomes_all_day_by_merge_patch() {
    let app = spawn_app().await;
    let event = app
        .event(json!({"title": "Seminar", "status": "held",
            "starts_at": "2023-05-23T09:30:00+08:00", "ends_at": "2023-05-23T12:00:00+08:00"}))
        .await;
    let path = format!("/v1/events/{}", id(&event));

    let problem = app
        .patch(&path, &json!({"start_date": "2023-05-23"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["start_date", "starts_at"]);

    let all_day = app
        .patch(
            &path,
            &json!({"starts_at": null, "ends_at": null, "start_date": "2023-05-23", "end_date": "2023-05-24"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(all_day["starts_at"], Value::Null);
    assert_eq!(all_day["ends_at"], Value::Null);
    assert_eq!(all_day["start_date"], "2023-05-23");
    assert_eq!(all_day["end_date"], "2023-05-24");
    assert_eq!(
        event_titles(&app, "from=2023-05-24&to=2023-05-24").await,
        ["Seminar"],
        "its derived span follows"
    );

    let timed = app
        .patch(
            &path,
            &json!({"start_date": null, "end_date": null, "starts_at": "2023-06-01T09:00:00+08:00"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(timed["starts_at"], "2023-06-01T01:00:00Z");
    assert!(event_titles(&app, "from=2023-05-24&to=2023-05-24")
        .await
        .is_empty());
    assert_eq!(
        event_titles(&app, "from=2023-06-01&to=2023-06-01").await,
        ["Seminar"]
    );
}

// 3. Sessions with their participants.

#[actix_web::test]
async fn sessions_embed_their_participants_only_when_asked() {
    let app = spawn_app().await;
    let seminar = app
        .event(json!({"title": "Seminar", "start_date": "2023-05-23"}))
        .await;
    let session = app
        .event(json!({"title": "Discussion", "start_date": "2023-05-23", "parent_event_id": id(&seminar)}))
        .await;
    let host = app.person("Host").await;
    let speaker = app
        .organization("Party Committee of Oujian Network", "party_committee", None)
        .await;
    app.participant(&seminar, json!({"person_id": id(&host), "role": "host"}))
        .await;
    app.participant(
        &session,
        json!({"organization_id": id(&speaker), "role": "speaker"}),
    )
    .await;
    let get = |embed: &str| {
        let path = format!("/v1/events/{}?embed={embed}", id(&seminar));
        let app = &app;
        async move { app.get(&path).await.expect(200).json() }
    };

    let event = get("sessions.participants").await;
    assert!(event.get("participants").is_none());
    let sessions = event["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        column(
            &json!({"items": sessions[0]["participants"]}),
            "organization_name"
        ),
        ["Party Committee of Oujian Network"]
    );

    let event = get("participants,sessions").await;
    assert_eq!(
        column(&json!({"items": event["participants"]}), "person_name"),
        ["Host"]
    );
    assert!(
        event["sessions"][0].get("participants").is_none(),
        "sessions' participants only with sessions.participants"
    );

    let event = get("participants,sessions.participants").await;
    assert_eq!(event["participants"].as_array().unwrap().len(), 1);
    assert_eq!(event["sessions"][0]["participants"][0]["role"], "speaker");

    let twice = get("sessions,sessions").await;
    assert!(twice["sessions"].is_array() && twice.get("participants").is_none());
    for embed in ["participants,bogus", "session.participants", ""] {
        let problem = app
            .get(&format!("/v1/events/{}?embed={embed}", id(&seminar)))
            .await
            .problem(400);
        assert_eq!(fields(&problem), ["embed"], "{embed:?}");
    }
}

// 4. Sub-organizations count as their organization.

#[actix_web::test]
async fn include_descendants_counts_sub_organizations_as_theirs() {
    let app = spawn_app().await;
    let company = app.organization("Youkede", "enterprise", None).await;
    let branch = app
        .organization("Party Branch of Youkede", "party_branch", Some(&company))
        .await;
    let group = app
        .organization("Youkede Youth League", "other", Some(&branch))
        .await;
    let other = app.organization("Bilibili", "enterprise", None).await;
    let person = app.person("Speaker").await;

    let seminar = app
        .event(json!({"title": "Seminar", "start_date": "2023-05-23"}))
        .await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&branch), "role": "speaker"}),
    )
    .await;
    let meeting = app
        .event(json!({"title": "Joint meeting", "start_date": "2023-09-01"}))
        .await;
    app.participant(
        &meeting,
        json!({"person_id": id(&person), "role": "speaker", "on_behalf_of_id": id(&group)}),
    )
    .await;
    let elsewhere = app
        .event(json!({"title": "Elsewhere", "start_date": "2023-10-01"}))
        .await;
    app.participant(
        &elsewhere,
        json!({"organization_id": id(&other), "role": "host"}),
    )
    .await;

    let company_id = id(&company);
    assert!(event_titles(&app, &format!("organization_id={company_id}"))
        .await
        .is_empty());
    assert!(event_titles(
        &app,
        &format!("organization_id={company_id}&include_descendants=false")
    )
    .await
    .is_empty());
    assert_eq!(
        event_titles(
            &app,
            &format!("organization_id={company_id}&include_descendants=true")
        )
        .await,
        ["Seminar", "Joint meeting"]
    );
    assert_eq!(
        event_titles(
            &app,
            &format!("organization_id={}&include_descendants=true", id(&branch))
        )
        .await,
        ["Seminar", "Joint meeting"]
    );
    assert_eq!(
        event_titles(
            &app,
            &format!("organization_id={}&include_descendants=true", id(&group))
        )
        .await,
        ["Joint meeting"],
        "only what is below, not above"
    );

    app.role(
        json!({"organization_id": id(&company), "person_id": id(&person), "title": "Manager"}),
    )
    .await;
    app.role(json!({"organization_id": id(&branch), "person_id": id(&person), "title": "Branch Secretary"}))
        .await;
    app.role(json!({"organization_id": id(&group), "person_id": id(&person), "title": "League Secretary"}))
        .await;
    app.role(
        json!({"organization_id": id(&other), "person_id": id(&person), "title": "Elsewhere"}),
    )
    .await;
    let roles = |query: String| {
        let app = &app;
        async move {
            sorted_titles(
                &app.get(&format!("/v1/roles?{query}"))
                    .await
                    .expect(200)
                    .json(),
            )
        }
    };
    assert_eq!(
        roles(format!("organization_id={company_id}")).await,
        ["Manager"]
    );
    assert_eq!(
        roles(format!(
            "organization_id={company_id}&include_descendants=true"
        ))
        .await,
        ["Branch Secretary", "League Secretary", "Manager"]
    );

    for path in [
        "/v1/events?include_descendants=true",
        "/v1/roles?include_descendants=true",
    ] {
        let problem = app.get(path).await.problem(400);
        assert_eq!(fields(&problem), ["include_descendants"], "{path}");
    }
}

// 5. Roles: function, on whose behalf, filters and embeds.

#[actix_web::test]
async fn a_role_keeps_its_function_and_on_whose_behalf_it_is_held() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let committee = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    let person = app.person("Jiang Daorong").await;
    let role = app
        .role(
            json!({"organization_id": id(&alliance), "person_id": id(&person),
            "title": "Secretary General", "role": "secretary", "on_behalf_of_id": id(&committee)}),
        )
        .await;
    assert_eq!(role["role"], "secretary");
    assert_eq!(role["on_behalf_of_id"], committee["id"]);
    let stored = app
        .get(&format!("/v1/roles/{}", id(&role)))
        .await
        .expect(200)
        .json();
    assert_eq!(stored["role"], "secretary");
    assert_eq!(stored["on_behalf_of_id"], committee["id"]);

    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": id(&alliance), "person_id": id(&person),
            "title": "Deputy", "on_behalf_of_id": uuid::Uuid::now_v7()}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["on_behalf_of_id"]);

    // Holding a role on its behalf keeps the organization alive.
    let problem = app
        .delete(&format!("/v1/organizations/{}", id(&committee)))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["entity_type"], "role");
    assert_eq!(problem["conflicts"][0]["id"], role["id"]);
    let cleared = app
        .patch(
            &format!("/v1/roles/{}", id(&role)),
            &json!({"on_behalf_of_id": null, "role": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(cleared["on_behalf_of_id"], Value::Null);
    assert_eq!(cleared["role"], Value::Null);
    app.delete(&format!("/v1/organizations/{}", id(&committee)))
        .await
        .expect(204);
}

/// The alliance with its convenor (the Organization Department, role
/// `convenor`), two member units (role `member`) and two officials.
struct Alliance {
    alliance: Value,
    department: Value,
    unit: Value,
    official: Value,
}

async fn alliance(app: &TestApp) -> Alliance {
    let alliance = app.organization("Alliance", "alliance", None).await;
    let department = app
        .organization("Organization Department", "party_department", None)
        .await;
    let unit = app
        .organization("Meituan (Shanghai)", "enterprise", None)
        .await;
    let other_unit = app.organization("Bilibili", "enterprise", None).await;
    let official = app
        .post(
            "/v1/people",
            &json!({"name": "Zhou Haiying", "email": "zhou@example.gov.cn", "birth_date": "1970"}),
        )
        .await
        .expect(201)
        .json();
    let deputy = app.person("Deputy").await;
    app.role(
        json!({"organization_id": id(&alliance), "member_organization_id": id(&department),
        "title": "Convenor", "role": "convenor"}),
    )
    .await;
    for member in [&unit, &other_unit] {
        app.role(json!({"organization_id": id(&alliance), "member_organization_id": id(member),
            "title": format!("Member unit {}", member["name"].as_str().unwrap()), "role": "member"}))
            .await;
    }
    app.role(
        json!({"organization_id": id(&alliance), "person_id": id(&official),
        "title": "Secretary General", "role": "secretary"}),
    )
    .await;
    app.role(
        json!({"organization_id": id(&alliance), "person_id": id(&deputy),
        "title": "Deputy Secretary General", "role": "deputy secretary"}),
    )
    .await;
    // Another organization the unit is part of.
    let park = app
        .organization("Science Park Alliance", "alliance", None)
        .await;
    app.role(
        json!({"organization_id": id(&park), "member_organization_id": id(&unit),
        "title": "Member unit", "role": "member"}),
    )
    .await;
    Alliance {
        alliance,
        department,
        unit,
        official,
    }
}

#[actix_web::test]
async fn the_role_views_filter_by_role_and_title() {
    let app = spawn_app().await;
    let a = alliance(&app).await;
    let members = |query: &str| {
        let path = format!("/v1/organizations/{}/members?{query}", id(&a.alliance));
        let app = &app;
        async move { app.get(&path).await.expect(200).json() }
    };

    let page = members("role=member").await;
    assert_eq!(
        view_titles(&page),
        ["Member unit Bilibili", "Member unit Meituan (Shanghai)"],
        "the member units, not the convenor"
    );
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["member_organization"]["id"] != a.department["id"]));
    let page = members("role=convenor").await;
    assert_eq!(view_titles(&page), ["Convenor"]);
    assert_eq!(
        page["items"][0]["member_organization"]["name"],
        "Organization Department"
    );
    assert!(
        view_titles(&members("role=Member").await).is_empty(),
        "role matches exactly"
    );
    assert_eq!(
        view_titles(&members("title=Secretary").await),
        ["Deputy Secretary General", "Secretary General"]
    );
    assert_eq!(
        view_titles(&members("title=secretary&role=secretary").await),
        ["Secretary General"]
    );
    assert_eq!(
        view_titles(&members("title=member+unit+m").await),
        ["Member unit Meituan (Shanghai)"]
    );

    let held = |query: &str| {
        let path = format!("/v1/people/{}/roles?{query}", id(&a.official));
        let app = &app;
        async move { view_titles(&app.get(&path).await.expect(200).json()) }
    };
    assert_eq!(held("role=secretary").await, ["Secretary General"]);
    assert!(held("role=member").await.is_empty());
    assert_eq!(held("title=general").await, ["Secretary General"]);
    assert!(held("title=deputy").await.is_empty());

    let roles = |query: &str| {
        let path = format!("/v1/roles?{query}");
        let app = &app;
        async move { sorted_titles(&app.get(&path).await.expect(200).json()) }
    };
    assert_eq!(
        roles(&format!(
            "organization_id={}&role=convenor",
            id(&a.alliance)
        ))
        .await,
        ["Convenor"]
    );
    assert_eq!(roles("title=deputy").await, ["Deputy Secretary General"]);
}

#[actix_web::test]
async fn what_a_unit_is_part_of_is_one_request() {
    let app = spawn_app().await;
    let a = alliance(&app).await;

    let page = app
        .get(&format!(
            "/v1/roles?member_organization_id={}&embed=organization",
            id(&a.unit)
        ))
        .await
        .expect(200)
        .json();
    let items = page["items"].as_array().unwrap();
    let mut parts: Vec<&str> = items
        .iter()
        .map(|role| role["organization"]["name"].as_str().unwrap())
        .collect();
    parts.sort();
    assert_eq!(parts, ["Alliance", "Science Park Alliance"]);
    for role in items {
        assert_eq!(role["organization"]["id"], role["organization_id"]);
        assert!(role.get("person").is_none() && role.get("member_organization").is_none());
    }

    let page = app
        .get(&format!(
            "/v1/roles?organization_id={}&role=member&embed=member_organization,organization",
            id(&a.alliance)
        ))
        .await
        .expect(200)
        .json();
    let mut units: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| {
            assert_eq!(role["organization"]["name"], "Alliance");
            role["member_organization"]["name"].as_str().unwrap()
        })
        .collect();
    units.sort();
    assert_eq!(units, ["Bilibili", "Meituan (Shanghai)"]);

    let path = format!("/v1/roles?person_id={}&embed=person", id(&a.official));
    let page = app.get(&path).await.expect(200).json();
    let person = &page["items"][0]["person"];
    assert_eq!(person["name"], "Zhou Haiying");
    assert_eq!(person["email"], "zhou@example.gov.cn");
    assert_eq!(person["birth_date"], "1970");
    let (_, reader) = mint_key(&app.db, "reader", &[Scope::Read], None);
    let page = app
        .send(app.request_as(Method::GET, &path, Some(&reader)), None)
        .await
        .expect(200)
        .json();
    let person = &page["items"][0]["person"];
    assert_eq!(person["name"], "Zhou Haiying");
    for hidden in ["email", "birth_date", "phone"] {
        assert!(
            person.get(hidden).is_none(),
            "{hidden} hidden without pii: {person}"
        );
    }

    for embed in ["area", "person,", "Person", ""] {
        let problem = app
            .get(&format!("/v1/roles?embed={embed}"))
            .await
            .problem(400);
        assert_eq!(fields(&problem), ["embed"], "{embed:?}");
    }
}

// 6. Kinds, classification, links.

#[actix_web::test]
async fn organizations_take_the_new_kinds_and_a_free_classification() {
    let app = spawn_app().await;
    let department = app
        .create_organization(
            json!({"name": "Organization Department of the Yangpu District Party Committee",
            "kind": "party_department", "classification": "district party committee department"}),
        )
        .await;
    assert_eq!(department["kind"], "party_department");
    assert_eq!(
        department["classification"],
        "district party committee department"
    );
    let government = app
        .create_organization(
            json!({"name": "Yangpu District People's Government", "kind": "government"}),
        )
        .await;
    assert_eq!(government["kind"], "government");
    assert_eq!(government["classification"], Value::Null);

    let listed = app
        .get("/v1/organizations?kind=party_department")
        .await
        .expect(200)
        .json();
    assert_eq!(column(&listed, "id"), [id(&department)]);
    let stored = app
        .get(&format!("/v1/organizations/{}", id(&department)))
        .await
        .json();
    assert_eq!(
        stored["classification"],
        "district party committee department"
    );
    let problem = app
        .post(
            "/v1/organizations",
            &json!({"name": "x", "kind": "department"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["kind"]);
}

#[actix_web::test]
async fn every_record_keeps_its_links() {
    let app = spawn_app().await;
    let links = json!([
        {"url": "https://www.shyp.gov.cn/", "note": "official site"},
        {"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}
    ]);
    let org = app
        .create_organization(json!({"name": "Alliance", "kind": "alliance", "links": links}))
        .await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Zhou Haiying", "links": links}),
        )
        .await
        .expect(201)
        .json();
    let role = app
        .role(json!({"organization_id": id(&org), "person_id": id(&person), "title": "Secretary", "links": links}))
        .await;
    let event = app
        .event(json!({"title": "Seminar", "start_date": "2023-05-23", "links": links}))
        .await;
    let participant = app
        .participant(
            &event,
            json!({"person_id": id(&person), "role": "speaker", "links": links}),
        )
        .await;

    for path in [
        format!("/v1/organizations/{}", id(&org)),
        format!("/v1/people/{}", id(&person)),
        format!("/v1/roles/{}", id(&role)),
        format!("/v1/events/{}", id(&event)),
        format!(
            "/v1/events/{}/participants/{}",
            id(&event),
            id(&participant)
        ),
    ] {
        let stored = app.get(&path).await.expect(200).json();
        let kept = stored["links"].as_array().expect("links");
        assert_eq!(kept.len(), 2, "{path}");
        assert_eq!(kept[0]["url"], "https://www.shyp.gov.cn/", "{path}");
        assert_eq!(kept[0]["note"], "official site", "{path}");
        assert_eq!(
            kept[1]["url"], "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html",
            "{path}"
        );
    }

    let bad = json!([{"url": "not a url"}]);
    for (path, body) in [
        (
            "/v1/organizations".to_owned(),
            json!({"name": "x", "kind": "other", "links": bad}),
        ),
        ("/v1/people".to_owned(), json!({"name": "x", "links": bad})),
        (
            "/v1/roles".to_owned(),
            json!({"organization_id": id(&org), "person_id": id(&person), "title": "x", "links": bad}),
        ),
        ("/v1/events".to_owned(), json!({"title": "x", "links": bad})),
        (
            format!("/v1/events/{}/participants", id(&event)),
            json!({"person_id": id(&person), "role": "attendee", "links": bad}),
        ),
    ] {
        let problem = app.post(&path, &body).await.problem(422);
        assert_eq!(fields(&problem), ["links[0].url"], "{path}");
    }
}

// 7. The change feed, across the migration.

/// A database migrated up to (not including) the Popolo fields, with an
/// organization, a role and an event written under the old schema, then
/// migrated the rest of the way.
fn database_from_before_popolo_fields() -> TestDatabase {
    let db = TestDatabase::not_created();
    ensure_database_exists(&db.url).unwrap();
    let mut names: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .iter()
        .map(|migration| migration.name().to_string())
        .collect();
    names.sort();
    let before = names
        .iter()
        .position(|name| name.ends_with("_popolo_fields"))
        .expect("the popolo_fields migration");
    let mut conn = db.connect();
    for _ in 0..before {
        conn.run_next_migration(MIGRATIONS).unwrap();
    }
    for sql in [
        "INSERT INTO organizations (id, name, kind, founding_date) \
         VALUES ('0193a1f2-7c3e-7b1a-9f00-000000000001', 'Old alliance', 'alliance', '2023-05-23')",
        "INSERT INTO people (id, name) \
         VALUES ('0193a1f2-7c3e-7b1a-9f00-000000000002', 'Old official')",
        "INSERT INTO roles (id, organization_id, person_id, title, start_date) \
         VALUES ('0193a1f2-7c3e-7b1a-9f00-000000000003', '0193a1f2-7c3e-7b1a-9f00-000000000001', \
                 '0193a1f2-7c3e-7b1a-9f00-000000000002', 'Secretary', '2023-05-23')",
        "INSERT INTO events (id, title, kind, status, starts_at) \
         VALUES ('0193a1f2-7c3e-7b1a-9f00-000000000004', 'Old seminar', 'seminar', 'held', \
                 '2023-05-23T01:30:00Z')",
    ] {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }
    conn.run_pending_migrations(MIGRATIONS).unwrap();
    db
}

#[actix_web::test]
async fn the_change_feed_renders_events_from_before_and_after_the_popolo_fields() {
    let app = spawn_app_on(database_from_before_popolo_fields(), |_| {}).await;
    app.event(json!({"title": "Timed", "starts_at": "2023-05-23T10:30:00+08:00"}))
        .await;
    app.event(json!({"title": "All day", "status": "held", "start_date": "2023-05-23"}))
        .await;
    app.event(json!({"title": "Undated", "status": "recurring", "recurrence": "each quarter"}))
        .await;
    let old = app
        .get("/v1/events/0193a1f2-7c3e-7b1a-9f00-000000000004")
        .await
        .expect(200)
        .json();
    assert_eq!(old["timezone"], "UTC", "events from before are UTC");
    assert_eq!(
        event_titles(&app, "").await,
        ["All day", "Old seminar", "Timed", "Undated"]
    );
    // Touch the old event so that the feed has an entry of each shape.
    app.patch(
        "/v1/events/0193a1f2-7c3e-7b1a-9f00-000000000004",
        &json!({"description": "Updated after the migration"}),
    )
    .await
    .expect(200);

    let page = app.get("/v1/changes?limit=1000").await.expect(200).json();
    let items = page["items"].as_array().unwrap();
    for item in items {
        assert!(item.get("problem").is_none(), "{item}");
        assert!(item["data"].is_object(), "{item}");
    }
    let events: Vec<&Value> = items
        .iter()
        .filter(|item| item["entity_type"] == "event")
        .collect();
    let by_title = |title: &str| -> Vec<&Value> {
        events
            .iter()
            .map(|item| &item["data"])
            .filter(|data| data["title"] == title)
            .collect()
    };
    let old = by_title("Old seminar");
    assert_eq!(old.len(), 2, "created before, updated after");
    for data in &old {
        assert_eq!(data["starts_at"], "2023-05-23T01:30:00Z");
        assert_eq!(data["timezone"], "UTC");
        assert_eq!(data["start_date"], Value::Null);
        assert_eq!(data["links"], json!([]));
    }
    assert_eq!(old[1]["description"], "Updated after the migration");
    assert_eq!(by_title("Timed")[0]["starts_at"], "2023-05-23T02:30:00Z");
    let all_day = by_title("All day")[0];
    assert_eq!(all_day["start_date"], "2023-05-23");
    assert_eq!(all_day["starts_at"], Value::Null);
    assert_eq!(all_day["timezone"], "Asia/Shanghai");
    let undated = by_title("Undated")[0];
    assert_eq!(undated["starts_at"], Value::Null);
    assert_eq!(undated["start_date"], Value::Null);
    assert_eq!(undated["recurrence"], "each quarter");
    for (entity_type, name) in [("organization", "Old alliance"), ("role", "Secretary")] {
        let item = items
            .iter()
            .find(|item| item["entity_type"] == entity_type)
            .unwrap_or_else(|| panic!("{entity_type} in the feed"));
        let data = &item["data"];
        assert!(
            data["name"] == name || data["title"] == name,
            "{entity_type}: {data}"
        );
    }
    let role = items
        .iter()
        .find(|item| item["entity_type"] == "role")
        .unwrap();
    assert_eq!(role["data"]["start_date"], "2023-05-23");
}

#[test]
fn every_time_zone_the_api_accepts_is_one_postgresql_knows() {
    // The derived spans of all-day events are computed by PostgreSQL from
    // the event's zone: a zone the API accepts but PostgreSQL's time zone
    // database lacks would fail the insert.
    #[derive(diesel::QueryableByName)]
    struct Zone {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let db = TestDatabase::migrated();
    let known: HashSet<String> = diesel::sql_query("SELECT name FROM pg_timezone_names")
        .load::<Zone>(&mut db.connect())
        .unwrap()
        .into_iter()
        .map(|zone| zone.name)
        .collect();
    let missing: Vec<&str> = alliance_registry::domain::Timezone::names()
        .filter(|name| !known.contains(*name))
        .collect();
    assert!(missing.is_empty(), "unknown to PostgreSQL: {missing:?}");
}
