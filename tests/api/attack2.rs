//! A hostile review of posts, areas and the Popolo interchange: what must
//! not be possible through PATCH, DELETE or an import.

use crate::helpers::{id, mint_key, spawn_app, Reply, TestApp};
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use serde_json::{json, Value};

async fn popolo(app: &TestApp, body: &Value) -> Reply {
    let request = app.request(Method::POST, "/v1/imports?format=popolo");
    app.send(
        request,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn post(app: &TestApp, body: Value) -> Value {
    app.post("/v1/posts", &body).await.expect(201).json()
}

async fn area(app: &TestApp, name: &str, parent: Option<&Value>) -> Value {
    app.post(
        "/v1/areas",
        &json!({"name": name, "parent_id": parent.map(|p| p["id"].clone())}),
    )
    .await
    .expect(201)
    .json()
}

#[actix_web::test]
async fn an_organization_is_not_deleted_while_live_posts_are_in_it() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&department)}),
    )
    .await;
    let problem = app
        .delete(&format!("/v1/organizations/{}", id(&department)))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["entity_type"], "post", "{problem}");
    assert_eq!(problem["conflicts"][0]["id"], director["id"]);
}

#[actix_web::test]
async fn a_post_held_by_live_roles_does_not_move_to_another_organization() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let other = app.organization("Other", "other", None).await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&department)}),
    )
    .await;
    let person = app.person("Zhang San").await;
    let role = app
        .role(
            json!({"organization_id": id(&department), "person_id": id(&person),
                     "title": "Director", "post_id": id(&director)}),
        )
        .await;
    let moved = app
        .patch(
            &format!("/v1/posts/{}", id(&director)),
            &json!({"organization_id": id(&other)}),
        )
        .await;
    let problem = moved.problem(409);
    assert_eq!(problem["conflicts"][0]["id"], role["id"], "{problem}");
    let role = app
        .get(&format!("/v1/roles/{}", id(&role)))
        .await
        .expect(200)
        .json();
    let director = app
        .get(&format!("/v1/posts/{}", id(&director)))
        .await
        .expect(200)
        .json();
    assert_eq!(role["organization_id"], director["organization_id"]);
    // The post moves once no live role holds it.
    app.patch(
        &format!("/v1/roles/{}", id(&role)),
        &json!({"post_id": null}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/v1/posts/{}", id(&director)),
        &json!({"organization_id": id(&other)}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn a_role_does_not_move_to_another_organization_than_its_posts() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let other = app.organization("Other", "other", None).await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&department)}),
    )
    .await;
    let person = app.person("Zhang San").await;
    let role = app
        .role(
            json!({"organization_id": id(&department), "person_id": id(&person),
                     "title": "Director", "post_id": id(&director)}),
        )
        .await;
    let problem = app
        .patch(
            &format!("/v1/roles/{}", id(&role)),
            &json!({"organization_id": id(&other)}),
        )
        .await
        .problem(422);
    assert!(crate::helpers::Reply::fields(&problem).contains(&"post_id".to_owned()));
}

#[actix_web::test]
async fn the_holders_of_a_post_hide_pii_from_a_key_without_it() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&department)}),
    )
    .await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Zhang San", "birth_date": "1970-01-02",
                    "email": "z@example.org", "phone": "+86 21 0000 0000"}),
        )
        .await
        .expect(201)
        .json();
    app.role(
        json!({"organization_id": id(&department), "person_id": id(&person),
                    "title": "Director", "post_id": id(&director)}),
    )
    .await;
    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    for path in [
        format!("/v1/posts/{}/holders", id(&director)),
        "/v1/roles?embed=person,post".to_owned(),
        format!("/v1/organizations/{}/members", id(&department)),
    ] {
        let reply = app
            .send(app.request_as(Method::GET, &path, Some(&reader)), None)
            .await
            .expect(200);
        let text = String::from_utf8_lossy(&reply.body).to_string();
        assert!(!text.contains("1970-01-02"), "{path}: {text}");
        assert!(!text.contains("z@example.org"), "{path}: {text}");
        assert!(!text.contains("0000 0000"), "{path}: {text}");
    }
}

#[actix_web::test]
async fn holders_active_on_takes_a_day_and_reads_partial_role_dates_as_spans() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&department)}),
    )
    .await;
    let person = app.person("Zhang San").await;
    app.role(
        json!({"organization_id": id(&department), "person_id": id(&person),
                    "title": "Director", "post_id": id(&director),
                    "start_date": "2020", "end_date": "2021-02"}),
    )
    .await;
    let holders = |day: &'static str| {
        let path = format!("/v1/posts/{}/holders?active_on={day}", id(&director));
        let app = &app;
        async move { app.get(&path).await }
    };
    for (day, n) in [
        ("2020-01-01", 1),
        ("2021-02-28", 1),
        ("2021-03-01", 0),
        ("2019-12-31", 0),
    ] {
        let page = holders(day).await.expect(200).json();
        assert_eq!(page["items"].as_array().unwrap().len(), n, "{day}");
    }
    for bad in ["2020", "2020-13-01", "2021-02-30"] {
        holders(bad).await.problem(400);
    }
}

#[actix_web::test]
async fn an_area_tree_cycle_is_refused_through_patch_and_put() {
    let app = spawn_app().await;
    let a = area(&app, "A", None).await;
    let b = area(&app, "B", Some(&a)).await;
    let c = area(&app, "C", Some(&b)).await;
    let problem = app
        .patch(
            &format!("/v1/areas/{}", id(&a)),
            &json!({"parent_id": id(&c)}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
    let problem = app
        .put(
            &format!("/v1/areas/{}", id(&a)),
            &json!({"name": "A", "parent_id": id(&b)}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
    app.patch(
        &format!("/v1/areas/{}", id(&a)),
        &json!({"parent_id": id(&a)}),
    )
    .await
    .problem(422);
}

#[actix_web::test]
async fn a_popolo_import_does_not_close_an_area_cycle_through_existing_records() {
    let app = spawn_app().await;
    let a = area(&app, "A", None).await;
    let b = area(&app, "B", Some(&a)).await;
    // A's UUID id with B as parent: B is inside A.
    let doc = json!({"areas": [{"id": id(&a), "name": "A", "parent_id": id(&b)}]});
    let reply = popolo(&app, &doc).await;
    let problem = reply.problem(422);
    assert!(problem.to_string().contains("cycle"), "{problem}");
    // Across the file: a new area under B, and A moved under it.
    let doc = json!({"areas": [
        {"id": id(&a), "name": "A", "parent_id": "new"},
        {"id": "new", "name": "New", "parent_id": id(&b)},
    ]});
    popolo(&app, &doc).await.problem(422);
    let a_now = app
        .get(&format!("/v1/areas/{}", id(&a)))
        .await
        .expect(200)
        .json();
    assert_eq!(a_now["parent_id"], Value::Null);
}

#[actix_web::test]
async fn a_popolo_object_with_the_uuid_of_a_record_of_another_class_creates_its_own() {
    let app = spawn_app().await;
    let department = app.organization("Department", "other", None).await;
    let doc = json!({"persons": [{"id": id(&department), "name": "Zhang San"}],
                     "memberships": [{"person_id": id(&department), "organization_id": id(&department), "label": "Member"}]});
    let report = popolo(&app, &doc).await.expect(201).json();
    assert_eq!(report["counts"]["people"]["created"], 1, "{report}");
    let org = app
        .get(&format!("/v1/organizations/{}", id(&department)))
        .await
        .expect(200)
        .json();
    assert_eq!(org["name"], "Department");
    let roles = app.get("/v1/roles?embed=person").await.expect(200).json();
    assert_eq!(roles["items"][0]["person"]["name"], "Zhang San", "{roles}");
}

#[actix_web::test]
async fn a_popolo_object_with_the_uuid_of_a_deleted_record_does_not_revive_it() {
    let app = spawn_app().await;
    let gone = app.person("Gone").await;
    app.delete(&format!("/v1/people/{}", id(&gone)))
        .await
        .expect(204);
    let doc = json!({"persons": [{"id": id(&gone), "name": "Back"}]});
    let report = popolo(&app, &doc).await.expect(201).json();
    assert_eq!(report["counts"]["people"]["created"], 1, "{report}");
    app.get(&format!("/v1/people/{}", id(&gone)))
        .await
        .problem(404);
}

#[actix_web::test]
async fn two_popolo_objects_do_not_write_one_record() {
    let app = spawn_app().await;
    let alice = app
        .post(
            "/v1/people",
            &json!({"name": "Alice", "identifiers": [{"scheme": "popolo", "value": "alice"}]}),
        )
        .await
        .expect(201)
        .json();
    // "alice" is Alice by her popolo identifier; her UUID is Alice too.
    let doc = json!({"persons": [
        {"id": "alice", "name": "Alice A."},
        {"id": id(&alice), "name": "Alice B."},
    ]});
    let reply = popolo(&app, &doc).await;
    if reply.status == 201 {
        let report = reply.json();
        let people = app.get("/v1/people").await.expect(200).json();
        assert_eq!(
            people["items"].as_array().unwrap().len(),
            2,
            "two objects, two records, or a refusal: {report} {people}"
        );
    } else {
        reply.problem(422);
    }
}

#[actix_web::test]
async fn a_popolo_person_by_uuid_keeps_pii_the_key_cannot_see() {
    let app = spawn_app().await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Zhang San", "birth_date": "1970-01-02"}),
        )
        .await
        .expect(201)
        .json();
    let writer = mint_key(&app.db, "writer", &[Scope::Read, Scope::Write], None).1;
    let doc = json!({"persons": [{"id": id(&person), "name": "Zhang San Jr"}]});
    let request = app.request_as(Method::POST, "/v1/imports?format=popolo", Some(&writer));
    app.send(
        request,
        Some(("application/json", doc.to_string().into_bytes())),
    )
    .await
    .expect(201);
    let now = app
        .get(&format!("/v1/people/{}", id(&person)))
        .await
        .expect(200)
        .json();
    assert_eq!(now["name"], "Zhang San Jr");
    assert_eq!(now["birth_date"], "1970-01-02");
}

#[actix_web::test]
async fn a_popolo_participant_by_the_uuid_of_another_events_participant_is_its_own() {
    let app = spawn_app().await;
    let org = app.organization("Org", "other", None).await;
    let first = app
        .event(json!({"title": "First", "starts_at": "2024-01-01T10:00:00Z"}))
        .await;
    let theirs = app
        .participant(
            &first,
            json!({"organization_id": id(&org), "role": "organizer"}),
        )
        .await;
    let doc = json!({"events": [{"id": "second", "name": "Second", "start_date": "2024-02-01",
        "participants": [{"id": id(&theirs), "organization_id": id(&org), "role": "host"}]}]});
    popolo(&app, &doc).await.expect(201);
    let still = app
        .get(&format!(
            "/v1/events/{}/participants/{}",
            id(&first),
            id(&theirs)
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(still["role"], "organizer");
}
