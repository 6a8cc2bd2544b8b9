//! Cross-origin access (CORS), conditional requests (entity tags,
//! `If-Match: *` on upserts) and duplicate memberships.

use crate::helpers::{id, spawn_app, spawn_app_with, Reply, TestApp};
use alliance_registry::api::idempotency;
use awc::http::Method;
use serde_json::{json, Value};

const PORTAL: &str = "https://portal.example";

async fn app_for_portal() -> TestApp {
    spawn_app_with(|s| s.cors_allowed_origins = vec![PORTAL.into()]).await
}

/// A CORS preflight from `origin` for `method` with `headers`.
async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Reply {
    app.send(
        app.request_as(Method::OPTIONS, "/v1/people", None)
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", method))
            .insert_header(("Access-Control-Request-Headers", headers)),
        None,
    )
    .await
}

/// The lower-cased, comma-separated names of header `name` of `reply`.
fn listed(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", reply.headers))
        .split(',')
        .map(|item| item.trim().to_lowercase())
        .collect()
}

#[actix_web::test]
async fn cors_preflights_from_allowed_origins_may_send_idempotency_keys_and_conditions() {
    let app = app_for_portal().await;
    let key = idempotency::HEADER.to_lowercase();
    for (method, headers) in [
        (
            "POST",
            format!("authorization, content-type, {key}, x-request-id"),
        ),
        ("PUT", "authorization, content-type, if-match".to_owned()),
        ("PATCH", "If-Match, Content-Type".to_owned()),
        ("GET", "authorization, if-none-match".to_owned()),
        ("HEAD", "authorization, if-none-match".to_owned()),
        ("DELETE", "authorization, if-match".to_owned()),
    ] {
        let reply = preflight(&app, PORTAL, method, &headers).await;
        assert_eq!(
            reply.status,
            200,
            "{method} with {headers}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(
            reply.header("access-control-allow-origin").as_deref(),
            Some(PORTAL)
        );
        assert!(listed(&reply, "access-control-allow-methods").contains(&method.to_lowercase()));
    }
    let reply = preflight(&app, PORTAL, "POST", &key).await.expect(200);
    let allowed = listed(&reply, "access-control-allow-headers");
    for header in [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        key.as_str(),
        "x-request-id",
    ] {
        assert!(
            allowed.contains(&header.to_owned()),
            "{header} in {allowed:?}"
        );
    }
}

#[actix_web::test]
async fn cors_exposes_etag_location_link_replay_retry_request_id_and_allow() {
    let app = app_for_portal().await;
    let reply = app
        .send(
            app.request(Method::GET, "/v1/people")
                .insert_header(("Origin", PORTAL)),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        reply.header("access-control-allow-origin").as_deref(),
        Some(PORTAL)
    );
    let exposed = listed(&reply, "access-control-expose-headers");
    for header in [
        "etag",
        "location",
        "link",
        &idempotency::REPLAYED.to_lowercase(),
        "retry-after",
        "x-request-id",
        "allow",
    ] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header} in {exposed:?}"
        );
    }
}

#[actix_web::test]
async fn cors_preflights_from_other_origins_are_refused_with_a_problem() {
    let app = app_for_portal().await;
    let refused = preflight(&app, "https://evil.example", "POST", "authorization").await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let problem = refused.problem(400);
    assert_eq!(Reply::fields(&problem), ["Origin"]);

    let refused = preflight(&app, PORTAL, "POST", "x-unknown-header").await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let problem = refused.problem(400);
    assert_eq!(Reply::fields(&problem), ["Access-Control-Request-Headers"]);
}

#[actix_web::test]
async fn without_configured_origins_responses_carry_no_cors_headers() {
    let app = spawn_app().await;
    let get = app
        .send(
            app.request(Method::GET, "/v1/people")
                .insert_header(("Origin", PORTAL)),
            None,
        )
        .await
        .expect(200);
    let options = preflight(&app, PORTAL, "POST", "authorization, content-type").await;
    for reply in [get, options] {
        let cors: Vec<_> = reply
            .headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "CORS headers {cors:?}");
        assert!(
            !reply.headers.get_all("vary").any(|v| v
                .to_str()
                .unwrap()
                .to_lowercase()
                .contains("origin")),
            "Vary: {:?}",
            reply.headers
        );
    }
}

/// Sends `method` to `path` with one extra header and an optional JSON body.
async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    header: (&str, &str),
    body: Option<&Value>,
) -> Reply {
    app.send(
        app.request(method, path).insert_header(header),
        body.map(|body| ("application/json", body.to_string().into_bytes())),
    )
    .await
}

/// An organization at version 4.
async fn organization_at_version_4(app: &TestApp) -> String {
    let org = app.organization("Bilibili", "enterprise", None).await;
    let path = format!("/v1/organizations/{}", id(&org));
    for description in ["one", "two", "three"] {
        app.patch(&path, &json!({ "description": description }))
            .await
            .expect(200);
    }
    let reply = app.get(&path).await.expect(200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"4\""));
    path
}

#[actix_web::test]
async fn if_match_compares_entity_tags_as_strings_so_04_is_not_version_4() {
    let app = spawn_app().await;
    let path = organization_at_version_4(&app).await;
    for tag in ["\"04\"", "\"+4\"", "\"4.0\"", "W/\"4\""] {
        let reply = app
            .send(
                app.request(Method::PATCH, &path)
                    .insert_header(("If-Match", tag)),
                Some((
                    "application/merge-patch+json",
                    br#"{"description": "stale"}"#.to_vec(),
                )),
            )
            .await;
        assert_eq!(reply.header("etag").as_deref(), Some("\"4\""), "{tag}");
        reply.problem(412);
    }
    let reply = app
        .send(
            app.request(Method::PATCH, &path)
                .insert_header(("If-Match", "\"04\", \"4\"")),
            Some((
                "application/merge-patch+json",
                br#"{"description": "current"}"#.to_vec(),
            )),
        )
        .await
        .expect(200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"5\""));
}

#[actix_web::test]
async fn if_none_match_compares_entity_tags_as_strings_so_04_is_not_version_4() {
    let app = spawn_app().await;
    let path = organization_at_version_4(&app).await;
    let reply = send_with(&app, Method::GET, &path, ("If-None-Match", "\"04\""), None).await;
    assert_eq!(reply.expect(200).json()["description"], "three");
    let reply = send_with(&app, Method::GET, &path, ("If-None-Match", "W/\"4\""), None).await;
    assert_eq!(reply.status, 304);
}

#[actix_web::test]
async fn if_match_star_upserts_only_replace_existing_records_and_never_create() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Zhou Haiying").await;
    let bodies = [
        ("people", json!({"name": "Jiang Daorong"})),
        (
            "organizations",
            json!({"name": "Bilibili", "kind": "enterprise"}),
        ),
        (
            "roles",
            json!({"organization_id": id(&alliance), "person_id": id(&person), "title": "Convenor"}),
        ),
        (
            "events",
            json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}),
        ),
    ];
    for (resource, body) in bodies {
        let path = format!("/v1/{resource}/by-identifier?scheme=district-sync&value=new-1");
        let star = send_with(&app, Method::PUT, &path, ("If-Match", "*"), Some(&body)).await;
        let problem = star.problem(412);
        assert_eq!(
            problem["type"], "/problems/precondition-failed",
            "{resource}"
        );

        // Nothing was created: a plain upsert still creates (201), ...
        let created = app.put(&path, &body).await.expect(201).json();
        // ... and `*` now replaces the record that exists.
        let replaced = send_with(&app, Method::PUT, &path, ("If-Match", "*"), Some(&body))
            .await
            .expect(200)
            .json();
        assert_eq!(replaced["id"], created["id"], "{resource}");
    }
}

/// The alliance, Bilibili (a member unit) and their membership from
/// 2023-05-23.
async fn alliance_with_member(app: &TestApp) -> (Value, Value, Value) {
    let alliance = app
        .organization("Yangpu Party-Building Alliance", "alliance", None)
        .await;
    let bilibili = app.organization("Bilibili", "enterprise", None).await;
    let membership = app
        .role(
            json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
            "title": "Member unit", "start_date": "2023-05-23"}),
        )
        .await;
    (alliance, bilibili, membership)
}

#[actix_web::test]
async fn a_member_cannot_hold_the_same_title_twice_over_overlapping_periods() {
    let app = spawn_app().await;
    let (alliance, bilibili, membership) = alliance_with_member(&app).await;
    for (start, end) in [
        (Some("2023-05-23"), None),
        (Some("2024-01-01"), Some("2024-12-31")),
        (None, Some("2023-05-23")),
        (None, None),
    ] {
        let problem = app
            .post(
                "/v1/roles",
                &json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
                "title": "Member unit", "start_date": start, "end_date": end}),
            )
            .await
            .problem(409);
        assert_eq!(
            problem["conflicts"],
            json!([{"entity_type": "role", "id": membership["id"],
                "name": "Member unit of Yangpu Party-Building Alliance"}]),
            "{start:?}..{end:?}"
        );
    }

    // People too; open ends overlap everything.
    let person = app.person("Zhou Haiying").await;
    let convenor = app
        .role(
            json!({"organization_id": id(&alliance), "person_id": id(&person), "title": "Convenor",
            "end_date": "2019-12-31"}),
        )
        .await;
    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": id(&alliance), "person_id": id(&person),
            "title": "Convenor", "start_date": "2019-12-31"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], convenor["id"]);

    // Upserts create through the same check.
    app.put(
        "/v1/roles/by-identifier?scheme=district-sync&value=membership-2",
        &json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
            "title": "Member unit"}),
    )
    .await
    .problem(409);
    let members = app
        .get(&format!("/v1/roles?organization_id={}", id(&alliance)))
        .await
        .expect(200)
        .json();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn successive_terms_other_titles_other_members_and_deleted_roles_are_not_duplicates() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Zhou Haiying").await;
    let other = app.person("Xu Jian").await;
    let role = |person: &Value, title: &str, start: &str, end: &str| {
        json!({"organization_id": id(&alliance), "person_id": id(person), "title": title,
            "start_date": start, "end_date": end})
    };
    app.role(role(&person, "Convenor", "2018-01-01", "2019-12-31"))
        .await;
    app.role(role(&person, "Convenor", "2020-01-01", "2021-12-31"))
        .await;
    app.role(role(&person, "Deputy Convenor", "2020-01-01", "2021-12-31"))
        .await;
    app.role(role(&other, "Convenor", "2020-01-01", "2021-12-31"))
        .await;
    let mistake = app
        .role(role(&person, "Secretary", "2020-01-01", "2021-12-31"))
        .await;
    app.delete(&format!("/v1/roles/{}", id(&mistake)))
        .await
        .expect(204);
    app.role(role(&person, "Secretary", "2020-01-01", "2021-12-31"))
        .await;
}

#[actix_web::test]
async fn updates_may_not_make_a_role_overlap_another_but_a_role_never_conflicts_with_itself() {
    let app = spawn_app().await;
    let (alliance, bilibili, membership) = alliance_with_member(&app).await;
    let path = format!("/v1/roles/{}", id(&membership));
    let body = json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
        "title": "Member unit", "start_date": "2023-05-23"});
    // Itself, unchanged or with other dates and a note.
    let same = app.put(&path, &body).await.expect(200);
    assert_eq!(same.header("etag").as_deref(), Some("\"1\""));
    app.patch(
        &path,
        &json!({"start_date": "2023-01-01", "note": "First batch"}),
    )
    .await
    .expect(200);

    let earlier = app
        .role(
            json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
            "title": "Member unit", "start_date": "2020-01-01", "end_date": "2022-12-31"}),
        )
        .await;
    let earlier_path = format!("/v1/roles/{}", id(&earlier));
    let problem = app
        .patch(&earlier_path, &json!({"end_date": "2023-01-01"}))
        .await
        .problem(409);
    assert_eq!(
        problem["conflicts"],
        json!([{"entity_type": "role", "id": membership["id"],
            "name": "Member unit of Yangpu Party-Building Alliance"}])
    );
    let problem = app
        .patch(&path, &json!({"start_date": "2022-12-31"}))
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], earlier["id"]);
    // Renaming one of them lifts the conflict.
    app.patch(
        &earlier_path,
        &json!({"end_date": "2023-06-30", "title": "Observer"}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn concurrent_duplicate_memberships_create_one_role() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let bilibili = app.organization("Bilibili", "enterprise", None).await;
    let body = json!({"organization_id": id(&alliance), "member_organization_id": id(&bilibili),
        "title": "Member unit", "start_date": "2023-05-23"});
    let replies =
        futures_util::future::join_all((0..6).map(|_| app.post("/v1/roles", &body))).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
}
