use crate::helpers::{column, count_queries, id, spawn_app, Reply, TestApp};
use alliance_registry::store::{events, participants};
use awc::http::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

fn path(event: &Value) -> String {
    format!("/v1/events/{}", id(event))
}

fn participants_path(event: &Value) -> String {
    format!("/v1/events/{}/participants", id(event))
}

#[actix_web::test]
async fn events_follow_the_resource_pattern() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/v1/events",
            &json!({
                "title": "Seminar on party building leading digital economy",
                "starts_at": "2023-05-23T09:30:00+08:00",
                "topics": [" digital economy ", "party building", "digital economy"]
            }),
        )
        .await
        .expect(201);
    let event = reply.json();
    assert_eq!(reply.header("location").unwrap(), path(&event));
    assert_eq!(
        event["starts_at"], "2023-05-23T01:30:00Z",
        "stored and returned in UTC"
    );
    assert_eq!(event["kind"], "other");
    assert_eq!(event["status"], "planned");
    assert_eq!(
        event["topics"],
        json!(["digital economy", "party building"])
    );
    assert!(
        event.get("participants").is_none(),
        "embeds only on request"
    );

    let problem = app
        .post("/v1/events", &json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z", "ends_at": "2023-05-23T09:59:59Z"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["ends_at"]);
    let problem = app
        .post(
            "/v1/events",
            &json!({"title": "x", "starts_at": "2023-05-23 10:00"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["starts_at"]);
    let problem = app
        .post(
            "/v1/events",
            &json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z", "topics": [" "]}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["topics[0]"]);
    let problem = app
        .post(
            "/v1/events",
            &json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z", "kind": "party"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["kind"]);

    let held = app
        .patch(
            &path(&event),
            &json!({"status": "held", "ends_at": "2023-05-23T12:00:00+08:00", "kind": "seminar"}),
        )
        .await
        .expect(200);
    assert_eq!(held.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(held.json()["ends_at"], "2023-05-23T04:00:00Z");
    app.send(
        app.request(Method::PUT, &path(&event))
            .insert_header(("If-Match", "\"1\"")),
        Some((
            "application/json",
            json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z"})
                .to_string()
                .into_bytes(),
        )),
    )
    .await
    .problem(412);
    let replaced = app
        .put(
            &path(&event),
            &json!({"title": "Founding seminar", "starts_at": "2023-05-23T01:30:00Z"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["topics"], json!([]));
    assert_eq!(replaced["status"], "planned", "PUT resets defaults");
    app.delete(&path(&event)).await.expect(204);
    app.get(&path(&event)).await.problem(404);
}

#[actix_web::test]
async fn sessions_cannot_form_cycles() {
    let app = spawn_app().await;
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    let session = app
        .event(json!({"title": "Discussion", "kind": "discussion_session", "starts_at": "2023-05-23T03:00:00Z", "parent_event_id": id(&seminar)}))
        .await;
    let panel = app
        .event(json!({"title": "Panel", "starts_at": "2023-05-23T03:30:00Z", "parent_event_id": id(&session)}))
        .await;
    let problem = app
        .patch(&path(&seminar), &json!({"parent_event_id": id(&panel)}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_event_id"]);
    assert!(problem["detail"].as_str().unwrap().contains("cycle"));
    let problem = app
        .patch(&path(&seminar), &json!({"parent_event_id": id(&seminar)}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_event_id"]);
    let problem = app
        .post("/v1/events", &json!({"title": "x", "starts_at": "2023-05-23T03:00:00Z", "parent_event_id": uuid::Uuid::now_v7()}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_event_id"]);

    // A seminar with live sessions cannot be deleted.
    let problem = app.delete(&path(&seminar)).await.problem(409);
    assert_eq!(problem["conflicts"][0]["id"], session["id"]);
    let page = app
        .get(&format!("/v1/events?parent_event_id={}", id(&seminar)))
        .await
        .json();
    assert_eq!(column(&page, "title"), ["Discussion"]);
}

#[actix_web::test]
async fn event_lists_filter_by_time_kind_status_topic_and_text() {
    let app = spawn_app().await;
    app.event(json!({"title": "Founding seminar", "kind": "seminar", "status": "held",
        "starts_at": "2023-05-23T01:30:00Z", "ends_at": "2023-05-23T04:00:00Z", "topics": ["digital economy"]})).await;
    app.event(
        json!({"title": "Joint meeting of all members", "kind": "joint_meeting",
        "starts_at": "2023-09-01T02:00:00Z", "description": "Rotating host: Bilibili"}),
    )
    .await;
    app.event(json!({"title": "Digital sports day", "kind": "themed_activity", "status": "held",
        "starts_at": "2023-11-11T01:00:00Z", "ends_at": "2023-11-12T09:00:00Z", "topics": ["digital sports"]})).await;

    let titles = |page: Value| column(&page, "title");
    assert_eq!(
        titles(app.get("/v1/events").await.json()),
        [
            "Founding seminar",
            "Joint meeting of all members",
            "Digital sports day"
        ],
        "earliest first by default"
    );
    assert_eq!(
        titles(app.get("/v1/events?sort=-starts_at&limit=1").await.json()),
        ["Digital sports day"]
    );
    // Overlap: the two-day activity overlaps a window starting on its second day.
    assert_eq!(
        titles(
            app.get("/v1/events?from=2023-11-12T00:00:00Z&to=2023-12-31T00:00:00Z")
                .await
                .json()
        ),
        ["Digital sports day"]
    );
    assert_eq!(
        titles(
            app.get("/v1/events?from=2023-05-23T03:00:00Z&to=2023-09-01T02:00:00Z")
                .await
                .json()
        ),
        ["Founding seminar", "Joint meeting of all members"]
    );
    app.get("/v1/events?from=2023-12-31T00:00:00Z&to=2023-01-01T00:00:00Z")
        .await
        .problem(400);
    assert_eq!(
        titles(app.get("/v1/events?kind=joint_meeting").await.json()),
        ["Joint meeting of all members"]
    );
    assert_eq!(
        titles(
            app.get("/v1/events?status=held&topic=digital%20sports")
                .await
                .json()
        ),
        ["Digital sports day"]
    );
    assert_eq!(
        titles(app.get("/v1/events?q=bilibili").await.json()),
        ["Joint meeting of all members"]
    );
}

#[actix_web::test]
async fn participants_follow_the_resource_pattern() {
    let app = spawn_app().await;
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let committee = app
        .organization("Party Committee of Oujian Network", "party_committee", None)
        .await;
    let zhou = app.person("Zhou Haiying").await;

    let reply = app
        .post(&participants_path(&seminar), &json!({"organization_id": id(&committee), "role": "speaker", "on_behalf_of_id": id(&alliance)}))
        .await
        .expect(201);
    let speaker = reply.json();
    assert_eq!(
        reply.header("location").unwrap(),
        format!("{}/{}", participants_path(&seminar), id(&speaker))
    );
    assert_eq!(
        speaker["organization_name"],
        "Party Committee of Oujian Network"
    );
    assert_eq!(speaker["on_behalf_of_name"], "Alliance");
    assert_eq!(speaker["person_id"], Value::Null);

    // Exactly one member.
    for body in [
        json!({"role": "attendee"}),
        json!({"role": "attendee", "person_id": id(&zhou), "organization_id": id(&committee)}),
    ] {
        let problem = app
            .post(&participants_path(&seminar), &body)
            .await
            .problem(422);
        let mut fields = Reply::fields(&problem);
        fields.sort();
        assert_eq!(fields, ["organization_id", "person_id"]);
    }
    // The same member may not hold the same role twice; another role is fine.
    let attendee = app
        .participant(
            &seminar,
            json!({"person_id": id(&zhou), "role": "attendee"}),
        )
        .await;
    let problem = app
        .post(
            &participants_path(&seminar),
            &json!({"person_id": id(&zhou), "role": "attendee"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], attendee["id"]);
    let speech = app
        .participant(&seminar, json!({"person_id": id(&zhou), "role": "speaker"}))
        .await;
    let problem = app
        .patch(
            &format!("{}/{}", participants_path(&seminar), id(&speech)),
            &json!({"role": "attendee"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["status"], 409);

    // References must be live; the event must exist.
    let problem = app
        .post(
            &participants_path(&seminar),
            &json!({"person_id": uuid::Uuid::now_v7(), "role": "host"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["person_id"]);
    app.post(
        &format!("/v1/events/{}/participants", uuid::Uuid::now_v7()),
        &json!({"person_id": id(&zhou), "role": "host"}),
    )
    .await
    .problem(404);

    // Read, conditional read, patch, precondition, delete.
    let one = format!("{}/{}", participants_path(&seminar), id(&speaker));
    let got = app.get(&one).await.expect(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    let not_modified = app
        .send(
            app.request(Method::GET, &one)
                .insert_header(("If-None-Match", "\"1\"")),
            None,
        )
        .await;
    assert_eq!(not_modified.status, 304);
    let patched = app
        .patch(&one, &json!({"note": "On behalf of the alliance"}))
        .await
        .expect(200)
        .json();
    assert_eq!(patched["version"], 2);
    assert_eq!(
        patched["organization_name"],
        "Party Committee of Oujian Network"
    );
    app.send(
        app.request(Method::DELETE, &one)
            .insert_header(("If-Match", "\"1\"")),
        None,
    )
    .await
    .problem(412);
    let other_event = app
        .event(json!({"title": "Other", "starts_at": "2023-06-01T01:00:00Z"}))
        .await;
    app.get(&format!(
        "{}/{}",
        participants_path(&other_event),
        id(&speaker)
    ))
    .await
    .problem(404);

    let page = app
        .get(&format!("{}?role=speaker", participants_path(&seminar)))
        .await
        .expect(200)
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let page = app
        .get(&format!("{}?limit=1", participants_path(&seminar)))
        .await
        .expect(200)
        .json();
    assert!(page["next_cursor"].is_string());

    app.delete(&one).await.expect(204);
    app.get(&one).await.problem(404);
    app.get(&format!("/v1/events/{}/participants", uuid::Uuid::now_v7()))
        .await
        .problem(404);
}

#[actix_web::test]
async fn events_filter_by_participating_organization_and_person() {
    let app = spawn_app().await;
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    let meeting = app
        .event(json!({"title": "Meeting", "starts_at": "2023-09-01T01:30:00Z"}))
        .await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let bilibili = app.organization("Bilibili", "enterprise", None).await;
    let yu = app.person("Yu Yang").await;
    app.participant(
        &seminar,
        json!({"person_id": id(&yu), "role": "attendee", "on_behalf_of_id": id(&alliance)}),
    )
    .await;
    app.participant(
        &meeting,
        json!({"organization_id": id(&bilibili), "role": "host"}),
    )
    .await;

    let titles = |page: Value| column(&page, "title");
    assert_eq!(
        titles(
            app.get(&format!("/v1/events?person_id={}", id(&yu)))
                .await
                .json()
        ),
        ["Seminar"]
    );
    assert_eq!(
        titles(
            app.get(&format!("/v1/events?organization_id={}", id(&bilibili)))
                .await
                .json()
        ),
        ["Meeting"]
    );
    assert_eq!(
        titles(
            app.get(&format!("/v1/events?organization_id={}", id(&alliance)))
                .await
                .json()
        ),
        ["Seminar"],
        "acting on behalf of an organization counts as its participation"
    );
}

async fn seminar_with_participants(app: &TestApp, count: usize) -> Value {
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    app.event(json!({"title": "Discussion", "starts_at": "2023-05-23T03:00:00Z", "parent_event_id": id(&seminar)})).await;
    for i in 0..count {
        let person = app.person(&format!("Attendee {i}")).await;
        app.participant(
            &seminar,
            json!({"person_id": id(&person), "role": "attendee"}),
        )
        .await;
    }
    seminar
}

#[actix_web::test]
async fn embedding_participants_and_sessions_costs_one_query_each() {
    let app = spawn_app().await;
    let small = seminar_with_participants(&app, 1).await;
    let large = seminar_with_participants(&app, 12).await;

    let reply = app
        .get(&format!("{}?embed=participants,sessions", path(&large)))
        .await
        .expect(200);
    let etag = reply.header("etag").unwrap();
    assert!(
        etag.starts_with("W/"),
        "embedded responses carry a weak ETag: {etag}"
    );
    let event = reply.json();
    assert_eq!(event["participants"].as_array().unwrap().len(), 12);
    assert_eq!(event["participants"][0]["person_name"], "Attendee 0");
    assert_eq!(
        column(&json!({"items": event["sessions"]}), "title"),
        ["Discussion"]
    );
    let only_sessions = app
        .get(&format!("{}?embed=sessions", path(&large)))
        .await
        .json();
    assert!(only_sessions.get("participants").is_none());
    app.get(&format!("{}?embed=everything", path(&large)))
        .await
        .problem(400);

    // 304 until an embedded record changes.
    let revalidate = |etag: String| {
        app.send(
            app.request(Method::GET, &format!("{}?embed=participants", path(&large)))
                .insert_header(("If-None-Match", etag)),
            None,
        )
    };
    let etag = app
        .get(&format!("{}?embed=participants", path(&large)))
        .await
        .header("etag")
        .unwrap();
    assert_eq!(revalidate(etag.clone()).await.status, 304);
    let first = &event["participants"][0];
    app.patch(
        &format!("{}/{}", participants_path(&large), id(first)),
        &json!({"note": "Took notes"}),
    )
    .await
    .expect(200);
    assert_eq!(revalidate(etag).await.status, 200);

    // What the handler runs: the event, its participants, its sessions —
    // three statements whether there is one participant or twelve.
    let embed = |event: &Value| {
        let id: uuid::Uuid = id(event).parse().unwrap();
        count_queries(&app.db, move |conn| {
            events::find(conn, id).unwrap();
            participants::all_of(conn, &[id]).unwrap();
            events::sessions(conn, id).unwrap();
        })
        .1
    };
    assert_eq!(embed(&small), 3);
    assert_eq!(embed(&large), 3);
}

#[actix_web::test]
async fn deleting_an_event_removes_its_participants() {
    let app = spawn_app().await;
    let seminar = seminar_with_participants(&app, 2).await;
    let session = app
        .get(&format!("/v1/events?parent_event_id={}", id(&seminar)))
        .await
        .json()["items"][0]
        .clone();
    let participants: Vec<Value> = app.get(&participants_path(&seminar)).await.json()["items"]
        .as_array()
        .unwrap()
        .clone();
    app.delete(&path(&seminar)).await.problem(409);
    app.delete(&path(&session)).await.expect(204);
    app.delete(&path(&seminar)).await.expect(204);
    for p in participants {
        app.get(&format!("{}/{}", participants_path(&seminar), id(&p)))
            .await
            .problem(404);
    }
    // The attendees can now be deleted: no live participation refers to them.
    let people = app.get("/v1/people").await.json();
    let ids: HashSet<String> = column(&people, "id").into_iter().collect();
    for person in ids {
        app.delete(&format!("/v1/people/{person}"))
            .await
            .expect(204);
    }
}
