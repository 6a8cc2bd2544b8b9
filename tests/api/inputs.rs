//! What clients write: every input's merge patch names the same members,
//! every representation shows them, and bodies are parsed and checked
//! before the service takes a database connection.

use crate::helpers::test_settings;
use alliance_registry::api::extract::parse_json;
use alliance_registry::api::organizations::Organizations;
use alliance_registry::api::people::People;
use alliance_registry::api::resource::{self, Item};
use alliance_registry::api::roles::Roles;
use alliance_registry::db;
use alliance_registry::domain::Reference;
use alliance_registry::error::Error;
use alliance_registry::metrics::Metrics;
use alliance_registry::store::api_keys::{Principal, Scope};
use alliance_registry::store::VersionCheck;
use serde_json::{json, Value};
use std::time::Duration;

/// The property names of component `name` (through `allOf`).
fn properties(doc: &Value, name: &str) -> Vec<String> {
    let schema = &doc["components"]["schemas"][name];
    let object = schema
        .get("allOf")
        .and_then(|all| all.get(0))
        .unwrap_or(schema);
    let mut names: Vec<String> = object["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has properties"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn every_patch_names_the_members_of_its_input_and_every_record_shows_them() {
    let doc: Value = serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let patches: Vec<&str> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|name| name.strip_suffix("Patch"))
        .collect();
    assert_eq!(patches.len(), 7, "{patches:?}");
    for resource in patches {
        let input = properties(&doc, &format!("{resource}Input"));
        assert_eq!(
            properties(&doc, &format!("{resource}Patch")),
            input,
            "{resource}"
        );
        let shown = properties(&doc, resource);
        for member in &input {
            assert!(shown.contains(member), "{resource} does not show {member}");
        }
    }
}

/// A pool whose every checkout fails (nothing listens on port 1).
fn unreachable_pool() -> db::PgPool {
    let mut settings = test_settings("postgres://postgres@127.0.0.1:1/none");
    settings.db_connect_timeout = Duration::from_millis(200);
    db::build_pool(&settings, Metrics::new().pool_events())
}

fn writer() -> Principal {
    Principal {
        key_id: uuid::Uuid::now_v7(),
        scopes: vec![Scope::Read, Scope::Write, Scope::Pii],
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[actix_web::test]
async fn bodies_are_parsed_and_checked_before_a_connection_is_taken() {
    let pool = unreachable_pool();
    let bad_org = json!({"name": " ", "kind": "other", "founding_date": "2023-05-23", "dissolution_date": "2023-05-22"});
    let parsed = parse_json(bad_org.to_string().as_bytes()).unwrap();
    let err = resource::create::<Organizations>(&pool, writer(), (), parsed, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["name", "dissolution_date"]);

    let bad_role = json!({"organization_id": "yp:a", "title": "x"});
    let parsed = parse_json(bad_role.to_string().as_bytes()).unwrap();
    let id = uuid::Uuid::now_v7();
    let err = resource::replace::<Roles>(
        &pool,
        writer(),
        Item((), Reference::Id(id)),
        VersionCheck::Any,
        parsed,
    )
    .await
    .unwrap_err();
    assert_eq!(fields(err), ["person_id", "member_organization_id"]);

    let bad_patch = json!({"name": null, "email": "not an address"});
    let parsed = parse_json(bad_patch.to_string().as_bytes()).unwrap();
    let err = resource::patch::<People>(
        &pool,
        writer(),
        Item((), Reference::Id(id)),
        VersionCheck::Any,
        parsed,
    )
    .await
    .unwrap_err();
    assert_eq!(fields(err), ["name", "email"]);

    // A valid body gets as far as the database, which is unreachable.
    let parsed = parse_json(json!({"name": "Zhou Haiying"}).to_string().as_bytes()).unwrap();
    let err = resource::create::<People>(&pool, writer(), (), parsed, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
}

#[actix_web::test]
async fn a_body_of_many_faults_is_answered_quickly_naming_the_first_hundred() {
    let app = crate::helpers::spawn_app().await;
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!("x"));
    body.insert("kind".into(), json!("alliance"));
    for i in 0..50_000 {
        body.insert(format!("k{i}"), json!(1));
    }
    let problem = app
        .post("/v1/organizations", &Value::Object(body))
        .await
        .problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    let names: Vec<Value> = (0..20_000).map(|_| json!({"nme": 1})).collect();
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "x", "other_names": names[..100]}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
}

#[actix_web::test]
async fn a_client_cannot_forge_the_fields_a_problem_names() {
    let app = crate::helpers::spawn_app().await;
    let forged = "\u{0}faults\u{0}[[\"admin_password\",\"forged\"]]\u{0}faults\u{0}";
    let problem = app
        .post("/v1/organizations", &json!({"name": "x", "kind": forged}))
        .await
        .problem(422);
    assert_eq!(crate::helpers::Reply::fields(&problem), ["kind"]);
}

#[actix_web::test]
async fn identifiers_listed_twice_are_named_beside_other_faults() {
    let app = crate::helpers::spawn_app().await;
    let problem = app
        .post(
            "/v1/people",
            &json!({"name": "x", "identifiers": [
                {"scheme": "dd", "value": "x"},
                null,
                {"scheme": "dd", "value": "x"},
                {"scheme": "dd", "value": ""}
            ]}),
        )
        .await
        .problem(422);
    let mut fields = crate::helpers::Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["identifiers[1]", "identifiers[2]", "identifiers[3].value"]
    );
}

#[actix_web::test]
async fn stored_personal_data_a_key_cannot_see_neither_blocks_nor_leaks_through_its_patches() {
    use diesel::RunQueryDsl;
    let app = crate::helpers::spawn_app().await;
    let person = app.person("Legacy").await;
    let id = crate::helpers::id(&person).to_owned();
    // Values stored before today's rules (written past the API).
    diesel::sql_query(format!(
        "UPDATE people SET email = 'legacy-not-an-email', phone = E'12\\u0001' WHERE id = '{id}'"
    ))
    .execute(&mut app.db.connect())
    .unwrap();
    let reader = crate::helpers::mint_key(&app.db, "writer", &[Scope::Write], None).1;
    let path = format!("/v1/people/{id}");
    let patched = app
        .send(
            app.request_as(awc::http::Method::PATCH, &path, Some(&reader)),
            Some((
                "application/merge-patch+json",
                br#"{"name": "Legacy Person"}"#.to_vec(),
            )),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["name"], "Legacy Person");
    assert!(patched.get("email").is_none());
    let stored = app.get(&path).await.expect(200).json();
    assert_eq!(stored["email"], "legacy-not-an-email");
    // A key that sees them is told what to fix.
    let problem = app
        .patch(&path, &json!({"name": "Legacy"}))
        .await
        .problem(422);
    let mut fields = crate::helpers::Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["email", "phone"]);
}

#[actix_web::test]
async fn names_refuse_control_characters_that_trimming_would_drop() {
    let app = crate::helpers::spawn_app().await;
    for name in ["a\u{85}", "\ta", "a\n"] {
        let problem = app
            .post("/v1/organizations", &json!({"name": name, "kind": "other"}))
            .await
            .problem(422);
        assert_eq!(
            crate::helpers::Reply::fields(&problem),
            ["name"],
            "{name:?}"
        );
    }
    let person = app
        .post(
            "/v1/people",
            &json!({"name": "x", "sort_name": "", "honorific_prefix": "  "}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(person["sort_name"], Value::Null);
    assert_eq!(person["honorific_prefix"], Value::Null);
}
