//! Popolo documents as they come: our own export loaded back into the
//! register it came from, ids that are another record's UUID, members named
//! twice, a membership with no label, identifiers of scheme `popolo`, event
//! dates written loosely.

use crate::helpers::{spawn_app, Reply, TestApp};
use awc::http::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

const SEED: &str = include_str!("../../examples/yangpu-alliance.json");

async fn import(app: &TestApp, query: &str, body: &Value) -> Reply {
    let request = app.request(Method::POST, &format!("/v1/imports?{query}"));
    app.send(
        request,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn popolo(app: &TestApp, body: &Value) -> Reply {
    import(app, "format=popolo", body).await
}

/// The `id`s of a class of a Popolo document.
fn ids(document: &Value, class: &str) -> Vec<String> {
    document[class]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_popolo_export_loads_back_into_the_register_it_came_from_creating_nothing() {
    let app = spawn_app().await;
    let seed: Value = serde_json::from_str(SEED).unwrap();
    import(&app, "", &seed).await.expect(201);
    // A record made through the API carries no identifier at all.
    app.create_organization(json!({"name": "Unlisted workshop", "kind": "other"}))
        .await;
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();

    // The README's own recipe: export, then load the file back (a backup
    // restored, a file edited and reloaded). Every object is a record the
    // register holds: nothing is refused, nothing is created twice.
    let report = popolo(&app, &exported).await.expect(201).json();
    for (resource, counts) in report["counts"].as_object().unwrap() {
        assert_eq!(counts["created"], 0, "{resource}: {report}");
    }
    let again = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(
        ids(&again, "organizations").len(),
        ids(&exported, "organizations").len()
    );
}

#[actix_web::test]
async fn an_object_whose_id_is_the_uuid_of_another_record_never_gives_two_records_one_popolo_id() {
    let app = spawn_app().await;
    let person = app.person("Jiang Daorong").await;
    let uuid = person["id"].as_str().unwrap();
    // A document (hand-made, or another register's export) whose person has
    // this register's UUID of Jiang Daorong as its id.
    let document = json!({"persons": [{"id": uuid, "name": "Someone else"}]});
    let status = popolo(&app, &document).await.status;

    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    let persons = ids(&exported, "persons");
    let unique: HashSet<&String> = persons.iter().collect();
    assert_eq!(
        unique.len(),
        persons.len(),
        "import answered {status}; the export gives one id to two persons: {exported}"
    );
    // And the export loads back.
    popolo(&app, &exported).await.expect(201);
}

#[actix_web::test]
async fn a_membership_with_neither_label_nor_role_is_a_plain_membership() {
    // Popolo requires neither: EveryPolitician's memberships of a
    // legislature have neither.
    let app = spawn_app().await;
    let document = json!({
        "persons": [{"id": "p1", "name": "Li Ming"}],
        "organizations": [{"id": "o1", "name": "Assembly"}],
        "memberships": [{"id": "m1", "person_id": "p1", "organization_id": "o1"}]
    });
    popolo(&app, &document).await.expect(201);
    let role = app.get("/v1/roles/popolo:m1").await.expect(200).json();
    assert_eq!(role["title"], "Member");
    assert_eq!(role["role"], Value::Null);
}

#[actix_web::test]
async fn a_membership_naming_its_member_twice_differently_is_refused() {
    let app = spawn_app().await;
    let document = json!({
        "persons": [{"id": "p1", "name": "Li Ming"}, {"id": "p2", "name": "Wang Fang"}],
        "organizations": [{"id": "o1", "name": "Assembly"}, {"id": "o2", "name": "Unit"}],
        "memberships": [
            {"id": "m1", "person_id": "p1", "member": {"@type": "Person", "id": "p2"},
             "organization_id": "o1", "label": "Member"},
            {"id": "m2", "person_id": "p1", "member": {"@type": "Organization", "id": "o2"},
             "organization_id": "o1", "label": "Member"},
        ]
    });
    let problem = popolo(&app, &document).await.problem(422);
    let fields = Reply::fields(&problem);
    assert!(
        fields.contains(&"memberships[0].member".to_owned()),
        "{problem}"
    );
    assert!(
        fields.contains(&"memberships[1].member".to_owned()),
        "{problem}"
    );

    // Naming the same member both ways is no conflict.
    let document = json!({
        "persons": [{"id": "p1", "name": "Li Ming"}],
        "organizations": [{"id": "o1", "name": "Assembly"}],
        "memberships": [{"id": "m1", "person_id": "p1", "member": {"@type": "Person", "id": "p1"},
                         "organization_id": "o1", "label": "Member"}]
    });
    popolo(&app, &document).await.expect(201);
}

#[actix_web::test]
async fn an_objects_popolo_identifiers_besides_its_id_survive_the_round_trip() {
    let app = spawn_app().await;
    let document = json!({
        "persons": [
            // Its id listed among its identifiers too, as some tools write.
            {"id": "p1", "name": "Li Ming",
             "identifiers": [{"scheme": "popolo", "identifier": "p1"}]},
            // An older id kept as an identifier.
            {"id": "p2", "name": "Wang Fang",
             "identifiers": [{"scheme": "popolo", "identifier": "old-p2"}]}
        ]
    });
    popolo(&app, &document).await.expect(201);
    app.get("/v1/people/popolo:old-p2").await.expect(200);

    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    let wang = exported["persons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "p2")
        .unwrap();
    assert_eq!(
        wang["identifiers"],
        json!([{"identifier": "old-p2", "scheme": "popolo"}]),
        "{exported}"
    );
    let empty = spawn_app().await;
    popolo(&empty, &exported).await.expect(201);
    empty.get("/v1/people/popolo:old-p2").await.expect(200);
    assert_eq!(
        empty.get("/v1/exports/popolo").await.expect(200).json(),
        exported
    );
}

#[actix_web::test]
async fn an_event_date_with_a_lowercase_t_is_an_instant() {
    let app = spawn_app().await;
    let document = json!({"events": [
        {"id": "e1", "name": "Seminar", "status": "held", "start_date": "2023-05-23t01:30z"}
    ]});
    popolo(&app, &document).await.expect(201);
    let event = app.get("/v1/events/popolo:e1").await.expect(200).json();
    assert_eq!(event["starts_at"], "2023-05-23T01:30:00Z");
}

#[actix_web::test]
async fn an_event_dated_by_a_day_and_an_instant_is_refused_naming_popolos_members() {
    let app = spawn_app().await;
    for (start, end) in [
        ("2023-05-23T09:00Z", "2023-05-24"),
        ("2023-05-23", "2023-05-24T10:00Z"),
    ] {
        let document = json!({"events": [
            {"id": "e1", "name": "Seminar", "status": "held", "start_date": start, "end_date": end}
        ]});
        let problem = popolo(&app, &document).await.problem(422);
        assert_eq!(
            Reply::fields(&problem),
            ["events[0].end_date"],
            "{start}..{end}: {problem}"
        );
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("start_date") && !message.contains("starts_at"),
            "{message}"
        );
    }
}
