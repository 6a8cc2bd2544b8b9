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

/// A JSON Schema 2020-12 validator (formats asserted) of `schema`, a schema
/// of `doc` whose `$ref`s name `doc`'s components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(members) => members.clone(),
        Value::Bool(true) => serde_json::Map::new(),
        other => panic!("not a schema: {other}"),
    };
    root.insert("components".to_owned(), doc["components"].clone());
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|err| panic!("{schema}: {err}"))
}

/// The subschemas of a schema, with their JSON pointers below `at`.
fn subschemas<'a>(schema: &'a Value, at: &str, found: &mut Vec<(String, &'a Value)>) {
    let Value::Object(members) = schema else {
        return;
    };
    found.push((at.to_owned(), schema));
    for (key, member) in members {
        match (key.as_str(), member) {
            (
                "properties" | "patternProperties" | "$defs" | "dependentSchemas",
                Value::Object(map),
            ) => {
                for (name, sub) in map {
                    subschemas(sub, &format!("{at}/{key}/{name}"), found);
                }
            }
            ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(list)) => {
                for (i, sub) in list.iter().enumerate() {
                    subschemas(sub, &format!("{at}/{key}/{i}"), found);
                }
            }
            (
                "items"
                | "additionalProperties"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames"
                | "unevaluatedItems"
                | "unevaluatedProperties",
                Value::Object(_),
            ) => subschemas(member, &format!("{at}/{key}"), found),
            _ => {}
        }
    }
}

/// Every example of `doc` with the schema it must satisfy and where it is:
/// schemas' `example`/`examples` (components and inline, at any depth),
/// parameters', headers' and media types' `example` and `examples`.
fn examples(doc: &Value) -> Vec<(String, Value, Value)> {
    let mut found = Vec::new();
    let mut schemas = Vec::new();
    let mut with_examples = Vec::new();
    // Parameters, headers and media types: an object with a `schema`.
    fn holders<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(members) => {
                if members.contains_key("schema") {
                    out.push((at.clone(), value));
                }
                for (key, member) in members {
                    if key != "schema" && key != "example" && key != "examples" {
                        holders(member, format!("{at}/{key}"), out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    holders(item, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    holders(&doc["paths"], "#/paths".to_owned(), &mut with_examples);
    for (at, holder) in &with_examples {
        let schema = &holder["schema"];
        subschemas(schema, &format!("{at}/schema"), &mut schemas);
        if let Some(example) = holder.get("example") {
            found.push((format!("{at}/example"), schema.clone(), example.clone()));
        }
        if let Some(Value::Object(named)) = holder.get("examples") {
            for (name, example) in named {
                let value = example
                    .get("value")
                    .unwrap_or_else(|| panic!("{at}/examples/{name}: a value"));
                found.push((
                    format!("{at}/examples/{name}/value"),
                    schema.clone(),
                    value.clone(),
                ));
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        subschemas(
            schema,
            &format!("#/components/schemas/{name}"),
            &mut schemas,
        );
    }
    for (at, schema) in schemas {
        if let Some(example) = schema.get("example") {
            found.push((format!("{at}/example"), schema.clone(), example.clone()));
        }
        if let Some(Value::Array(list)) = schema.get("examples") {
            for (i, example) in list.iter().enumerate() {
                found.push((
                    format!("{at}/examples/{i}"),
                    schema.clone(),
                    example.clone(),
                ));
            }
        }
    }
    found
}

/// What is wrong with each example of `doc` that its schema refuses.
fn invalid_examples(doc: &Value) -> Vec<String> {
    examples(doc)
        .into_iter()
        .filter_map(|(at, schema, example)| {
            let validator = validator(doc, &schema);
            let errors: Vec<String> = validator
                .iter_errors(&example)
                .map(|err| format!("{} at {}", err, err.instance_path()))
                .collect();
            (!errors.is_empty()).then(|| format!("{at}: {}", errors.join("; ")))
        })
        .collect()
}

#[test]
fn every_example_in_the_document_satisfies_its_schema() {
    let doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let found = examples(&doc);
    for kind in [
        "#/components/schemas/Organization/example",
        "#/components/schemas/OrganizationInput/",
        "/properties/",
    ] {
        assert!(
            found.iter().any(|(at, ..)| at.contains(kind)),
            "examples at {kind} are found"
        );
    }
    let invalid = invalid_examples(&doc);
    assert!(
        invalid.is_empty(),
        "examples refused by their schema:\n{}",
        invalid.join("\n")
    );
}

#[test]
fn an_example_that_breaks_its_schema_is_reported() {
    let mut doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let organization = &mut doc["components"]["schemas"]["Organization"]["example"];
    organization.as_object_mut().unwrap().remove("name");
    organization["id"] = Value::from("not a uuid");
    let invalid = invalid_examples(&doc);
    assert_eq!(invalid.len(), 1, "{invalid:#?}");
    assert!(
        invalid[0].starts_with("#/components/schemas/Organization/example:")
            && invalid[0].contains("\"name\" is a required property")
            && invalid[0].contains("uuid"),
        "{}",
        invalid[0]
    );
}
