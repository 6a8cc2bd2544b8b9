//! The committed OpenAPI document is what the code generates, is served,
//! and describes every operation completely.

use crate::helpers::spawn_app;
use alliance_registry::api::{openapi, openapi_json};
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_document_matches_the_code() {
    let generated = openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test openapi` \
         (or `cargo run -- openapi > openapi/openapi.json`) and commit it"
    );
}

#[test]
fn every_operation_is_named_tagged_and_documents_its_errors() {
    let doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: operationId"));
            assert!(
                operation_ids.insert(id.to_owned()),
                "duplicate operationId {id}"
            );
            assert!(
                id.chars().next().unwrap().is_ascii_lowercase() && !id.contains('_'),
                "{id} is camelCase"
            );
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{id}: one tag"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"].is_string(),
                    "{id} {status}: description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{id} {status}: problem document"
                    );
                }
            }
        }
    }
    for id in [
        "listOrganizations",
        "createOrganization",
        "getOrganization",
        "replaceOrganization",
        "updateOrganization",
        "deleteOrganization",
        "listOrganizationChildren",
    ] {
        assert!(operation_ids.contains(id), "{id} missing");
    }
    let org = &doc["components"]["schemas"]["Organization"];
    assert!(
        org["example"].is_object(),
        "response schemas carry examples"
    );
    assert_eq!(
        doc["components"]["schemas"]["OrganizationKind"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        13
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(member, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling reference {target}"
        );
    }
}

#[actix_web::test]
async fn document_and_offline_docs_ui_are_served() {
    let app = spawn_app().await;
    let served = app.get("/openapi.json").await.expect(200).json();
    assert_eq!(served, serde_json::to_value(openapi()).unwrap());

    let reply = app.get("/docs/").await.expect(200);
    let html = String::from_utf8(reply.body).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "no CDN scripts"
    );
    // The UI's assets are served by the app itself (vendored), not a CDN.
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/swagger-initializer.js",
    ] {
        let reply = app.get(asset).await.expect(200);
        assert!(reply.body.len() > 100, "{asset}");
    }
    let initializer =
        String::from_utf8(app.get("/docs/swagger-initializer.js").await.body).unwrap();
    assert!(initializer.contains("/openapi.json"));
}
