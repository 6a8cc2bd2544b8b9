//! What clients write: every input's merge patch names the same members,
//! every representation shows them, and bodies are parsed and checked
//! before the service takes a database connection.

use crate::helpers::test_settings;
use alliance_registry::{
    api::{
        extract::parse_json,
        organizations::Organizations,
        people::People,
        resource::{self, Item},
        roles::Roles,
    },
    db,
    error::Error,
    store::{
        api_keys::{Principal, Scope},
        VersionCheck,
    },
};
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
    assert_eq!(patches.len(), 5, "{patches:?}");
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
    db::build_pool(&settings)
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
    let err = resource::replace::<Roles>(&pool, writer(), Item((), id), VersionCheck::Any, parsed)
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["person_id", "member_organization_id"]);

    let bad_patch = json!({"name": null, "email": "not an address"});
    let parsed = parse_json(bad_patch.to_string().as_bytes()).unwrap();
    let err = resource::patch::<People>(&pool, writer(), Item((), id), VersionCheck::Any, parsed)
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
