use crate::helpers::{column, count_queries, id, spawn_app, Reply};
use alliance_registry::store::{roles, CreatedSort, Keyset};
use serde_json::{json, Value};

fn path(role: &Value) -> String {
    format!("/v1/roles/{}", id(role))
}

#[actix_web::test]
async fn a_role_has_exactly_one_member() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let park = app
        .organization("Tongji Science and Technology Park", "science_park", None)
        .await;
    let person = app.person("Zhou Haiying").await;

    for body in [
        json!({"organization_id": id(&alliance), "title": "Member unit"}),
        json!({"organization_id": id(&alliance), "title": "Member unit", "person_id": id(&person), "member_organization_id": id(&park)}),
    ] {
        let problem = app.post("/v1/roles", &body).await.problem(422);
        let mut fields = Reply::fields(&problem);
        fields.sort();
        assert_eq!(fields, ["member_organization_id", "person_id"]);
    }
    let problem = app
        .post("/v1/roles", &json!({"organization_id": id(&alliance), "title": "Member", "member_organization_id": id(&alliance)}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["member_organization_id"]);
    let problem = app
        .post("/v1/roles", &json!({"organization_id": id(&alliance), "title": "Member", "person_id": id(&person), "start_date": "2023-05-23", "end_date": "2023-05-22"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["end_date"]);

    let unit = app
        .role(json!({"organization_id": id(&alliance), "member_organization_id": id(&park), "title": "Member unit", "start_date": "2023-05-23", "note": "First batch"}))
        .await;
    assert_eq!(unit["person_id"], Value::Null);
    let post = app.role(json!({"organization_id": id(&alliance), "person_id": id(&person), "title": "Convenor"})).await;
    assert_eq!(post["member_organization_id"], Value::Null);

    // Switching the member by merge patch must keep exactly one.
    let problem = app
        .patch(&path(&post), &json!({"member_organization_id": id(&park)}))
        .await
        .problem(422);
    assert!(Reply::fields(&problem).contains(&"person_id".to_owned()));
    let switched = app
        .patch(
            &path(&post),
            &json!({"member_organization_id": id(&park), "person_id": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(switched["member_organization_id"], park["id"]);
}

#[actix_web::test]
async fn role_references_must_be_live() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let gone = app.organization("Gone", "other", None).await;
    app.delete(&format!("/v1/organizations/{}", id(&gone)))
        .await
        .expect(204);
    let missing = uuid::Uuid::now_v7();

    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": missing, "person_id": missing, "title": "Member"}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["organization_id", "person_id"]);
    let problem = app
        .post("/v1/roles", &json!({"organization_id": id(&alliance), "member_organization_id": id(&gone), "title": "Member"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["member_organization_id"]);

    // Deleting an organization that has live roles (either side) is 409.
    let park = app
        .organization("Caida Science and Technology Park", "science_park", None)
        .await;
    let role = app.role(json!({"organization_id": id(&alliance), "member_organization_id": id(&park), "title": "Member unit"})).await;
    for org in [&alliance, &park] {
        let problem = app
            .delete(&format!("/v1/organizations/{}", id(org)))
            .await
            .problem(409);
        assert_eq!(problem["conflicts"][0]["entity_type"], "role");
        assert_eq!(problem["conflicts"][0]["id"], role["id"]);
    }
    app.delete(&path(&role)).await.expect(204);
    app.delete(&format!("/v1/organizations/{}", id(&park)))
        .await
        .expect(204);
}

#[actix_web::test]
async fn active_on_includes_both_boundary_days_and_open_ends() {
    let app = spawn_app().await;
    let org = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    let person = app.person("Jiang Daorong").await;
    let base = |title: &str, start: Value, end: Value| json!({"organization_id": id(&org), "person_id": id(&person), "title": title, "start_date": start, "end_date": end});
    app.role(base("Bounded", json!("2023-05-23"), json!("2023-12-31")))
        .await;
    app.role(base("Open-ended", json!("2023-05-23"), Value::Null))
        .await;
    app.role(base("No start", Value::Null, json!("2023-05-22")))
        .await;

    for (day, expected) in [
        ("2023-05-22", vec!["No start"]),
        ("2023-05-23", vec!["Bounded", "Open-ended"]),
        ("2023-12-31", vec!["Bounded", "Open-ended"]),
        ("2024-01-01", vec!["Open-ended"]),
        ("2000-01-01", vec!["No start"]),
    ] {
        let page = app
            .get(&format!("/v1/roles?active_on={day}"))
            .await
            .expect(200)
            .json();
        let mut titles = column(&page, "title");
        titles.sort();
        assert_eq!(titles, expected, "active on {day}");
    }
    let all = app.get("/v1/roles").await.json();
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        3,
        "ended roles stay on record"
    );
}

#[actix_web::test]
async fn an_end_date_ends_a_role_and_history_stays_answerable() {
    let app = spawn_app().await;
    let committee = app
        .organization("Party Committee of Oujian Network", "party_committee", None)
        .await;
    let person = app.person("Secretary A").await;
    let role = app
        .role(json!({"organization_id": id(&committee), "person_id": id(&person), "title": "Secretary", "start_date": "2020-01-01"}))
        .await;
    app.patch(&path(&role), &json!({"end_date": "2024-06-30"}))
        .await
        .expect(200);
    let successor = app.person("Secretary B").await;
    app.role(json!({"organization_id": id(&committee), "person_id": id(&successor), "title": "Secretary", "start_date": "2024-07-01"}))
        .await;

    let then = app
        .get(&format!(
            "/v1/organizations/{}/members?active_on=2023-05-23",
            id(&committee)
        ))
        .await
        .json();
    let names: Vec<_> = then["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["person"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("Secretary A")]);
    let now = app
        .get(&format!(
            "/v1/organizations/{}/members?active_on=2026-01-01",
            id(&committee)
        ))
        .await
        .json();
    let names: Vec<_> = now["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["person"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("Secretary B")]);
}

#[actix_web::test]
async fn role_lists_filter_by_organization_member_and_title() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let district = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    let park = app
        .organization("Shangti Science and Technology Park", "science_park", None)
        .await;
    let person = app.person("Zhou Haiying").await;
    app.role(json!({"organization_id": id(&district), "person_id": id(&person), "title": "Deputy Secretary"})).await;
    app.role(json!({"organization_id": id(&alliance), "member_organization_id": id(&park), "title": "Member unit"})).await;

    let page = app
        .get(&format!("/v1/roles?organization_id={}", id(&district)))
        .await
        .json();
    assert_eq!(column(&page, "title"), ["Deputy Secretary"]);
    let page = app
        .get(&format!("/v1/roles?person_id={}", id(&person)))
        .await
        .json();
    assert_eq!(column(&page, "title"), ["Deputy Secretary"]);
    let page = app
        .get(&format!("/v1/roles?member_organization_id={}", id(&park)))
        .await
        .json();
    assert_eq!(column(&page, "title"), ["Member unit"]);
    let page = app.get("/v1/roles?title=secretary").await.json();
    assert_eq!(column(&page, "title"), ["Deputy Secretary"]);
    let page = app.get("/v1/roles?sort=-created_at").await.json();
    assert_eq!(column(&page, "title"), ["Member unit", "Deputy Secretary"]);
}

#[actix_web::test]
async fn members_view_embeds_people_and_organizations_in_one_query() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Convenor Person").await;
    app.role(
        json!({"organization_id": id(&alliance), "person_id": id(&person), "title": "Convenor"}),
    )
    .await;
    for i in 0..10 {
        let unit = app
            .organization(&format!("Member unit {i}"), "enterprise", None)
            .await;
        app.role(json!({"organization_id": id(&alliance), "member_organization_id": id(&unit), "title": "Member unit", "start_date": "2023-05-23"}))
            .await;
    }
    let page = app
        .get(&format!(
            "/v1/organizations/{}/members?limit=4",
            id(&alliance)
        ))
        .await
        .expect(200);
    assert!(page.header("link").is_some());
    let page = page.json();
    let first = &page["items"][0];
    assert_eq!(first["role"]["title"], "Convenor");
    assert_eq!(first["person"]["name"], "Convenor Person");
    assert_eq!(first["member_organization"], Value::Null);
    let second = &page["items"][1];
    assert_eq!(second["person"], Value::Null);
    assert_eq!(second["member_organization"]["name"], "Member unit 0");

    let before = app
        .get(&format!(
            "/v1/organizations/{}/members?active_on=2023-05-22",
            id(&alliance)
        ))
        .await
        .json();
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        1,
        "only the open-start convenor"
    );

    // The page is one SQL statement however many members it holds.
    let alliance_id: uuid::Uuid = id(&alliance).parse().unwrap();
    let (rows, queries) = count_queries(&app.db, |conn| {
        roles::members(
            conn,
            alliance_id,
            &Default::default(),
            Keyset::first(CreatedSort::CreatedAt, 100),
        )
        .unwrap()
    });
    assert_eq!(rows.len(), 11);
    assert_eq!(queries, 1);
    let person_id: uuid::Uuid = id(&person).parse().unwrap();
    let (rows, queries) = count_queries(&app.db, |conn| {
        roles::held_by(
            conn,
            person_id,
            &Default::default(),
            Keyset::first(CreatedSort::CreatedAt, 100),
        )
        .unwrap()
    });
    assert_eq!((rows.len(), queries), (1, 1));

    app.get(&format!(
        "/v1/organizations/{}/members",
        uuid::Uuid::now_v7()
    ))
    .await
    .problem(404);
}

#[actix_web::test]
async fn a_role_change_postgresql_aborts_to_break_a_deadlock_is_a_503_to_retry_that_wrote_nothing()
{
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app = spawn_app().await;
    let unit = app
        .organization("Yangpu Science Park", "enterprise", None)
        .await;
    let person = app.person("Yu Yang").await;
    let role = app
        .role(
            json!({"person_id": person["id"], "organization_id": unit["id"], "title": "Secretary"}),
        )
        .await;
    let role_id = id(&role).to_owned();
    let (role_path, end) = (path(&role), json!({"end_date": "2030"}));
    // Another writer holds the role's row of role_holders, which the
    // change will wait for while holding the role; it then waits for the
    // role: a cycle, which PostgreSQL breaks by aborting the API's side
    // (this session waits longer before it looks for deadlocks).
    let mut other = app.db.connect();
    other
        .batch_execute(&format!(
            "BEGIN; SET LOCAL deadlock_timeout = '30s';
             SELECT 1 FROM role_holders WHERE role_id = '{role_id}' FOR UPDATE"
        ))
        .unwrap();
    let change = app.patch(&role_path, &end);
    let close_the_cycle = async {
        let mut watcher = app.db.connect();
        while diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<Waiting>(&mut watcher)
        .unwrap()
        .n == 0
        {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        std::thread::spawn(move || {
            other
                .batch_execute(&format!(
                    "UPDATE roles SET title = title WHERE id = '{role_id}'; ROLLBACK"
                ))
                .unwrap();
        })
    };
    let (reply, other_writer) = futures_util::future::join(change, close_the_cycle).await;
    other_writer.join().unwrap();
    assert!(reply.header("retry-after").is_some());
    let problem = reply.problem(503);
    assert_eq!(problem["type"], "/problems/unavailable");
    assert_eq!(app.get(&path(&role)).await.json()["end_date"], Value::Null);
    let retried = app
        .patch(&path(&role), &json!({"end_date": "2030"}))
        .await
        .expect(200);
    assert_eq!(retried.json()["end_date"], "2030");
}
