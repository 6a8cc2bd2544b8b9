//! Sync for district systems: external identifiers, upserts, idempotent
//! POSTs and the change feed.

use crate::helpers::{column, id, mint_key, spawn_app, spawn_app_with, Reply, TestApp};
use alliance_registry::api::cursor::Signer;
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

const SCHEME: &str = "yangpu-party-org";

fn upsert_path(resource: &str, value: &str) -> String {
    format!("/v1/{resource}/by-identifier?scheme={SCHEME}&value={value}")
}

/// An alliance, a unit and a person, each created by identifier
/// (`alliance`, `unit-1`, `person-1`).
async fn alliance_unit_and_person(app: &TestApp) -> (Value, Value, Value) {
    let alliance = json!({"name": "Alliance", "kind": "alliance"});
    let unit = json!({"name": "Oujian Network", "kind": "enterprise"});
    (
        created(app, "organizations", "alliance", alliance).await,
        created(app, "organizations", "unit-1", unit).await,
        created(app, "people", "person-1", json!({"name": "Zhou Haiying"})).await,
    )
}

/// The record of `resource` that a PUT by identifier `value` creates.
async fn created(app: &TestApp, resource: &str, value: &str, body: Value) -> Value {
    app.put(&upsert_path(resource, value), &body)
        .await
        .expect(201)
        .json()
}

#[actix_web::test]
async fn identifiers_are_unique_per_resource_and_filterable() {
    let app = spawn_app().await;
    let bilibili = app
        .create_organization(json!({"name": "Bilibili", "kind": "enterprise",
            "identifiers": [{"scheme": SCHEME, "value": "310110-0042"}, {"scheme": "uscc", "value": "91310000MA1FL0000X"}]}))
        .await;
    assert_eq!(
        bilibili["identifiers"][0],
        json!({"scheme": SCHEME, "value": "310110-0042"})
    );

    let problem = app
        .post("/v1/organizations", &json!({"name": "Clash", "kind": "enterprise", "identifiers": [{"scheme": SCHEME, "value": "310110-0042"}]}))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], bilibili["id"]);
    assert_eq!(
        problem["conflicts"][0]["name"],
        format!("{SCHEME}:310110-0042")
    );
    // The same identifier on another kind of record is no clash.
    app.post(
        "/v1/people",
        &json!({"name": "A Person", "identifiers": [{"scheme": SCHEME, "value": "310110-0042"}]}),
    )
    .await
    .expect(201);
    // Nor is moving it by PATCH to a record that does not clash.
    let other = app
        .organization("Meituan (Shanghai)", "enterprise", None)
        .await;
    let problem = app
        .patch(
            &format!("/v1/organizations/{}", id(&other)),
            &json!({"identifiers": [{"scheme": "uscc", "value": "91310000MA1FL0000X"}]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], bilibili["id"]);

    let page = app
        .get(&format!(
            "/v1/organizations?identifier={SCHEME}:310110-0042"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(column(&page, "name"), ["Bilibili"]);
    let page = app
        .get(&format!("/v1/people?identifier={SCHEME}:310110-0042"))
        .await
        .json();
    assert_eq!(column(&page, "name"), ["A Person"]);
    app.get("/v1/organizations?identifier=no-colon")
        .await
        .problem(400);

    for (identifiers, field) in [
        (
            json!([{"scheme": "bad scheme", "value": "1"}]),
            "identifiers[0].scheme",
        ),
        (
            json!([{"scheme": "ok", "value": " "}]),
            "identifiers[0].value",
        ),
        (
            json!([{"scheme": "ok", "value": "1"}, {"scheme": "ok", "value": "1"}]),
            "identifiers[1]",
        ),
    ] {
        let problem = app.post("/v1/events", &json!({"title": "x", "starts_at": "2023-05-23T01:00:00Z", "identifiers": identifiers})).await.problem(422);
        assert_eq!(Reply::fields(&problem), [field]);
    }

    // A deleted record releases its identifiers (its tombstone keeps them).
    app.delete(&format!("/v1/organizations/{}", id(&bilibili)))
        .await
        .expect(204);
    app.post("/v1/organizations", &json!({"name": "Bilibili (new)", "kind": "enterprise", "identifiers": [{"scheme": SCHEME, "value": "310110-0042"}]}))
        .await
        .expect(201);
    let all = app
        .get(&format!(
            "/v1/organizations?identifier={SCHEME}:310110-0042&include_deleted=true"
        ))
        .await
        .json();
    let mut names = column(&all, "name");
    names.sort();
    assert_eq!(names, ["Bilibili", "Bilibili (new)"]);
    let tombstone = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Bilibili")
        .unwrap();
    assert!(tombstone["deleted_at"].is_string());
    let live = app
        .get(&format!(
            "/v1/organizations?identifier={SCHEME}:310110-0042"
        ))
        .await
        .json();
    assert_eq!(column(&live, "name"), ["Bilibili (new)"]);
    assert_eq!(live["items"][0]["deleted_at"], Value::Null);
}

async fn feed_len(app: &TestApp) -> usize {
    app.get("/v1/changes?limit=1000").await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn upsert_by_identifier_creates_replaces_and_repeats_as_a_no_op() {
    let app = spawn_app().await;
    let body = json!({"name": "Tongji Science and Technology Park", "kind": "science_park"});
    let created = app
        .put(&upsert_path("organizations", "310110-0001"), &body)
        .await
        .expect(201);
    let org = created.json();
    assert_eq!(
        created.header("location").unwrap(),
        format!("/v1/organizations/{}", id(&org))
    );
    assert_eq!(
        org["identifiers"],
        json!([{"scheme": SCHEME, "value": "310110-0001"}]),
        "the path identifier is added"
    );

    let changes_before = feed_len(&app).await;
    let again = app
        .put(&upsert_path("organizations", "310110-0001"), &body)
        .await
        .expect(200);
    assert_eq!(again.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(again.json()["id"], org["id"]);
    assert_eq!(
        feed_len(&app).await,
        changes_before,
        "re-sending the same body writes nothing"
    );

    let replaced = app
        .put(
            &upsert_path("organizations", "310110-0001"),
            &json!({"name": "Tongji Science Park", "kind": "science_park"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["version"], 2);
    assert_eq!(feed_len(&app).await, changes_before + 1);

    // Preconditions hold for upserts too.
    let stale = app
        .send(
            app.request(Method::PUT, &upsert_path("organizations", "310110-0001"))
                .insert_header(("If-Match", "\"1\"")),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    stale.problem(412);
    let missing = app
        .send(
            app.request(Method::PUT, &upsert_path("organizations", "310110-9999"))
                .insert_header(("If-Match", "\"1\"")),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    missing.problem(412);
    let problem = app
        .put(
            "/v1/organizations/by-identifier?scheme=bad%20scheme&value=1",
            &body,
        )
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["scheme"]);

    // Concurrent upserts of one new identifier create one record.
    let path = upsert_path("people", "p-7");
    let body = json!({"name": "Jiang Daorong"});
    let replies = futures_util::future::join_all((0..6).map(|_| app.put(&path, &body))).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);
    let ids: HashSet<Value> = replies.iter().map(|r| r.json()["id"].clone()).collect();
    assert_eq!(ids.len(), 1);
}

#[actix_web::test]
async fn references_may_name_records_by_identifier() {
    let app = spawn_app().await;
    let (alliance, unit, person) = alliance_unit_and_person(&app).await;

    let branch = created(
        &app,
        "organizations",
        "unit-1-branch",
        json!({"name": "Party Committee of Oujian Network",
            "kind": "party_committee", "parent_id": format!("{SCHEME}:unit-1")}),
    )
    .await;
    assert_eq!(branch["parent_id"], unit["id"]);
    let role = created(&app, "roles", "membership-1", json!({"organization_id": format!("{SCHEME}:alliance"),
            "member_organization_id": format!("{SCHEME}:unit-1"), "title": "Member unit", "start_date": "2023-05-23"})).await;
    assert_eq!(role["organization_id"], alliance["id"]);
    assert_eq!(role["member_organization_id"], unit["id"]);
    let post = app
        .role(json!({"organization_id": id(&alliance), "person_id": format!("{SCHEME}:person-1"), "title": "Convenor"}))
        .await;
    assert_eq!(post["person_id"], person["id"]);
    let seminar = created(
        &app,
        "events",
        "seminar-2023-05-23",
        json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}),
    )
    .await;
    let speaker = app
        .participant(
            &seminar,
            json!({"person_id": format!("{SCHEME}:person-1"), "role": "speaker",
            "on_behalf_of_id": format!("{SCHEME}:alliance")}),
        )
        .await;
    assert_eq!(speaker["on_behalf_of_id"], alliance["id"]);
    // A merge patch may use identifiers too.
    let moved = app
        .patch(
            &format!("/v1/organizations/{}", id(&branch)),
            &json!({"parent_id": format!("{SCHEME}:alliance")}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(moved["parent_id"], alliance["id"]);

    let problem = app
        .post("/v1/roles", &json!({"organization_id": format!("{SCHEME}:nobody"), "person_id": format!("{SCHEME}:nobody"), "title": "x"}))
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["organization_id", "person_id"]);
    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": "neither", "person_id": id(&person), "title": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["organization_id"]);
}

#[actix_web::test]
async fn participants_are_upserted_by_identifier_within_their_event() {
    let app = spawn_app().await;
    let (alliance, _, person) = alliance_unit_and_person(&app).await;
    let event = json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"});
    let seminar = created(&app, "events", "seminar", event).await;
    let other = json!({"title": "Joint meeting", "starts_at": "2023-06-01T01:30:00Z"});
    let meeting = created(&app, "events", "meeting", other).await;
    let path = |event: &Value| {
        format!(
            "/v1/events/{}/participants/by-identifier?scheme={SCHEME}&value=speaker-1",
            id(event)
        )
    };
    let body = json!({"person_id": format!("{SCHEME}:person-1"), "role": "speaker",
        "on_behalf_of_id": format!("{SCHEME}:alliance")});

    let first = app.put(&path(&seminar), &body).await.expect(201);
    let location = first.header("location").unwrap();
    let speaker = first.json();
    assert_eq!(speaker["person_id"], person["id"]);
    assert_eq!(speaker["on_behalf_of_id"], alliance["id"]);
    assert_eq!(
        speaker["identifiers"],
        json!([{"scheme": SCHEME, "value": "speaker-1"}])
    );
    assert!(location.ends_with(&format!("/participants/{}", id(&speaker))));

    // The same body again changes nothing: same version, no feed entry.
    let before = feed_len(&app).await;
    let again = app.put(&path(&seminar), &body).await.expect(200).json();
    assert_eq!(
        (again["id"].clone(), again["version"].clone()),
        (speaker["id"].clone(), json!(1))
    );
    assert_eq!(feed_len(&app).await, before);
    // A changed body replaces it.
    let changed = json!({"person_id": id(&person), "role": "commenter"});
    let replaced = app.put(&path(&seminar), &changed).await.expect(200).json();
    assert_eq!(
        (replaced["role"].clone(), replaced["version"].clone()),
        (json!("commenter"), json!(2))
    );
    assert_eq!(replaced["on_behalf_of_id"], Value::Null);

    // The identifier belongs to one live participant: another event's
    // upsert of it is a conflict, and so is a POST carrying it.
    app.put(&path(&meeting), &body).await.problem(409);
    let mut carrying = changed.clone();
    carrying["identifiers"] = json!([{"scheme": SCHEME, "value": "speaker-1"}]);
    let post = format!("/v1/events/{}/participants", id(&meeting));
    app.post(&post, &carrying).await.problem(409);
    // Lists show it, and find the participant by it.
    let listed = app
        .get(&format!("/v1/events/{SCHEME}:seminar/participants"))
        .await
        .expect(200)
        .json();
    assert_eq!(listed["items"][0]["identifiers"][0]["value"], "speaker-1");
    // Once removed, the identifier is free again.
    let item = format!("/v1/events/{}/participants/{}", id(&seminar), id(&speaker));
    app.delete(&item).await.expect(204);
    app.put(&path(&meeting), &body).await.expect(201);
}

#[actix_web::test]
async fn an_upsert_names_its_identifier_by_exactly_two_query_parameters() {
    let app = spawn_app().await;
    let body = json!({"name": "Oujian Network", "kind": "enterprise"});
    for (query, fields) in [
        ("", vec!["scheme", "value"]),
        ("?scheme=yangpu-party-org", vec!["value"]),
        ("?scheme=a&value=1&value=2&limit=3", vec!["value", "limit"]),
        ("?scheme=-a&value=1", vec!["scheme"]),
        ("?scheme=a&value=", vec!["value"]),
    ] {
        let path = format!("/v1/organizations/by-identifier{query}");
        let problem = app.put(&path, &body).await.problem(400);
        assert_eq!(Reply::fields(&problem), fields, "{query}");
    }
    // The value is any text, percent-encoded as a query parameter.
    let path = "/v1/organizations/by-identifier?scheme=registry&value=a%2Fb%3Fc%26d%20e";
    let created = app.put(path, &body).await.expect(201).json();
    assert_eq!(created["identifiers"][0]["value"], "a/b?c&d e");
}

#[actix_web::test]
async fn the_former_upsert_paths_still_upsert_deprecated_and_link_their_successor() {
    let app = spawn_app().await;
    let body = json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"});
    // `/v1/events/by-identifier/{scheme}/{value}` was ambiguous beside
    // `/v1/events/{id}/participants/{participant_id}`; it keeps answering.
    let former = app
        .put(&format!("/v1/events/by-identifier/{SCHEME}/seminar"), &body)
        .await
        .expect(201);
    assert_eq!(former.header("deprecation").as_deref(), Some("@1796515200"));
    assert_eq!(
        former.header("link").as_deref(),
        Some(
            format!(
                "</v1/events/by-identifier?scheme={SCHEME}&value=seminar>; rel=\"successor-version\""
            )
            .as_str()
        )
    );
    let seminar = former.json();
    // The successor finds the record the former path created.
    let current = app
        .put(&upsert_path("events", "seminar"), &body)
        .await
        .expect(200);
    assert!(current.header("deprecation").is_none());
    assert_eq!(current.json()["id"], seminar["id"]);

    // Participants' former path, with the event named in it.
    let (_, _, person) = alliance_unit_and_person(&app).await;
    let speaker = json!({"person_id": id(&person), "role": "speaker"});
    let former = app
        .put(
            &format!("/v1/events/{SCHEME}:seminar/participants/by-identifier/{SCHEME}/speaker%2F1"),
            &speaker,
        )
        .await
        .expect(201);
    assert_eq!(
        former.header("link").as_deref(),
        Some(
            format!(
                "</v1/events/{SCHEME}:seminar/participants/by-identifier?scheme={SCHEME}&value=speaker%2F1>; rel=\"successor-version\""
            )
            .as_str()
        )
    );
    assert_eq!(former.json()["identifiers"][0]["value"], "speaker/1");
    // Its checks are the upsert's: `If-Match` without a record, 412; a bad
    // scheme in the path, 422 as before; other methods, 405.
    let guarded = app
        .send(
            app.request(
                Method::PUT,
                &format!("/v1/people/by-identifier/{SCHEME}/p-1"),
            )
            .insert_header(("If-Match", "\"1\"")),
            Some((
                "application/json",
                json!({"name": "A"}).to_string().into_bytes(),
            )),
        )
        .await;
    guarded.problem(412);
    let problem = app
        .put(
            "/v1/people/by-identifier/bad%20scheme/1",
            &json!({"name": "A"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["scheme"]);
    let other = app
        .get(&format!("/v1/people/by-identifier/{SCHEME}/p-1"))
        .await;
    assert_eq!(other.problem(405)["type"], "/problems/method-not-allowed");

    // The document names the successors only.
    let doc: Value = serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/v1/events/by-identifier"));
    assert!(paths.contains_key("/v1/events/{id}/participants/by-identifier"));
    assert!(
        paths.keys().all(|path| !path.contains("{scheme}")),
        "{:?}",
        paths.keys()
    );
}

#[actix_web::test]
async fn items_are_named_by_identifier_in_their_path() {
    let app = spawn_app().await;
    let (alliance, _, person) = alliance_unit_and_person(&app).await;
    let got = app
        .get(&format!("/v1/organizations/{SCHEME}:alliance"))
        .await
        .expect(200);
    assert_eq!(got.header("etag").unwrap(), "\"1\"");
    assert_eq!(got.json()["id"], alliance["id"]);
    let patched = app
        .patch(
            &format!("/v1/people/{SCHEME}:person-1"),
            &json!({"given_name": "Haiying"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        (patched["id"].clone(), patched["version"].clone()),
        (person["id"].clone(), json!(2))
    );
    let body = json!({"name": "Oujian Network Technology", "kind": "enterprise"});
    let path = format!("/v1/organizations/{SCHEME}%3Aunit-1");
    let replaced = app.put(&path, &body).await.expect(200).json();
    assert_eq!(replaced["name"], "Oujian Network Technology");

    let event = json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"});
    let seminar = created(&app, "events", "seminar", event).await;
    let speaker = json!({"person_id": id(&person), "role": "speaker"});
    let upsert = format!(
        "/v1/events/{}/participants/by-identifier?scheme={SCHEME}&value=speaker-1",
        id(&seminar)
    );
    app.put(&upsert, &speaker).await.expect(201);
    let item = format!(
        "/v1/events/{}/participants/{SCHEME}:speaker-1",
        id(&seminar)
    );
    assert_eq!(app.get(&item).await.expect(200).json()["role"], "speaker");
    // The event too may be named by its identifier, in every participant path.
    let by_event = format!("/v1/events/{SCHEME}:seminar/participants/{SCHEME}:speaker-1");
    assert_eq!(
        app.get(&by_event).await.expect(200).json()["role"],
        "speaker"
    );
    let attendee = json!({"organization_id": format!("{SCHEME}:alliance"), "role": "attendee"});
    let added = app
        .post(
            &format!("/v1/events/{SCHEME}:seminar/participants"),
            &attendee,
        )
        .await
        .expect(201)
        .json();
    assert_eq!(added["event_id"], seminar["id"]);
    let upsert_by_event = format!(
        "/v1/events/{SCHEME}:seminar/participants/by-identifier?scheme={SCHEME}&value=attendee-2"
    );
    app.put(
        &upsert_by_event,
        &json!({"person_id": id(&person), "role": "attendee"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/v1/events/{SCHEME}:no-such-event/participants"),
        &attendee,
    )
    .await
    .problem(404);
    let embedded = app
        .get(&format!("/v1/events/{SCHEME}:seminar?embed=participants"))
        .await
        .expect(200)
        .json();
    assert_eq!(embedded["participants"].as_array().unwrap().len(), 3);

    app.get(&format!("/v1/organizations/{SCHEME}:nobody"))
        .await
        .problem(404);
    app.delete(&item).await.expect(204);
    app.get(&item).await.problem(404);
    app.delete(&format!("/v1/events/{SCHEME}:seminar"))
        .await
        .expect(204);
    app.get(&format!("/v1/events/{SCHEME}:seminar"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn views_name_their_record_by_identifier_in_the_path() {
    let app = spawn_app().await;
    let (alliance, unit, _) = alliance_unit_and_person(&app).await;
    let patch = json!({"parent_id": format!("{SCHEME}:alliance")});
    let path = format!("/v1/organizations/{}", id(&unit));
    app.patch(&path, &patch).await.expect(200);
    app.role(json!({"organization_id": id(&alliance), "member_organization_id": id(&unit), "title": "Member unit"}))
        .await;
    app.role(json!({"organization_id": id(&alliance), "person_id": format!("{SCHEME}:person-1"), "title": "Convenor"}))
        .await;
    let event = json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"});
    let seminar = created(&app, "events", "seminar", event).await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&unit), "role": "speaker"}),
    )
    .await;

    let by_id = format!("/v1/organizations/{}/members", id(&alliance));
    let views = [
        (by_id.as_str(), 2),
        ("/v1/organizations/{s}:alliance/members", 2),
        // Percent-encoded like any path segment.
        ("/v1/organizations/{s}%3Aalliance/members", 2),
        ("/v1/organizations/{s}:alliance/children", 1),
        ("/v1/people/{s}:person-1/roles", 1),
        ("/v1/events/{s}:seminar/participants", 1),
        // Filters take identifiers too; one no live record carries matches
        // nothing.
        ("/v1/roles?organization_id={s}:alliance", 2),
        ("/v1/roles?person_id={s}:person-1", 1),
        ("/v1/roles?member_organization_id={s}:unit-1", 1),
        ("/v1/roles?organization_id={s}:nobody", 0),
        ("/v1/people?organization_id={s}:alliance", 1),
        ("/v1/organizations?parent_id={s}:alliance", 1),
        ("/v1/events?organization_id={s}:unit-1", 1),
        ("/v1/events?person_id={s}:person-1", 0),
    ];
    for (path, count) in views {
        let page = app
            .get(&path.replace("{s}", SCHEME))
            .await
            .expect(200)
            .json();
        assert_eq!(page["items"].as_array().unwrap().len(), count, "{path}");
    }

    // An identifier no live record carries is a 404 naming it; so is a
    // deleted record's id; a malformed reference is a 400.
    let problem = app
        .get(&format!("/v1/organizations/{SCHEME}:nobody/members"))
        .await
        .problem(404);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("{SCHEME}:nobody")));
    app.get(&format!("/v1/people/{SCHEME}:alliance/roles"))
        .await
        .problem(404);
    app.delete(&format!("/v1/events/{}", id(&seminar)))
        .await
        .expect(204);
    app.get(&format!("/v1/events/{}/participants", id(&seminar)))
        .await
        .problem(404);
    app.get(&format!("/v1/events/{SCHEME}:seminar/participants"))
        .await
        .problem(404);
    app.get("/v1/organizations/not-a-reference/members")
        .await
        .problem(400);
}

async fn post_with_key(app: &TestApp, key: &str, token: &str, body: &Value) -> Reply {
    let request = app
        .request_as(Method::POST, "/v1/organizations", Some(token))
        .insert_header(("Idempotency-Key", key.to_owned()));
    app.send(
        request,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

#[actix_web::test]
async fn idempotency_keys_replay_refuse_mismatches_and_write_once() {
    let app = spawn_app().await;
    let body = json!({"name": "Youkede", "kind": "enterprise"});
    let first = post_with_key(&app, "import-0001", &app.token, &body)
        .await
        .expect(201);
    let replay = post_with_key(&app, "import-0001", &app.token, &body)
        .await
        .expect(201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert!(first.header("idempotent-replayed").is_none());
    assert_eq!(replay.body, first.body, "the same body");
    for header in ["location", "etag", "content-type"] {
        assert_eq!(replay.header(header), first.header(header), "{header}");
    }
    let problem = post_with_key(
        &app,
        "import-0001",
        &app.token,
        &json!({"name": "Other", "kind": "enterprise"}),
    )
    .await
    .problem(422);
    assert_eq!(Reply::fields(&problem), ["Idempotency-Key"]);
    let organizations = app.get("/v1/organizations").await.json();
    assert_eq!(column(&organizations, "name"), ["Youkede"], "written once");

    // Keys belong to an API key: another client's "import-0001" is its own.
    let other = mint_key(&app.db, "other", &[Scope::Read, Scope::Write], None).1;
    post_with_key(
        &app,
        "import-0001",
        &other,
        &json!({"name": "Bilibili", "kind": "enterprise"}),
    )
    .await
    .expect(201);

    // Two identical requests at once write once.
    let body = json!({"name": "Concurrent", "kind": "enterprise"});
    let replies = futures_util::future::join_all(
        (0..5).map(|_| post_with_key(&app, "import-0002", &app.token, &body)),
    )
    .await;
    let ids: HashSet<Value> = replies.iter().map(|r| r.json()["id"].clone()).collect();
    assert_eq!(
        ids.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 201));
    let page = app.get("/v1/organizations?q=Concurrent").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // Expired keys are forgotten: the request is processed anew.
    diesel::sql_query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(&mut app.db.connect())
        .unwrap();
    let fresh = post_with_key(
        &app,
        "import-0001",
        &app.token,
        &json!({"name": "Youkede", "kind": "enterprise"}),
    )
    .await
    .expect(201);
    assert!(fresh.header("idempotent-replayed").is_none());
    assert_ne!(fresh.json()["id"], first.json()["id"]);
    // A malformed key is a 400.
    let request = app
        .request(Method::POST, "/v1/organizations")
        .insert_header(("Idempotency-Key", "has space"));
    app.send(
        request,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .problem(400);
}

async fn drain(app: &TestApp, cursor: &mut Option<String>, seen: &mut Vec<Value>) -> usize {
    let mut total = 0;
    loop {
        let path = match cursor {
            Some(c) => format!("/v1/changes?limit=500&cursor={c}"),
            None => "/v1/changes?limit=500".to_owned(),
        };
        let page = app.get(&path).await.expect(200).json();
        *cursor = Some(
            page["next_cursor"]
                .as_str()
                .expect("always a cursor")
                .to_owned(),
        );
        let items = page["items"].as_array().unwrap();
        total += items.len();
        seen.extend(items.iter().cloned());
        if items.is_empty() {
            return total;
        }
    }
}

/// Drains the feed until `count` more changes have come, for at most 10 s:
/// polls, as a consumer does, while a short settle wait lets another test's
/// open transaction on the server hold the feed's head back.
async fn drain_at_least(
    app: &TestApp,
    cursor: &mut Option<String>,
    seen: &mut Vec<Value>,
    count: usize,
) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut total = drain(app, cursor, seen).await;
    while total < count && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        total += drain(app, cursor, seen).await;
    }
    total
}

#[actix_web::test]
async fn the_feed_shows_changes_as_gets_did_with_tombstones_and_pii_rules() {
    let app = spawn_app().await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Yu Yang", "email": "yu@example.gov.cn"}),
        )
        .await
        .expect(201)
        .json();
    let org = app
        .organization("Caida Science and Technology Park", "science_park", None)
        .await;
    let patched = app
        .patch(
            &format!("/v1/organizations/{}", id(&org)),
            &json!({"description": "A park"}),
        )
        .await
        .expect(200)
        .json();
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    let participant = app
        .participant(
            &seminar,
            json!({"person_id": id(&person), "role": "speaker", "on_behalf_of_id": id(&org)}),
        )
        .await;
    app.delete(&format!(
        "/v1/events/{}/participants/{}",
        id(&seminar),
        id(&participant)
    ))
    .await
    .expect(204);

    let mut cursor = None;
    let mut seen = Vec::new();
    drain(&app, &mut cursor, &mut seen).await;
    let summary: Vec<(String, String, i64)> = seen
        .iter()
        .map(|c| {
            (
                c["entity_type"].as_str().unwrap().into(),
                c["op"].as_str().unwrap().into(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("person".into(), "created".into(), 1),
            ("organization".into(), "created".into(), 1),
            ("organization".into(), "updated".into(), 2),
            ("event".into(), "created".into(), 1),
            ("participant".into(), "created".into(), 1),
            ("participant".into(), "deleted".into(), 2),
        ]
    );
    assert_eq!(
        seen[2]["data"], patched,
        "data is the record as GET returned it"
    );
    assert_eq!(seen[0]["data"]["email"], "yu@example.gov.cn");
    assert_eq!(seen[4]["data"]["person_name"], "Yu Yang");
    assert_eq!(
        seen[4]["data"]["on_behalf_of_name"],
        "Caida Science and Technology Park"
    );
    assert_eq!(seen[5]["data"], Value::Null, "tombstones carry no data");
    assert_eq!(seen[5]["entity_id"], participant["id"]);

    // Nothing new: an empty page and a cursor to keep polling with.
    let page = app
        .get(&format!("/v1/changes?cursor={}", cursor.as_ref().unwrap()))
        .await
        .json();
    assert!(page["items"].as_array().unwrap().is_empty());
    assert!(page["next_cursor"].is_string());

    // Types filter and personal data rules.
    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let page = app
        .send(
            app.request_as(Method::GET, "/v1/changes?types=person", Some(&reader)),
            None,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["items"][0]["data"].get("email").is_none());
    app.get("/v1/changes?types=planet").await.problem(400);
    app.get("/v1/changes?cursor=garbage").await.problem(400);
}

#[actix_web::test]
async fn a_cursor_older_than_retention_is_gone_and_a_forged_one_is_refused() {
    const SECRET: &[u8] = b"a cursor secret of at least 32 bytes";
    let app = spawn_app_with(|s| s.cursor_secret = Some(SECRET.to_vec())).await;
    let signer = Signer::new(SECRET);
    let seal = |doc: Value| signer.seal(doc.to_string().as_bytes());
    let stale = seal(json!({"c": 0, "s": 0, "t": "2020-01-01T00:00:00Z"}));
    let problem = app
        .get(&format!("/v1/changes?cursor={stale}"))
        .await
        .problem(410);
    assert!(problem["detail"].as_str().unwrap().contains("resync"));
    let recent = seal(json!({"c": 0, "s": 0, "t": chrono::Utc::now()}));
    app.get(&format!("/v1/changes?cursor={recent}"))
        .await
        .expect(200);
    // Unsealed, or sealed under another key: the issue time cannot be
    // forged into the future to pass the retention check.
    let future = json!({"c": 0, "s": 0, "t": "2999-01-01T00:00:00Z"}).to_string();
    let unsealed = URL_SAFE_NO_PAD.encode(&future);
    let foreign = Signer::new(b"another deployment's cursor key!!").seal(future.as_bytes());
    for forged in [unsealed, foreign] {
        app.get(&format!("/v1/changes?cursor={forged}"))
            .await
            .problem(400);
    }
}

#[derive(QueryableByName, Debug, PartialEq, Eq, Hash, Clone)]
struct Entry {
    #[diesel(sql_type = SqlUuid)]
    entity_id: uuid::Uuid,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    entity_type: String,
}

#[actix_web::test]
async fn a_change_that_commits_late_is_not_skipped_and_a_rolled_back_one_never_appears() {
    // A short wait for changes to settle: this test holds a writing
    // transaction open, which holds back every feed on the server.
    let app = spawn_app_with(|s| s.feed_settle_wait = std::time::Duration::from_millis(200)).await;
    let early = app.organization("Early", "other", None).await;
    let mut cursor = None;
    let mut seen = Vec::new();
    drain_at_least(&app, &mut cursor, &mut seen, 1).await;

    // A transaction writes first but commits last.
    let mut slow = app.db.connect();
    diesel::sql_query("BEGIN").execute(&mut slow).unwrap();
    diesel::sql_query(
        "UPDATE organizations SET description = 'slow', version = version + 1 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id(&early).parse::<uuid::Uuid>().unwrap())
    .execute(&mut slow)
    .unwrap();
    // Another writes and rolls back.
    let mut rolled_back = app.db.connect();
    diesel::sql_query("BEGIN")
        .execute(&mut rolled_back)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO organizations (id, name, kind) VALUES (gen_random_uuid(), 'Never', 'other')",
    )
    .execute(&mut rolled_back)
    .unwrap();
    diesel::sql_query("ROLLBACK")
        .execute(&mut rolled_back)
        .unwrap();
    let fast = app.organization("Fast", "other", None).await;
    let got = drain(&app, &mut cursor, &mut seen).await;
    assert_eq!(
        got, 0,
        "a change committed after the slow transaction began is not settled while it is open"
    );

    diesel::sql_query("COMMIT").execute(&mut slow).unwrap();
    let got = drain_at_least(&app, &mut cursor, &mut seen, 2).await;
    assert_eq!(got, 2, "both, once the slow transaction committed");
    let (slow_change, fast_change) = (&seen[seen.len() - 2], &seen[seen.len() - 1]);
    assert_eq!(
        slow_change["entity_id"], early["id"],
        "the slow change first: it was written first"
    );
    assert_eq!(slow_change["version"], 2);
    assert_eq!(fast_change["entity_id"], fast["id"]);
    assert!(seen.iter().all(|c| c["data"]["name"] != "Never"));
}

#[actix_web::test]
async fn a_reader_sees_its_own_write_while_an_earlier_writer_commits_within_the_bound() {
    let app =
        spawn_app_with(|s| s.feed_settle_wait = std::time::Duration::from_millis(5_000)).await;
    let earlier = app.organization("Earlier", "other", None).await;
    let mut cursor = None;
    let mut seen = Vec::new();
    drain(&app, &mut cursor, &mut seen).await;

    // Another connection's transaction begins writing, and commits 300 ms
    // later; meanwhile the API writes and its caller reads the feed.
    let mut other = app.db.connect();
    diesel::sql_query("BEGIN").execute(&mut other).unwrap();
    diesel::sql_query(
        "UPDATE organizations SET description = 'earlier', version = version + 1 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id(&earlier).parse::<uuid::Uuid>().unwrap())
    .execute(&mut other)
    .unwrap();
    let committer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        diesel::sql_query("COMMIT").execute(&mut other).unwrap();
    });
    let own = app.organization("Own", "other", None).await;
    let started = std::time::Instant::now();
    let page = app
        .get(&format!("/v1/changes?cursor={}", cursor.unwrap()))
        .await
        .expect(200)
        .json();
    let waited = started.elapsed();
    committer.join().unwrap();
    let ids: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["entity_id"])
        .collect();
    assert_eq!(
        ids,
        [&earlier["id"], &own["id"]],
        "the reader's own write, after the earlier transaction's change"
    );
    assert!(
        waited < std::time::Duration::from_millis(5_000),
        "within the bound: {waited:?}"
    );
}

#[actix_web::test]
async fn a_cursor_issued_before_the_feed_key_migration_continues_after_it() {
    use alliance_registry::db::migrate::MIGRATIONS;
    use diesel_migrations::MigrationHarness;
    const SECRET: &[u8] = b"a cursor secret of at least 32 bytes";
    #[derive(QueryableByName)]
    struct Position {
        #[diesel(sql_type = BigInt)]
        commit_seq: i64,
        #[diesel(sql_type = BigInt)]
        seq: i64,
    }

    // A register with the commit-order lock of before: three changes, each
    // in its own transaction; a consumer's cursor after the second.
    let db = crate::helpers::TestDatabase::migrated();
    let mut conn = db.connect();
    // Back to before the feed_key migration (and any after it).
    while !conn
        .revert_last_migration(MIGRATIONS)
        .unwrap()
        .to_string()
        .ends_with("000013")
    {}
    for name in ["First", "Second", "Third"] {
        diesel::sql_query(
            "INSERT INTO organizations (id, name, kind) VALUES (gen_random_uuid(), $1, 'other')",
        )
        .bind::<Text, _>(name)
        .execute(&mut conn)
        .unwrap();
    }
    let second: Position =
        diesel::sql_query("SELECT commit_seq, seq FROM journal WHERE after ->> 'name' = 'Second'")
            .get_result(&mut conn)
            .unwrap();
    let cursor = Signer::new(SECRET).seal(
        json!({"c": second.commit_seq, "s": second.seq, "t": chrono::Utc::now()})
            .to_string()
            .as_bytes(),
    );
    conn.run_pending_migrations(MIGRATIONS).unwrap();
    drop(conn);

    let app = crate::helpers::spawn_app_on(db, |s| s.cursor_secret = Some(SECRET.to_vec())).await;
    app.organization("Fourth", "other", None).await;
    let mut cursor = Some(cursor);
    let mut seen = Vec::new();
    drain(&app, &mut cursor, &mut seen).await;
    let names: Vec<&str> = seen
        .iter()
        .map(|c| c["data"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Third", "Fourth"]);
}

/// The guarantee: a consumer that starts with no cursor and polls while
/// many writers commit concurrently sees every committed change exactly
/// once, each record's changes in order (versions ascending), and nothing
/// else.
#[actix_web::test]
async fn a_polling_consumer_sees_every_committed_change_exactly_once_in_order() {
    const WRITERS: usize = 16;
    const WRITES: usize = 500;
    let app = spawn_app_with(|s| {
        s.http_workers = 4;
        s.db_pool_size = 20;
    })
    .await;
    let done = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let shared = app.organization("Shared", "other", None).await;

    let writer = |n: usize| {
        let app = &app;
        let shared = &shared;
        let done = done.clone();
        async move {
            // One record per writer, changed over and over; every tenth
            // write also touches a shared record, so writers contend.
            let own = app
                .organization(&format!("Writer {n}"), "other", None)
                .await;
            for i in 1..WRITES {
                let target = if i % 10 == 0 { shared } else { &own };
                let path = format!("/v1/organizations/{}", id(target));
                let description = format!("writer {n}, write {i}");
                app.patch(&path, &json!({ "description": description }))
                    .await
                    .expect(200);
            }
            done.set(done.get() + 1);
        }
    };
    let consumer = async {
        let mut cursor = None;
        let mut seen = Vec::new();
        loop {
            let finished = done.get() == WRITERS;
            let got = drain(&app, &mut cursor, &mut seen).await;
            if finished && got == 0 {
                return seen;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let (_, seen) = futures_util::future::join(
        futures_util::future::join_all((0..WRITERS).map(writer)),
        consumer,
    )
    .await;

    // Exactly once.
    let delivered: Vec<Entry> = seen
        .iter()
        .map(|c| Entry {
            entity_id: c["entity_id"].as_str().unwrap().parse().unwrap(),
            version: c["version"].as_i64().unwrap(),
            entity_type: c["entity_type"].as_str().unwrap().to_owned(),
        })
        .collect();
    let unique: HashSet<Entry> = delivered.iter().cloned().collect();
    assert_eq!(unique.len(), delivered.len(), "no change twice");
    assert_eq!(
        delivered.len(),
        WRITERS * WRITES + 1,
        "every write, and the shared record's creation"
    );
    // Every committed change, nothing else.
    let committed: HashSet<Entry> = diesel::sql_query(
        "SELECT entity_id, version, entity_type FROM journal WHERE entity_type <> 'api_key'",
    )
    .load::<Entry>(&mut app.db.connect())
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(unique, committed);
    // Each record's changes in order.
    let mut last: HashMap<uuid::Uuid, i64> = HashMap::new();
    for entry in &delivered {
        let previous = last.insert(entry.entity_id, entry.version).unwrap_or(0);
        assert_eq!(
            entry.version,
            previous + 1,
            "versions of {} in order",
            entry.entity_id
        );
    }
}

#[actix_web::test]
async fn a_former_path_links_its_successor_with_the_clients_segments_encoded_so_they_cannot_add_links(
) {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.request_as(
                Method::PUT,
                "/v1/events/x%3E;rel=%22x%22,%3Chttps:evil.example/participants/by-identifier/s/v",
                None,
            ),
            Some(("application/json", b"{}".to_vec())),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("link").as_deref(),
        Some(
            "</v1/events/x%3E%3Brel%3D%22x%22%2C%3Chttps:evil.example/participants/by-identifier\
             ?scheme=s&value=v>; rel=\"successor-version\""
        )
    );
    let unicode = app
        .send(
            app.request_as(
                Method::PUT,
                "/v1/events/%E6%9D%A8/participants/by-identifier/s/v",
                None,
            ),
            Some(("application/json", b"{}".to_vec())),
        )
        .await;
    assert_eq!(
        unicode.header("link").as_deref(),
        Some("</v1/events/%E6%9D%A8/participants/by-identifier?scheme=s&value=v>; rel=\"successor-version\"")
    );
}
