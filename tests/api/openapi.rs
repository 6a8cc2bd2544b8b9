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

/// The declared schema of parameter `name` of `method path` in `doc`.
fn parameter_schema<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .and_then(|parameters| parameters.iter().find(|p| p["name"] == name))
        .map(|parameter| &parameter["schema"])
        .unwrap_or_else(|| panic!("{method} {path} declares {name}"))
}

/// Where an edge value goes: a query parameter or a header of a request.
enum Slot {
    Query(&'static str),
    Header(&'static str),
}

#[actix_web::test]
async fn declared_patterns_admit_exactly_the_values_the_server_accepts() {
    let app = spawn_app().await;
    let doc: Value = serde_json::from_str(&openapi_json()).unwrap();
    let organization = app
        .create_organization(serde_json::json!({"name": "Yangpu", "kind": "alliance"}))
        .await;
    let item = format!("/v1/organizations/{}", organization["id"].as_str().unwrap());
    for i in 0..3 {
        let body = serde_json::json!({"name": format!("Unit {i}"), "kind": "enterprise"});
        app.create_organization(body).await;
    }
    let page = app
        .get("/v1/organizations?limit=2")
        .await
        .expect(200)
        .json();
    let list_cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let feed = app.get("/v1/changes?limit=1").await.expect(200).json();
    let feed_cursor = feed["next_cursor"].as_str().unwrap().to_owned();
    let entity_tags = [
        "*",
        "\t*\t",
        "\"1\"",
        "W/\"1\"",
        "\"\"",
        "W/\"\"",
        "\"a,b\"",
        "\"1\" ,\t\"2\"",
        "\"!#~\"",
        "*,\"1\"",
        "*, *",
        "\"1\",",
        ",\"1\"",
        "\"1\" \"2\"",
        "\"1\",,\"2\"",
        "\"a b\"",
        "\"a\\\"b\"",
        "w/\"1\"",
        "W/ \"1\"",
        "1",
        "0",
        "",
        "\"é\"",
    ];
    let mut table: Vec<(&str, String, Slot, String)> = Vec::new();
    for types in [
        "",
        "person",
        "organization,person,role,event,participant,area,post",
        "person,person",
        "person,",
        ",person",
        "person,,role",
        "Person",
        "people",
        " person",
        "person role",
    ] {
        table.push((
            "get",
            "/v1/changes".into(),
            Slot::Query("types"),
            types.into(),
        ));
    }
    for (path, cursor) in [
        ("/v1/organizations", list_cursor.as_str()),
        ("/v1/changes", feed_cursor.as_str()),
    ] {
        for value in [cursor, "", "a+b", "a/b", "a=", "a.b", "a b", "é"] {
            table.push(("get", path.into(), Slot::Query("cursor"), value.into()));
        }
    }
    let long_scheme = format!("a{}", "b".repeat(63));
    let longer_scheme = format!("{long_scheme}c");
    for scheme in [
        "a",
        "A.b_c-9",
        long_scheme.as_str(),
        longer_scheme.as_str(),
        "",
        "-a",
        ".a",
        "a:b",
        "a b",
        "é",
    ] {
        let path = "/v1/organizations/by-identifier?value=edge";
        table.push(("put", path.into(), Slot::Query("scheme"), scheme.into()));
    }
    let long_value = "v".repeat(200);
    let longer_value = "v".repeat(201);
    for value in [
        "x",
        " x ",
        "a/b?c&d=e+f%",
        "杨浦",
        long_value.as_str(),
        longer_value.as_str(),
        "",
        " ",
        "\u{200B}",
        "a\u{200E}",
        "a\u{7}",
        "a\u{85}",
        "a\nb",
    ] {
        let path = "/v1/organizations/by-identifier?scheme=edge";
        table.push(("put", path.into(), Slot::Query("value"), value.into()));
    }
    for tag in entity_tags {
        table.push((
            "get",
            "/v1/organizations".into(),
            Slot::Header("If-None-Match"),
            tag.into(),
        ));
        table.push((
            "get",
            item.clone(),
            Slot::Header("If-None-Match"),
            tag.into(),
        ));
        table.push(("patch", item.clone(), Slot::Header("If-Match"), tag.into()));
    }
    let documented = |method: &str, path: &str| match path.split('?').next().unwrap() {
        bare @ ("/v1/organizations" | "/v1/changes" | "/v1/organizations/by-identifier") => {
            bare.to_owned()
        }
        _ if method == "get" || method == "patch" => "/v1/organizations/{id}".to_owned(),
        _ => unreachable!(),
    };
    let mut disagreements = Vec::new();
    for (method, path, slot, value) in &table {
        let name = match slot {
            Slot::Query(name) | Slot::Header(name) => *name,
        };
        let schema = parameter_schema(&doc, method, &documented(method, path), name);
        let declared = validator(&doc, schema).is_valid(&Value::from(value.as_str()));
        let method = awc::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (target, header) = match slot {
            Slot::Query(name) => {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, value)
                    .finish();
                let join = if path.contains('?') { '&' } else { '?' };
                (format!("{path}{join}{query}"), None)
            }
            Slot::Header(name) => (path.clone(), Some((*name, value.as_bytes().to_vec()))),
        };
        let mut request = app.request(method.clone(), &target);
        if let Some((name, bytes)) = header {
            let value = awc::http::header::HeaderValue::from_bytes(&bytes).unwrap();
            request = request.insert_header((name, value));
        }
        let body = match method {
            awc::http::Method::PATCH => Some((
                "application/merge-patch+json",
                br#"{"description": "Edge values"}"#.to_vec(),
            )),
            awc::http::Method::PUT => Some((
                "application/json",
                br#"{"name": "Edge", "kind": "enterprise"}"#.to_vec(),
            )),
            _ => None,
        };
        let status = app.send(request, body).await.status;
        // A value the server refuses is a 400; any other answer (200, 201,
        // 304, 412) accepted the value.
        let accepted = status != 400;
        if declared != accepted {
            disagreements.push(format!(
                "{method} {target} {name}: {value:?} declared {}, answered {status}",
                if declared { "valid" } else { "invalid" }
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "declared patterns and the server disagree:\n{}",
        disagreements.join("\n")
    );

    // The one refusal a pattern cannot state: a well-formed cursor this
    // server did not seal (its description says so).
    for path in ["/v1/organizations", "/v1/changes"] {
        let cursor = parameter_schema(&doc, "get", path, "cursor");
        assert!(validator(&doc, cursor).is_valid(&Value::from("AAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
        let problem = app
            .get(&format!("{path}?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            .await
            .problem(400);
        assert_eq!(crate::helpers::Reply::fields(&problem), ["cursor"]);
        let description = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "cursor")
            .unwrap()["description"]
            .as_str()
            .unwrap();
        assert!(description.contains("did not issue"), "{description}");
    }
}
