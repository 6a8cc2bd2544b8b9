//! Access control: the scope matrix over every documented route, personal
//! data, key revocation across instances, CORS, rate limits, hardening.

use crate::helpers::{id, mint_key, spawn_app, spawn_app_with, test_settings, Reply, TestApp};
use alliance_registry::api::openapi_json;
use alliance_registry::app::Application;
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use serde_json::{json, Value};

/// Every documented operation under /v1, with ids filled in, and the
/// scope its `security` requirement names.
pub fn operations() -> Vec<(Method, String, Scope)> {
    let doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{participant_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{scheme}", "test-scheme")
            .replace("{value}", "a%2Fb");
        for (method, operation) in item.as_object().unwrap() {
            let scope = operation["security"][0]["bearer"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no scope"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            operations.push((method, concrete.clone(), scope.parse().unwrap()));
        }
    }
    operations
}

/// Whether a key holding only `held` may do what needs `needed`.
pub fn grants(held: Scope, needed: Scope) -> bool {
    held == needed || (held == Scope::Write && needed == Scope::Read)
}

pub async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
) -> Reply {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(value) = authorization {
        request = request.insert_header(("Authorization", value));
    }
    let body = match *method {
        Method::POST | Method::PUT => Some(("application/json", b"{}".to_vec())),
        Method::PATCH => Some(("application/merge-patch+json", b"{}".to_vec())),
        _ => None,
    };
    app.send(request, body).await
}

#[actix_web::test]
async fn every_route_answers_the_documented_status_for_every_kind_of_token() {
    let app = spawn_app().await;
    let conn = &app.db;
    let (revoked_id, revoked) = mint_key(
        conn,
        "revoked",
        &[Scope::Read, Scope::Write, Scope::Admin],
        None,
    );
    let expired = mint_key(
        conn,
        "expired",
        &[Scope::Read, Scope::Write, Scope::Admin],
        Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
    )
    .1;
    app.delete(&format!("/v1/api-keys/{revoked_id}"))
        .await
        .expect(204);
    let scoped: Vec<(Scope, String)> = [Scope::Read, Scope::Write, Scope::Pii, Scope::Admin]
        .into_iter()
        .map(|scope| (scope, mint_key(conn, scope.as_str(), &[scope], None).1))
        .collect();

    let operations = operations();
    assert!(operations.len() >= 35, "{} operations", operations.len());
    for (method, path, needed) in &operations {
        let reply = call(&app, method, path, None).await;
        assert_eq!(
            reply.header("www-authenticate").as_deref(),
            Some(r#"Bearer realm="alliance-registry""#),
            "{method} {path}"
        );
        reply.problem(401);
        call(&app, method, path, Some("Basic dXNlcjpwYXNz"))
            .await
            .problem(401);
        for bad in [
            "ar_000000000000_nope",
            "not-a-token",
            revoked.as_str(),
            expired.as_str(),
        ] {
            let reply = call(&app, method, path, Some(&format!("Bearer {bad}"))).await;
            assert!(reply
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token"));
            reply.problem(401);
        }
        for (scope, token) in &scoped {
            let reply = call(&app, method, path, Some(&format!("Bearer {token}"))).await;
            if grants(*scope, *needed) {
                assert!(
                    ![401, 403].contains(&reply.status),
                    "{method} {path} with {scope}: {}",
                    reply.status
                );
            } else {
                let problem = reply.problem(403);
                assert!(problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains(needed.as_str()));
            }
        }
    }
    // Probes and documentation need no key.
    for path in ["/health/live", "/health/ready", "/openapi.json", "/docs/"] {
        app.send(app.request_as(Method::GET, path, None), None)
            .await
            .expect(200);
    }
}

async fn person_with_personal_data(app: &TestApp) -> Value {
    app.post(
        "/v1/people",
        &json!({"name": "Yu Yang", "email": "yu.yang@example.gov.cn", "phone": "+86 21 0000 0001", "birth_date": "1975-05-05"}),
    )
    .await
    .expect(201)
    .json()
}

#[actix_web::test]
async fn personal_data_needs_the_pii_scope_in_every_representation() {
    let app = spawn_app().await;
    let person = person_with_personal_data(&app).await;
    assert_eq!(person["email"], "yu.yang@example.gov.cn");
    let government = app
        .organization(
            "Yangpu District People's Government",
            "government_department",
            None,
        )
        .await;
    app.role(json!({"organization_id": id(&government), "person_id": id(&person), "title": "Deputy District Chief"})).await;
    let pathless = app.person("No Data").await;

    let reader = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let pii_reader = mint_key(&app.db, "pii reader", &[Scope::Read, Scope::Pii], None).1;
    let get = |path: String, token: String| {
        let app = &app;
        async move {
            app.send(app.request_as(Method::GET, &path, Some(&token)), None)
                .await
                .expect(200)
                .json()
        }
    };
    let single = get(format!("/v1/people/{}", id(&person)), reader.clone()).await;
    let list = get("/v1/people".into(), reader.clone()).await;
    let members = get(
        format!("/v1/organizations/{}/members", id(&government)),
        reader.clone(),
    )
    .await;
    for shown in [
        &single,
        &list["items"][0],
        &list["items"][1],
        &members["items"][0]["person"],
    ] {
        for field in ["email", "phone", "birth_date"] {
            assert!(shown.get(field).is_none(), "{field} leaked: {shown}");
        }
        assert!(shown["name"].is_string());
    }
    let single = get(format!("/v1/people/{}", id(&person)), pii_reader.clone()).await;
    assert_eq!(single["phone"], "+86 21 0000 0001");
    assert_eq!(single["birth_date"], "1975-05-05");
    let members = get(
        format!("/v1/organizations/{}/members", id(&government)),
        pii_reader.clone(),
    )
    .await;
    assert_eq!(
        members["items"][0]["person"]["email"],
        "yu.yang@example.gov.cn"
    );
    let empty = get(format!("/v1/people/{}", id(&pathless)), pii_reader).await;
    assert_eq!(
        empty["email"],
        Value::Null,
        "shown as null, not left out, with pii"
    );
}

#[actix_web::test]
async fn writing_personal_data_needs_the_pii_scope_and_put_keeps_it() {
    let app = spawn_app().await;
    let person = person_with_personal_data(&app).await;
    let writer = mint_key(&app.db, "writer", &[Scope::Read, Scope::Write], None).1;
    let path = format!("/v1/people/{}", id(&person));
    let json_body = |value: Value| Some(("application/json", value.to_string().into_bytes()));

    let create = app.request_as(Method::POST, "/v1/people", Some(&writer));
    app.send(
        create,
        json_body(json!({"name": "X", "email": "x@example.org"})),
    )
    .await
    .problem(403);
    for patch in [json!({"email": "new@example.org"}), json!({"phone": null})] {
        let request = app.request_as(Method::PATCH, &path, Some(&writer));
        app.send(
            request,
            Some((
                "application/merge-patch+json",
                patch.to_string().into_bytes(),
            )),
        )
        .await
        .problem(403);
    }
    // A PUT that cannot see the personal data leaves it as it was.
    let request = app.request_as(Method::PUT, &path, Some(&writer));
    let replaced = app
        .send(
            request,
            json_body(json!({"name": "Yu Yang", "biography": "Deputy District Chief"})),
        )
        .await
        .expect(200)
        .json();
    assert!(replaced.get("email").is_none());
    let stored = app.get(&path).await.json();
    assert_eq!(stored["email"], "yu.yang@example.gov.cn");
    assert_eq!(stored["birth_date"], "1975-05-05");
    assert_eq!(stored["biography"], "Deputy District Chief");
    // Other fields are patched as usual.
    let request = app.request_as(Method::PATCH, &path, Some(&writer));
    app.send(
        request,
        Some((
            "application/merge-patch+json",
            br#"{"gender": "male"}"#.to_vec(),
        )),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn every_write_is_audited_with_its_key_and_field_changes() {
    let app = spawn_app().await;
    let (writer_id, writer) = mint_key(&app.db, "writer", &[Scope::Read, Scope::Write], None);
    let as_writer = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let writer = writer.clone();
        async move {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            app.send(
                app.request_as(method, &path, Some(&writer)),
                body.map(|b| (content_type, b.to_string().into_bytes())),
            )
            .await
        }
    };
    let org = as_writer(
        Method::POST,
        "/v1/organizations".into(),
        Some(json!({"name": "Bilibili", "kind": "enterprise"})),
    )
    .await
    .expect(201)
    .json();
    let path = format!("/v1/organizations/{}", id(&org));
    as_writer(
        Method::PATCH,
        path.clone(),
        Some(json!({"description": "Video platform"})),
    )
    .await
    .expect(200);
    as_writer(
        Method::PATCH,
        path.clone(),
        Some(json!({"description": "Video platform"})),
    )
    .await
    .expect(200); // no-op
                  // Rejected writes leave no trace.
    as_writer(Method::PATCH, path.clone(), Some(json!({"name": ""})))
        .await
        .problem(422);
    let child = app
        .organization("Party Branch of Bilibili", "party_branch", Some(&org))
        .await;
    as_writer(Method::DELETE, path.clone(), None)
        .await
        .problem(409);
    app.delete(&format!("/v1/organizations/{}", id(&child)))
        .await
        .expect(204);
    as_writer(Method::DELETE, path.clone(), None)
        .await
        .expect(204);

    let audit = app
        .get(&format!("/v1/audit?entity_id={}&sort=seq", id(&org)))
        .await
        .expect(200)
        .json();
    let entries = audit["items"].as_array().unwrap();
    let ops: Vec<&str> = entries.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["created", "updated", "deleted"]);
    for entry in entries {
        assert_eq!(entry["key_id"], json!(writer_id));
        assert_eq!(entry["entity_type"], "organization");
    }
    assert_eq!(
        entries[0]["changes"]["name"],
        json!({"before": null, "after": "Bilibili"})
    );
    assert_eq!(
        entries[1]["changes"],
        json!({"description": {"before": null, "after": "Video platform"}})
    );
    assert_eq!(entries[1]["version"], 2);
    assert_eq!(
        entries[2]["changes"]["name"],
        json!({"before": "Bilibili", "after": null})
    );
    assert_eq!(entries[2]["version"], 3);

    let by_key = app
        .get(&format!("/v1/audit?key_id={writer_id}"))
        .await
        .json();
    assert_eq!(
        by_key["items"].as_array().unwrap().len(),
        3,
        "newest first, only this key's changes"
    );
    assert_eq!(by_key["items"][0]["op"], "deleted");
    let people = app.get("/v1/audit?entity_type=person").await.json();
    assert!(people["items"].as_array().unwrap().is_empty());

    // Every resource's writes are journaled, cascades included.
    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T01:30:00Z"}))
        .await;
    let person = app.person("Speaker").await;
    let participant = app
        .participant(
            &seminar,
            json!({"person_id": id(&person), "role": "speaker"}),
        )
        .await;
    app.delete(&format!("/v1/events/{}", id(&seminar)))
        .await
        .expect(204);
    let trail = app
        .get(&format!(
            "/v1/audit?entity_id={}&sort=seq",
            id(&participant)
        ))
        .await
        .json();
    let ops: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["created", "deleted"],
        "deleting the event deleted its participant"
    );
}

#[actix_web::test]
async fn audit_hides_personal_data_from_admins_without_pii() {
    let app = spawn_app().await;
    let person = person_with_personal_data(&app).await;
    let admin = mint_key(&app.db, "auditor", &[Scope::Admin], None).1;
    let path = format!("/v1/audit?entity_id={}", id(&person));
    let entry = app
        .send(app.request_as(Method::GET, &path, Some(&admin)), None)
        .await
        .expect(200)
        .json()["items"][0]
        .clone();
    assert!(entry["changes"].get("email").is_none());
    assert!(entry["changes"].get("birth_date").is_none());
    assert_eq!(entry["changes"]["name"]["after"], "Yu Yang");
    let full = app.get(&path).await.json();
    assert_eq!(
        full["items"][0]["changes"]["email"]["after"],
        "yu.yang@example.gov.cn"
    );
}

#[actix_web::test]
async fn keys_are_managed_through_the_api_and_revocation_reaches_every_instance() {
    let app = spawn_app().await;
    // A second instance on the same database.
    let second = Application::build(&test_settings(&app.db.url)).unwrap();
    let second_address = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.run_until_stopped());

    let reply = app
        .post(
            "/v1/api-keys",
            &json!({"name": "district sync", "scopes": ["read", "write"]}),
        )
        .await
        .expect(201);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let created = reply.json();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("ar_{}_", created["prefix"].as_str().unwrap())));
    assert!(token.len() >= 3 + 12 + 1 + 43, "at least 256 random bits");
    let listed = app.get("/v1/api-keys").await.expect(200).json();
    assert!(
        !listed.to_string().contains(&token),
        "tokens are never shown again"
    );
    assert_eq!(
        app.get(&format!("/v1/api-keys/{}", id(&created)))
            .await
            .json()["name"],
        "district sync"
    );

    let on_second = |token: String| {
        let client = app.client.clone();
        let url = format!("{second_address}/v1/people");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(on_second(token.clone()).await, 200);
    let used = app
        .get(&format!("/v1/api-keys/{}", id(&created)))
        .await
        .json();
    assert!(used["last_used_at"].is_string());

    app.delete(&format!("/v1/api-keys/{}", id(&created)))
        .await
        .expect(204);
    assert_eq!(
        on_second(token.clone()).await,
        401,
        "revoked on the other instance too"
    );
    let revoked = app
        .get(&format!("/v1/api-keys/{}", id(&created)))
        .await
        .json();
    assert!(revoked["revoked_at"].is_string());

    for (body, field) in [
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["root"]}), "scopes[0]"),
        (
            json!({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let problem = app.post("/v1/api-keys", &body).await.problem(422);
        assert_eq!(Reply::fields(&problem), [field], "{body}");
    }
    let request = app
        .request(Method::POST, "/v1/api-keys")
        .insert_header(("Idempotency-Key", "once"));
    let body = json!({"name": "x", "scopes": ["read"]})
        .to_string()
        .into_bytes();
    let problem = app
        .send(request, Some(("application/json", body)))
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["Idempotency-Key"]);
    // Key management is audited, without secrets.
    let audit = app
        .get(&format!("/v1/audit?entity_id={}&sort=seq", id(&created)))
        .await
        .json();
    let ops: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["created", "updated"]);
    assert!(audit["items"][0]["changes"].get("token_hash").is_none());
    assert!(audit["items"][1]["changes"]["revoked_at"]["after"].is_string());
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let app =
        spawn_app_with(|s| s.cors_allowed_origins = vec!["https://portal.example".into()]).await;
    let preflight = |origin: &'static str| {
        app.send(
            app.request_as(Method::OPTIONS, "/v1/people", None)
                .insert_header(("Origin", origin))
                .insert_header(("Access-Control-Request-Method", "PATCH"))
                .insert_header(("Access-Control-Request-Headers", "authorization, if-match")),
            None,
        )
    };
    let allowed = preflight("https://portal.example").await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example")
    );
    let refused = preflight("https://evil.example").await;
    assert!(refused.header("access-control-allow-origin").is_none());

    let reply = app
        .send(
            app.request(Method::GET, "/v1/people")
                .insert_header(("Origin", "https://portal.example")),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        reply.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example")
    );
    assert!(reply
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase()
        .contains("etag"));

    let default = spawn_app().await;
    let reply = default
        .send(
            default
                .request(Method::GET, "/v1/people")
                .insert_header(("Origin", "https://portal.example")),
            None,
        )
        .await;
    assert!(
        reply.header("access-control-allow-origin").is_none(),
        "nothing is allowed by default"
    );
}

#[actix_web::test]
async fn rate_limits_apply_per_key() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    for _ in 0..3 {
        app.get("/v1/people").await.expect(200);
    }
    let limited = app.get("/v1/people").await;
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    limited.problem(429);
    let other = mint_key(&app.db, "other", &[Scope::Read], None).1;
    app.send(
        app.request_as(Method::GET, "/v1/people", Some(&other)),
        None,
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn authenticated_responses_are_not_cached_by_shared_caches() {
    let app = spawn_app().await;
    let person = app.person("Cache Test").await;
    let single = app.get(&format!("/v1/people/{}", id(&person))).await;
    assert_eq!(
        single.header("cache-control").as_deref(),
        Some("private, no-cache")
    );
    let list = app.get("/v1/people").await;
    assert_eq!(
        list.header("cache-control").as_deref(),
        Some("private, no-cache")
    );
    let error = app
        .get(&format!("/v1/people/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(error.header("cache-control").as_deref(), Some("no-store"));
    let deleted = app.delete(&format!("/v1/people/{}", id(&person))).await;
    assert_eq!(deleted.header("cache-control").as_deref(), Some("no-store"));
}

#[actix_web::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let reply = app
        .send(
            app.request(
                Method::PATCH,
                &format!("/v1/people/{}", uuid::Uuid::now_v7()),
            ),
            Some(("application/merge-patch+json", deep.into_bytes())),
        )
        .await;
    let problem = reply.problem(400);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("recursion limit"));
    app.get("/health/live").await.expect(200);
}
