//! What posts, areas and the Popolo interchange must not allow, through
//! PATCH, DELETE or an import: dangling or inconsistent references,
//! records renamed or duplicated by ids, personal data lost or leaked.

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
async fn a_popolo_uuid_id_does_not_rename_a_record_known_by_another_popolo_id() {
    let app = spawn_app().await;
    let alice = app
        .post(
            "/v1/people",
            &json!({"name": "Alice", "identifiers": [{"scheme": "popolo", "value": "alice"}]}),
        )
        .await
        .expect(201)
        .json();
    // "alice" is Alice by her popolo identifier; her UUID is Alice too:
    // two objects of the file would write one record, whichever comes first.
    for persons in [
        json!([{"id": "alice", "name": "Alice A."}, {"id": id(&alice), "name": "Alice B."}]),
        json!([{"id": id(&alice), "name": "Alice B."}, {"id": "alice", "name": "Alice A."}]),
    ] {
        let problem = popolo(&app, &json!({"persons": persons}))
            .await
            .problem(422);
        assert!(problem.to_string().contains("popolo:alice"), "{problem}");
        let now = app
            .get(&format!("/v1/people/{}", id(&alice)))
            .await
            .expect(200)
            .json();
        assert_eq!(now["name"], "Alice");
        assert_eq!(now["identifiers"], alice["identifiers"]);
    }
    // Alone, the UUID names her by the name she is known by.
    let problem = popolo(
        &app,
        &json!({"persons": [{"id": id(&alice), "name": "Alice C."}]}),
    )
    .await
    .problem(422);
    assert!(problem.to_string().contains("popolo:alice"), "{problem}");
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
async fn a_popolo_participant_by_the_uuid_of_another_events_participant_is_refused() {
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
    // Its id is that participant's: a participant of its own would share
    // its Popolo id.
    popolo(&app, &doc).await.problem(422);
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

#[actix_web::test]
async fn a_popolo_file_of_many_people_by_uuid_and_new_writes_each_once() {
    let app = spawn_app().await;
    let mut existing = Vec::new();
    for i in 0..5 {
        existing.push(app.person(&format!("Existing {i}")).await);
    }
    let mut persons: Vec<Value> = (0..620)
        .map(|i| json!({"id": format!("new-{i}"), "name": format!("New {i}")}))
        .collect();
    // Existing people by their UUID, among the new ones and in the second
    // batch too.
    for (i, person) in existing.iter().enumerate() {
        persons.insert(
            i * 150,
            json!({"id": id(person), "name": format!("Renamed {i}")}),
        );
    }
    let doc = json!({"persons": persons});
    let report = popolo(&app, &doc).await.expect(201).json();
    assert_eq!(
        report["counts"]["people"],
        json!({"created": 620, "updated": 5, "unchanged": 0}),
        "{report}"
    );
    let report = popolo(&app, &doc).await.expect(201).json();
    assert_eq!(
        report["counts"]["people"],
        json!({"created": 0, "updated": 0, "unchanged": 625}),
        "{report}"
    );
    let export = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(export["persons"].as_array().unwrap().len(), 625);

    // A file at fault writes nothing, the people by UUID included.
    let mut persons: Vec<Value> = (0..600)
        .map(|i| json!({"id": format!("later-{i}"), "name": format!("Later {i}")}))
        .collect();
    persons.push(json!({"id": id(&existing[0]), "name": "Renamed again"}));
    persons.push(json!({"id": "bad", "name": ""}));
    popolo(&app, &json!({"persons": persons}))
        .await
        .problem(422);
    let first = app
        .get(&format!("/v1/people/{}", id(&existing[0])))
        .await
        .expect(200)
        .json();
    assert_eq!(first["name"], "Renamed 0");
    let export = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(export["persons"].as_array().unwrap().len(), 625);
}

#[actix_web::test]
async fn the_same_popolo_file_imported_twice_at_once_makes_each_record_once() {
    let app = spawn_app().await;
    let doc = json!({
        "areas": [{"id": "sh", "name": "Shanghai"}, {"id": "yp", "name": "Yangpu", "parent_id": "sh"}],
        "organizations": [{"id": "dept", "name": "Department", "area_id": "yp"}],
        "posts": [{"id": "dir", "label": "Director", "organization_id": "dept", "area_id": "yp"}],
        "persons": (0..50).map(|i| json!({"id": format!("p{i}"), "name": format!("P {i}")})).collect::<Vec<_>>(),
        "memberships": [{"id": "m", "person_id": "p0", "organization_id": "dept", "post_id": "dir", "label": "Director"}],
    });
    let (a, b) = futures_util::future::join(popolo(&app, &doc), popolo(&app, &doc)).await;
    // The second either waited for the first and found every record, or
    // lost the race: a 409 to send again, not a fault of the file (422).
    for reply in [&a, &b] {
        assert!(
            reply.status == 201 || reply.status == 409,
            "{}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    assert!(a.status == 201 || b.status == 201);
    if a.status == 409 || b.status == 409 {
        let report = popolo(&app, &doc).await.expect(201).json();
        assert_eq!(report["counts"]["people"]["created"], 0, "{report}");
    }
    let export = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(export["persons"].as_array().unwrap().len(), 50);
    assert_eq!(export["areas"].as_array().unwrap().len(), 2);
    assert_eq!(export["posts"].as_array().unwrap().len(), 1);
    assert_eq!(export["memberships"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_register_with_posts_areas_and_deleted_records_goes_round_trip_through_popolo() {
    let app = spawn_app().await;
    let shanghai = area(&app, "Shanghai", None).await;
    let yangpu = area(&app, "Yangpu", Some(&shanghai)).await;
    let gone_area = area(&app, "Gone", Some(&shanghai)).await;
    app.delete(&format!("/v1/areas/{}", id(&gone_area)))
        .await
        .expect(204);
    let dept = app
        .create_organization(json!({"name": "Department", "kind": "other", "area_id": id(&yangpu)}))
        .await;
    let director = post(
        &app,
        json!({"label": "Director", "organization_id": id(&dept), "area_id": id(&yangpu),
               "start_date": "2020", "other_labels": [{"name": "部长", "lang": "zh"}]}),
    )
    .await;
    let gone_post = post(&app, json!({"label": "Gone", "organization_id": id(&dept)})).await;
    app.delete(&format!("/v1/posts/{}", id(&gone_post)))
        .await
        .expect(204);
    let person = app.person("Zhang San").await;
    let old = app
        .role(
            json!({"organization_id": id(&dept), "person_id": id(&person), "title": "Director",
                     "post_id": id(&director), "start_date": "2020", "end_date": "2021"}),
        )
        .await;
    app.delete(&format!("/v1/roles/{}", id(&old)))
        .await
        .expect(204);
    app.role(
        json!({"organization_id": id(&dept), "person_id": id(&person), "title": "Director",
                    "post_id": id(&director), "start_date": "2022-03"}),
    )
    .await;
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(exported["areas"].as_array().unwrap().len(), 2);
    assert_eq!(exported["posts"].as_array().unwrap().len(), 1);

    let empty = spawn_app().await;
    popolo(&empty, &exported).await.expect(201);
    let again = empty.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(again, exported);
    // Loaded back into its own register: nothing new.
    let report = popolo(&app, &exported).await.expect(201).json();
    for (resource, counts) in report["counts"].as_object().unwrap() {
        assert_eq!(counts["created"], 0, "{resource}: {report}");
    }
    // Loaded again: every record holds what the document says.
    let report = popolo(&app, &exported).await.expect(201).json();
    for (resource, counts) in report["counts"].as_object().unwrap() {
        assert_eq!(counts["updated"], 0, "{resource}: {report}");
    }
    let now = app
        .get(&format!("/v1/posts/{}", id(&director)))
        .await
        .expect(200)
        .json();
    assert_eq!(now["other_labels"], director["other_labels"], "{now}");
    let third = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(third["posts"], exported["posts"]);
    assert_eq!(third["areas"], exported["areas"]);
}

#[actix_web::test]
async fn posts_and_areas_identifiers_are_each_one_records() {
    let app = spawn_app().await;
    let dept = app.organization("Department", "other", None).await;
    let ident = json!([{"scheme": "x", "value": "1"}]);
    post(
        &app,
        json!({"label": "A", "organization_id": id(&dept), "identifiers": ident}),
    )
    .await;
    app.post(
        "/v1/posts",
        &json!({"label": "B", "organization_id": id(&dept), "identifiers": ident}),
    )
    .await
    .problem(409);
    // Another class may carry the same identifier.
    app.post("/v1/areas", &json!({"name": "A", "identifiers": ident}))
        .await
        .expect(201);
    app.post("/v1/areas", &json!({"name": "B", "identifiers": ident}))
        .await
        .problem(409);
    // A post by identifier path.
    app.get("/v1/posts/x:1").await.expect(200);
    app.get("/v1/posts/x:1/holders").await.expect(200);
    app.get("/v1/areas/x:1").await.expect(200);
}

#[actix_web::test]
async fn the_popolo_export_gives_each_object_of_a_class_its_own_id() {
    let app = spawn_app().await;
    let first = app.person("First").await;
    // Another person's popolo identifier would be the first one's UUID: the
    // export would name both by it.
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "Second", "identifiers": [{"scheme": "popolo", "value": id(&first)}]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], first["id"], "{problem}");
    let second = app.person("Second").await;
    app.patch(
        &format!("/v1/people/{}", id(&second)),
        &json!({"identifiers": [{"scheme": "popolo", "value": id(&first)}]}),
    )
    .await
    .problem(409);
    // Its own UUID is its own id.
    app.patch(
        &format!("/v1/people/{}", id(&second)),
        &json!({"identifiers": [{"scheme": "popolo", "value": id(&second)}]}),
    )
    .await
    .expect(200);
    // Through a JSON import, batched, too.
    let request = app.request(Method::POST, "/v1/imports");
    let file = json!({"people": [{"name": "Third",
        "identifiers": [{"scheme": "popolo", "value": id(&first)}]}]});
    app.send(
        request,
        Some(("application/json", file.to_string().into_bytes())),
    )
    .await
    .problem(422);
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    let ids: Vec<&str> = exported["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    let empty = spawn_app().await;
    popolo(&empty, &exported).await.expect(201);
}

#[actix_web::test]
async fn the_seed_registers_popolo_export_loaded_back_twice_changes_nothing() {
    let app = spawn_app().await;
    let seed: Value =
        serde_json::from_str(include_str!("../../examples/yangpu-alliance.json")).unwrap();
    let request = app.request(Method::POST, "/v1/imports");
    app.send(
        request,
        Some(("application/json", seed.to_string().into_bytes())),
    )
    .await
    .expect(201);
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    // The first load gives records without a popolo id theirs.
    popolo(&app, &exported).await.expect(201);
    let report = popolo(&app, &exported).await.expect(201).json();
    for (resource, counts) in report["counts"].as_object().unwrap() {
        assert_eq!(counts["created"], 0, "{resource}: {report}");
        assert_eq!(counts["updated"], 0, "{resource}: {report}");
    }
    let again = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(again, exported);
}

#[actix_web::test]
async fn a_posts_dates_are_checked_after_a_patch_merges_them() {
    let app = spawn_app().await;
    let dept = app.organization("Department", "other", None).await;
    app.post(
        "/v1/posts",
        &json!({"label": "A", "organization_id": id(&dept), "start_date": "2020", "end_date": "2019"}),
    )
    .await
    .problem(422);
    let director = post(
        &app,
        json!({"label": "A", "organization_id": id(&dept), "start_date": "2020-05"}),
    )
    .await;
    let problem = app
        .patch(
            &format!("/v1/posts/{}", id(&director)),
            &json!({"end_date": "2020-04"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["end_date"], "{problem}");
    app.patch(
        &format!("/v1/posts/{}", id(&director)),
        &json!({"end_date": "2020"}),
    )
    .await
    .expect(200);
    let area = area(&app, "A", None).await;
    let problem = app
        .patch(
            &format!("/v1/areas/{}", id(&area)),
            &json!({"other_names": [{"name": "B", "start_date": "2021", "end_date": "2020"}]}),
        )
        .await
        .problem(422);
    assert!(!Reply::fields(&problem).is_empty());
}

#[actix_web::test]
async fn filters_naming_unknown_posts_and_areas_answer_without_a_server_error() {
    let app = spawn_app().await;
    for path in [
        "/v1/organizations?area_id=x:nowhere",
        "/v1/posts?area_id=x:nowhere",
        "/v1/posts?organization_id=x:nobody",
        "/v1/roles?post_id=x:nothing",
        "/v1/areas?parent_id=x:nowhere",
        "/v1/posts/x:nothing/holders",
        "/v1/posts/x:nothing/holders?active_on=2020-01-01",
        "/v1/roles?embed=post,post,person",
        "/v1/posts?active_on=2020",
        "/v1/posts?sort=-label&limit=1",
        "/v1/areas?sort=-name&limit=1",
    ] {
        let reply = app.get(path).await;
        assert!(reply.status < 500, "{path}: {}", reply.status);
    }
}

/// Left failing on purpose: PUT semantics make a document without personal
/// data (exported by a key without `pii`) clear everyone's when a key with
/// `pii` loads it back, e.g. restoring a backup. The export could say what
/// it withheld (and the import keep those fields), or the import refuse.
#[actix_web::test]
async fn a_popolo_export_made_without_pii_loaded_back_with_pii_keeps_personal_data() {
    let app = spawn_app().await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Zhang San", "email": "z@example.org", "birth_date": "1970-01-02"}),
        )
        .await
        .expect(201)
        .json();
    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let exported = app
        .send(
            app.request_as(Method::GET, "/v1/exports/popolo", Some(&reader)),
            None,
        )
        .await
        .expect(200)
        .json();
    popolo(&app, &exported).await.expect(201);
    let now = app
        .get(&format!("/v1/people/{}", id(&person)))
        .await
        .expect(200)
        .json();
    assert_eq!(now["email"], "z@example.org", "{now}");
    assert_eq!(now["birth_date"], "1970-01-02", "{now}");
}
