//! The trust boundary: authorization follows the route the router matched
//! whatever spelling a client or proxy sends, keys hand on only what they
//! hold, and nothing a client sends can stop the change feed.

use crate::access::{call, grants, operations};
use crate::helpers::{id, mint_key, spawn_app, Reply};
use alliance_registry::api::ROUTES;
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

/// Other spellings of `path` that a client or proxy may send: a letter or
/// `-` percent-encoded (either case), doubled and trailing slashes, dot
/// segments, case changes.
fn spellings(path: &str) -> Vec<String> {
    let rest = path.strip_prefix("/v1/").unwrap();
    let (first, tail) = rest.split_at(1);
    let first_byte = first.as_bytes()[0];
    let mut variants = vec![
        format!("/v1/%{first_byte:02X}{tail}"),
        format!("/v1/%{first_byte:02x}{tail}"),
        format!("/%76%31/{rest}"),
        format!("/v1//{rest}"),
        format!("//v1/{rest}"),
        format!("{path}/"),
        format!("/v1/./{rest}"),
        format!("/v1/x/../{rest}"),
        format!("/v1/{rest}/."),
        format!("/V1/{rest}"),
        format!("/v1/{}", rest.to_uppercase()),
        format!("/v1/{first}{}", tail.replacen('s', "%73", 1)),
    ];
    if rest.contains('-') {
        variants.push(format!("/v1/{}", rest.replacen('-', "%2D", 1)));
        variants.push(format!("/v1/{}", rest.replacen('-', "%2d", 1)));
    }
    if let Some(slash) = rest.find('/') {
        variants.push(format!("/v1/{}%2F{}", &rest[..slash], &rest[slash + 1..]));
    }
    variants
}

#[actix_web::test]
async fn no_spelling_of_a_path_gets_more_access_than_the_plain_path() {
    let app = spawn_app().await;
    let scoped: Vec<(Scope, String)> = [Scope::Read, Scope::Write, Scope::Pii, Scope::Admin]
        .into_iter()
        .map(|scope| (scope, mint_key(&app.db, scope.as_str(), &[scope], None).1))
        .collect();
    for (method, path, needed) in operations() {
        for (scope, token) in &scoped {
            let bearer = format!("Bearer {token}");
            let allowed = grants(*scope, needed);
            for spelled in spellings(&path) {
                let reply = call(&app, &method, &spelled, Some(&bearer)).await;
                let same_decision = if allowed {
                    ![401, 403].contains(&reply.status)
                } else {
                    reply.status == 403
                };
                // 404/405: the spelling names no route (or another one
                // without this method): refused, nothing served.
                assert!(
                    [404, 405].contains(&reply.status) || same_decision,
                    "{method} {spelled} with {scope}: {} (plain path needs {needed})",
                    reply.status
                );
            }
        }
    }
}

#[actix_web::test]
async fn the_reported_encoded_admin_paths_are_refused_to_other_keys() {
    let app = spawn_app().await;
    let (admin_id, _) = mint_key(&app.db, "admin", &[Scope::Admin], None);
    for scopes in [
        &[Scope::Read][..],
        &[Scope::Write],
        &[Scope::Read, Scope::Write, Scope::Pii],
    ] {
        let token = mint_key(&app.db, "other", scopes, None).1;
        let bearer = format!("Bearer {token}");
        for path in ["/v1/%61pi-keys", "/v1/api%2Dkeys", "/v1/%61udit"] {
            call(&app, &Method::GET, path, Some(&bearer))
                .await
                .problem(403);
        }
        let created = app
            .send(
                app.request_as(Method::POST, "/v1/%61pi-keys", Some(&token)),
                Some((
                    "application/json",
                    br#"{"name":"x","scopes":["admin","pii"]}"#.to_vec(),
                )),
            )
            .await;
        created.problem(403);
        call(
            &app,
            &Method::DELETE,
            &format!("/v1/%61pi-keys/{admin_id}"),
            Some(&bearer),
        )
        .await
        .problem(403);
    }
    // The admin key is still usable: nobody revoked it.
    let keys = app.get("/v1/api-keys").await.expect(200).json();
    let admin = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == admin_id.to_string())
        .unwrap();
    assert_eq!(admin["revoked_at"], Value::Null);
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let doc: Value = serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/v1/") {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut routed: Vec<(String, String)> = ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
}

#[actix_web::test]
async fn every_path_serves_exactly_the_documented_methods() {
    let app = spawn_app().await;
    let doc: Value = serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 35);
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{participant_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{scheme}", "test-scheme")
            .replace("{value}", "v")
            .replace("{resource}", "people");
        let mut documented: Vec<String> = Vec::new();
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.push(method.to_uppercase());
                if method == "get" {
                    documented.push("HEAD".to_owned());
                }
            }
        }
        // The router answers a method no route serves with the path's Allow
        // list: exactly the documented methods.
        let reply = app
            .send(app.request(Method::OPTIONS, &concrete), None)
            .await;
        assert_eq!(reply.status, 405, "OPTIONS {path}");
        assert_eq!(
            reply.header("allow").unwrap_or_default(),
            documented.join(", "),
            "{path}"
        );
        // And every documented method reaches a handler (or its
        // authentication check) instead of the fallbacks.
        for method in &documented {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let reply = app
                .send(app.request_as(method.clone(), &concrete, None), None)
                .await;
            assert!(
                ![404, 405].contains(&reply.status),
                "{method} {path} answered {}",
                reply.status
            );
        }
    }
}

#[actix_web::test]
async fn a_write_key_reads_and_head_answers_like_get() {
    let app = spawn_app().await;
    let person = app.person("Zhou Haiying").await;
    let writer = mint_key(&app.db, "writer", &[Scope::Write], None).1;
    let path = format!("/v1/people/{}", id(&person));
    let got = app
        .send(app.request_as(Method::GET, &path, Some(&writer)), None)
        .await
        .expect(200);
    let head = app
        .send(app.request_as(Method::HEAD, &path, Some(&writer)), None)
        .await
        .expect(200);
    assert_eq!(head.header("etag"), got.header("etag"));
    assert!(head.body.is_empty());
    app.send(app.request_as(Method::HEAD, "/v1/people", None), None)
        .await
        .expect(401);
    let reply: Reply = app
        .send(app.request_as(Method::OPTIONS, &path, Some(&writer)), None)
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(
        reply.header("allow").as_deref(),
        Some("GET, HEAD, PUT, PATCH, DELETE")
    );
}

#[actix_web::test]
async fn a_key_can_only_grant_scopes_it_holds() {
    let app = spawn_app().await;
    let admin = mint_key(&app.db, "admin", &[Scope::Admin, Scope::Write], None).1;
    let mint = |scopes: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.send(
                app.request_as(Method::POST, "/v1/api-keys", Some(&admin)),
                Some((
                    "application/json",
                    json!({"name": "minted", "scopes": scopes})
                        .to_string()
                        .into_bytes(),
                )),
            )
            .await
        }
    };
    let problem = mint(json!(["read", "pii"])).await.problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("pii"));
    // write implies read, so a write key may hand on read.
    mint(json!(["read", "write"])).await.expect(201);
    mint(json!(["admin"])).await.expect(201);
}

#[actix_web::test]
async fn days_and_instants_outside_years_1_to_9999_are_refused_and_the_feed_keeps_working() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let person = app.person("Xu Shujie").await;
    let cases = [
        (
            "/v1/events",
            json!({"title": "x", "starts_at": "9999-12-31T23:59:59-14:00"}),
            "starts_at",
        ),
        (
            "/v1/events",
            json!({"title": "x", "starts_at": "0001-01-01T00:00:00+14:00"}),
            "starts_at",
        ),
        (
            "/v1/events",
            json!({"title": "x", "starts_at": "2023-05-23T10:00:00Z", "ends_at": "2016-12-31T23:59:60Z"}),
            "ends_at",
        ),
        (
            "/v1/people",
            json!({"name": "x", "birth_date": "+10000-01-01"}),
            "birth_date",
        ),
        (
            "/v1/people",
            json!({"name": "x", "birth_date": "-4714-11-23"}),
            "birth_date",
        ),
        (
            "/v1/organizations",
            json!({"name": "x", "kind": "other", "founding_date": "0000-01-01"}),
            "founding_date",
        ),
        (
            "/v1/roles",
            json!({"organization_id": id(&alliance), "person_id": id(&person), "title": "x", "start_date": "0000-01-01"}),
            "start_date",
        ),
        (
            "/v1/api-keys",
            json!({"name": "x", "scopes": ["read"], "expires_at": "+10000-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ];
    for (path, body, field) in cases {
        let problem = app.post(path, &body).await.problem(422);
        assert_eq!(Reply::fields(&problem), [field], "{path} {body}");
    }
    for query in [
        "/v1/people?updated_since=-262143-01-01T00:00:00Z",
        "/v1/events?from=%2B10000-01-01T00:00:00Z",
        "/v1/roles?active_on=0000-01-01",
        "/v1/audit?to=9999-12-31T23:59:59-14:00",
    ] {
        app.get(query).await.problem(400);
    }
    let feed = app.get("/v1/changes").await.expect(200).json();
    assert_eq!(feed["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_journal_row_the_feed_cannot_render_is_delivered_without_data_and_passed() {
    let app = spawn_app().await;
    let before = app.organization("Before", "other", None).await;
    // What an older release let in: an instant of year 10000 in UTC.
    let poisoned = uuid::Uuid::now_v7();
    diesel::sql_query(format!(
        "INSERT INTO journal (entity_type, entity_id, op, version, changed, after) \
         VALUES ('event', '{poisoned}', 'created', 1, '{{title,starts_at}}', \
                 '{{\"id\": \"{poisoned}\", \"title\": \"x\", \"starts_at\": \"10000-01-01T13:59:59+00:00\"}}')"
    ))
    .execute(&mut app.db.connect())
    .unwrap();
    let after = app.organization("After", "other", None).await;

    let mut cursor = String::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let page = app
            .get(&format!("/v1/changes?limit=1&cursor={cursor}"))
            .await
            .expect(200)
            .json();
        let entry = &page["items"][0];
        seen.push(entry.clone());
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(seen[0]["entity_id"], id(&before));
    assert_eq!(seen[1]["entity_id"], poisoned.to_string());
    assert_eq!(seen[1]["entity_type"], "event");
    assert_eq!(seen[1]["version"], 1);
    assert_eq!(seen[1]["data"], Value::Null);
    assert!(seen[1]["problem"]
        .as_str()
        .unwrap()
        .contains("cannot be rendered"));
    assert_eq!(seen[2]["entity_id"], id(&after));
    assert!(seen[2].get("problem").is_none());
}

#[test]
fn every_text_pattern_in_the_document_is_one_the_validator_enforces() {
    use alliance_registry::domain::{
        blank_or_name_pattern, reference_pattern, EMAIL_PATTERN, IDENTIFIER_PATTERN, NAME_PATTERN,
        TEXT_PATTERN,
    };
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("pattern", Value::String(p)) if p.contains(r"\x00") => {
                            found.push(p.clone())
                        }
                        _ => walk(child, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let doc: Value = serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let mut found = Vec::new();
    walk(&doc, &mut found);
    assert!(found.len() > 30, "{} text patterns", found.len());
    let known = [
        NAME_PATTERN.to_owned(),
        TEXT_PATTERN.to_owned(),
        IDENTIFIER_PATTERN.to_owned(),
        EMAIL_PATTERN.to_owned(),
        reference_pattern(),
        blank_or_name_pattern(),
    ];
    for pattern in found {
        assert!(known.contains(&pattern), "{pattern}");
    }
}

#[actix_web::test]
async fn control_characters_in_names_references_and_filters_are_client_errors() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    for name in [
        "\u{200B}\u{200B}",
        "Bili\u{202E}bili",
        "a\u{0}b",
        "\u{1B}[2J",
        "\u{FEFF}",
    ] {
        let problem = app
            .post("/v1/organizations", &json!({"name": name, "kind": "other"}))
            .await
            .problem(422);
        assert_eq!(Reply::fields(&problem), ["name"], "{name:?}");
    }
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "x", "biography": "bell\u{7}", "other_names": [{"name": "\u{200C}"}]}),
        )
        .await
        .problem(422);
    assert_eq!(
        Reply::fields(&problem),
        ["other_names[0].name", "biography"]
    );
    let problem = app
        .post(
            "/v1/roles",
            &json!({"organization_id": "yp:A1\u{0}", "member_organization_id": id(&alliance), "title": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["organization_id"]);
    for list in ["organizations", "people", "roles", "events"] {
        app.get(&format!("/v1/{list}?identifier=yp:P1%00"))
            .await
            .problem(400);
    }
    app.get("/v1/people?q=a%00b").await.problem(400);
    // Multi-line free text stays allowed.
    app.post(
        "/v1/people",
        &json!({"name": "Xu Shujie", "biography": "Line one.\nLine two.\tTabbed."}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn bodies_must_be_objects_without_duplicate_keys() {
    let app = spawn_app().await;
    let org = app.organization("Bilibili", "enterprise", None).await;
    let path = format!("/v1/organizations/{}", id(&org));
    for (method, target) in [
        (Method::POST, "/v1/organizations"),
        (Method::PUT, path.as_str()),
    ] {
        let problem = app
            .send_json(method.clone(), target, &json!(["x", "other"]))
            .await
            .problem(422);
        assert_eq!(Reply::fields(&problem), ["body"], "{method} {target}");
    }
    let duplicate = br#"{"name": "A", "kind": "other", "name": "B"}"#.to_vec();
    let reply = app
        .send(
            app.request(Method::POST, "/v1/organizations"),
            Some(("application/json", duplicate)),
        )
        .await;
    assert_eq!(Reply::fields(&reply.problem(422)), ["name"]);
    let reply = app
        .send(
            app.request(Method::PATCH, &path),
            Some((
                "application/merge-patch+json",
                br#"{"description": "a", "description": "b"}"#.to_vec(),
            )),
        )
        .await;
    assert_eq!(Reply::fields(&reply.problem(422)), ["description"]);
    let nested = br#"{"name": "A", "kind": "other", "other_names": [{"name": "x", "name": "y"}]}"#;
    let reply = app
        .send(
            app.request(Method::POST, "/v1/organizations"),
            Some(("application/json", nested.to_vec())),
        )
        .await;
    assert_eq!(Reply::fields(&reply.problem(422)), ["other_names[0].name"]);
    let list = app.get("/v1/organizations").await.expect(200).json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing written"
    );
}

#[actix_web::test]
async fn every_field_that_fails_to_deserialize_is_reported_in_one_problem() {
    let app = spawn_app().await;
    let problem = app
        .post(
            "/v1/organizations",
            &json!({"name": "A", "kind": 1, "founding_date": "2023-13-01", "parent_id": 7, "contact_details": [{"type": "phone", "value": 5}]}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "contact_details[0].value",
            "founding_date",
            "kind",
            "parent_id"
        ]
    );
    let kind = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "kind")
        .unwrap();
    assert!(!kind["message"].as_str().unwrap().contains("malformed"));
    let problem = app
        .post(
            "/v1/events",
            &json!({"title": 5, "kind": "picnic", "starts_at": "soon"}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["kind", "starts_at", "title"]);
    // Every missing required field, and the rules of the fields that did
    // parse, in the same problem.
    let cases = [
        ("/v1/organizations", json!({}), vec!["kind", "name"]),
        (
            "/v1/organizations",
            json!({"name": "", "kind": "other", "founding_date": "bad"}),
            vec!["founding_date", "name"],
        ),
        (
            "/v1/events",
            json!({"title": "", "kind": "x", "starts_at": "2023-01-01T00:00:00Z"}),
            vec!["kind", "title"],
        ),
        (
            "/v1/organizations",
            json!({"name": "", "kind": "nope", "other_names": [{"name": "x", "lang": "!!"}], "sources": [{"url": "ftp://x"}]}),
            vec!["kind", "name", "other_names[0].lang", "sources[0].url"],
        ),
    ];
    for (path, body, expected) in cases {
        let problem = app.post(path, &body).await.problem(422);
        let mut fields = Reply::fields(&problem);
        fields.sort();
        assert_eq!(fields, expected, "{body}");
    }
    let org = app.organization("Bilibili", "enterprise", None).await;
    let problem = app
        .patch(
            &format!("/v1/organizations/{}", id(&org)),
            &json!({"name": " ", "kind": 7, "founding_date": "2023-02-30"}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["founding_date", "kind", "name"]);
}

#[actix_web::test]
async fn a_repeated_query_parameter_is_named() {
    let app = spawn_app().await;
    let problem = app.get("/v1/people?limit=1&limit=2").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["limit"]);
}

#[actix_web::test]
async fn changes_of_personal_data_alone_are_invisible_without_pii() {
    let app = spawn_app().await;
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "Yu Yang", "email": "yu.yang@example.gov.cn", "birth_date": "1975-05-05"}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/v1/people/{}", id(&person));
    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let writer = mint_key(&app.db, "writer", &[Scope::Write], None).1;
    let auditor = mint_key(&app.db, "auditor", &[Scope::Admin, Scope::Read], None).1;
    let get_as = |token: String, path: String| {
        let app = &app;
        async move {
            app.send(app.request_as(Method::GET, &path, Some(&token)), None)
                .await
                .expect(200)
        }
    };
    let seen = get_as(reader.clone(), path.clone()).await;
    let (etag, seen) = (seen.header("etag").unwrap(), seen.json());
    let feed = |token: String| {
        let get = get_as(token, "/v1/changes?types=person".into());
        async move { get.await.json()["items"].as_array().unwrap().len() }
    };
    let audit = |token: String| {
        let get = get_as(token, format!("/v1/audit?entity_id={}", id(&person)));
        async move { get.await.json()["items"].as_array().unwrap().len() }
    };
    let (feed_before, audit_before) = (feed(reader.clone()).await, audit(auditor.clone()).await);
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);

    // Each personal field changed alone.
    app.patch(&path, &json!({"email": "new@example.gov.cn"}))
        .await
        .expect(200);
    app.patch(&path, &json!({"phone": "+86 21 0000 0002"}))
        .await
        .expect(200);
    app.patch(&path, &json!({"birth_date": "1975-06-06"}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&path).await.json()["version"],
        4,
        "pii sees every change"
    );

    let again = get_as(reader.clone(), path.clone()).await;
    assert_eq!(again.header("etag").unwrap(), etag);
    assert_eq!(again.json(), seen);
    let fresh = app
        .send(
            app.request_as(Method::GET, &path, Some(&reader))
                .insert_header(("If-None-Match", etag.as_str())),
            None,
        )
        .await;
    assert_eq!(fresh.status, 304);
    assert_eq!(feed(reader.clone()).await, feed_before);
    assert_eq!(audit(auditor.clone()).await, audit_before);
    assert_eq!(feed(app.token.clone()).await, feed_before + 3);
    assert_eq!(audit(app.token.clone()).await, audit_before + 3);
    let changed = get_as(
        reader.clone(),
        format!("/v1/people?updated_since={}", since.replace('+', "%2B")),
    )
    .await
    .json();
    assert_eq!(changed["items"].as_array().unwrap().len(), 0);

    // A key without pii writes against the versions it sees.
    let patch_as = |token: String, if_match: String, body: Value| {
        let app = &app;
        let path = path.clone();
        async move {
            app.send(
                app.request_as(Method::PATCH, &path, Some(&token))
                    .insert_header(("If-Match", if_match)),
                Some((
                    "application/merge-patch+json",
                    body.to_string().into_bytes(),
                )),
            )
            .await
        }
    };
    let stale = patch_as(writer.clone(), "\"4\"".into(), json!({"gender": "male"})).await;
    assert_eq!(stale.header("etag").as_deref(), Some("\"1\""));
    stale.problem(412);
    let patched = patch_as(writer.clone(), etag.clone(), json!({"gender": "male"}))
        .await
        .expect(200);
    assert_eq!(patched.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(patched.json()["version"], 2);
    let changes = get_as(reader.clone(), "/v1/changes?types=person".into())
        .await
        .json();
    let last = changes["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["op"].as_str(), last["version"].as_i64()),
        (Some("updated"), Some(2))
    );
    let deleted = app
        .send(
            app.request_as(Method::DELETE, &path, Some(&writer))
                .insert_header(("If-Match", "\"2\"")),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let changes = get_as(reader, "/v1/changes?types=person".into())
        .await
        .json();
    let last = changes["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["op"].as_str(), last["version"].as_i64()),
        (Some("deleted"), Some(3))
    );
}

#[actix_web::test]
async fn sending_the_same_instant_again_changes_nothing_whatever_its_precision() {
    let app = spawn_app().await;
    let body = json!({"title": "Nano", "kind": "other", "status": "held", "starts_at": "2023-05-23T09:00:00.1234567Z"});
    let path = "/v1/events/by-identifier?scheme=nano&value=1";
    let created = app.put(path, &body).await.expect(201).json();
    assert_eq!(created["starts_at"], "2023-05-23T09:00:00.123456Z");
    for _ in 0..2 {
        let again = app.put(path, &body).await.expect(200).json();
        assert_eq!(again["version"], 1);
    }
    let feed = app.get("/v1/changes?types=event").await.expect(200).json();
    assert_eq!(feed["items"].as_array().unwrap().len(), 1);
    let long = json!({"title": "x", "starts_at": "2023-05-23T09:00:00.1234567890Z"});
    assert_eq!(
        Reply::fields(&app.post("/v1/events", &long).await.problem(422)),
        ["starts_at"]
    );
}

#[actix_web::test]
async fn bytes_that_are_not_utf8_in_a_path_or_query_are_refused_not_replaced() {
    let app = spawn_app().await;
    let body = json!({"name": "bi", "kind": "other"});
    for path in ["/v1/organizations/s:%FF", "/v1/organizations/s:%C0%80"] {
        assert_eq!(
            Reply::fields(&app.put(path, &body).await.problem(400)),
            ["path"]
        );
    }
    let problem = app
        .get("/v1/organizations?identifier=s:%FE")
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["query"]);
    let upsert = "/v1/organizations/by-identifier?scheme=s&value=%FF";
    let problem = app.put(upsert, &body).await.problem(400);
    assert_eq!(Reply::fields(&problem), ["query"]);
    app.get("/v1/organizations?q=%E6%9D%A8").await.expect(200);
}

#[actix_web::test]
async fn a_cursor_only_continues_the_listing_it_came_from() {
    let app = spawn_app().await;
    for name in ["A", "B"] {
        app.person(name).await;
        app.organization(name, "other", None).await;
    }
    let page = app.get("/v1/people?limit=1").await.expect(200).json();
    let cursor = page["next_cursor"].as_str().unwrap();
    app.get(&format!("/v1/people?limit=1&cursor={cursor}"))
        .await
        .expect(200);
    let problem = app
        .get(&format!("/v1/organizations?limit=1&cursor={cursor}"))
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["cursor"]);
    app.get(&format!("/v1/changes?cursor={cursor}"))
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_write_waiting_on_a_row_lock_past_the_timeout_is_a_503() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.statement_timeout = std::time::Duration::from_millis(300)
    })
    .await;
    let org = app.organization("Bilibili", "enterprise", None).await;
    // Another session holds the record's row lock.
    let mut holder = app.db.connect();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Uuid, _>(id(&org).parse::<uuid::Uuid>().unwrap())
        .execute(&mut holder)
        .unwrap();
    let started = std::time::Instant::now();
    let reply = app
        .patch(
            &format!("/v1/organizations/{}", id(&org)),
            &json!({"description": "x"}),
        )
        .await;
    let waited = started.elapsed();
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    assert!(reply.header("retry-after").is_some());
    reply.problem(503);
    assert!(waited < std::time::Duration::from_secs(3));
    let stored = app
        .get(&format!("/v1/organizations/{}", id(&org)))
        .await
        .json();
    assert_eq!(stored["description"], Value::Null, "nothing half-written");
    assert_eq!(stored["version"], 1);
}

#[actix_web::test]
async fn names_of_blank_or_formatting_characters_or_line_separators_are_refused() {
    let app = spawn_app().await;
    for name in ["\u{2800}", "\u{FFFB}", "\u{FFFE}", "\u{0600}", "a\u{2028}b"] {
        let problem = app
            .post("/v1/organizations", &json!({"name": name, "kind": "other"}))
            .await
            .problem(422);
        assert_eq!(Reply::fields(&problem), ["name"], "{name:?}");
    }
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "x", "email": "aa\u{202E}b@b.com"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["email"]);
}

#[actix_web::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let request = app
        .request_as(Method::GET, "/v1/people", Some(&reader))
        .append_header(("Authorization", format!("Bearer {}", app.token)));
    app.send(request, None).await.problem(401);
}
