//! Popolo interchange: the register exported as one Popolo document that
//! follows the specification, and Popolo documents imported — ours
//! (a round trip gives the same document) and other tools'.

use crate::helpers::{mint_key, spawn_app, Reply, TestApp};
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use regex_lite::Regex;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

const SEED: &str = include_str!("../../examples/yangpu-alliance.json");

async fn import(app: &TestApp, query: &str, body: &[u8]) -> Reply {
    let request = app.request(Method::POST, &format!("/v1/imports?{query}"));
    app.send(request, Some(("application/json", body.to_vec())))
        .await
}

/// A register holding the seed file.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    import(&app, "", SEED.as_bytes()).await.expect(201);
    app
}

// The rules of the Popolo specification (popoloproject.com/specs and its
// JSON schemas, draft 03), written out: per class, its members and their
// types; the required ones; the patterns of dates. This register's own
// members beside Popolo's are listed apart, as extensions.

/// A member's type in the schemas.
#[derive(Clone, Copy)]
enum Type {
    Text,
    /// A string matching one of the date patterns.
    Date(&'static str),
    /// An array of objects of a class.
    Objects(&'static str),
    Texts,
    Object,
}

/// `^[0-9]{4}(-[0-9]{2}){0,2}$`: a partial date.
const PARTIAL_DATE: &str = r"^[0-9]{4}(-[0-9]{2}){0,2}$";
/// A membership's or an event's date: a partial date or a day with a time.
const DATE_TIME: &str =
    r"^[0-9]{4}((-[0-9]{2}){0,2}|(-[0-9]{2}){2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2})?)?Z)?)$";

/// Popolo's members of each class (and of the objects inside them).
fn popolo_members(class: &str) -> Vec<(&'static str, Type)> {
    use Type::*;
    let common = [
        ("id", Text),
        ("created_at", Text),
        ("updated_at", Text),
        ("sources", Objects("link")),
    ];
    let mut members: Vec<(&str, Type)> = match class {
        "person" => vec![
            ("name", Text),
            ("other_names", Objects("other_name")),
            ("identifiers", Objects("identifier")),
            ("family_name", Text),
            ("given_name", Text),
            ("additional_name", Text),
            ("honorific_prefix", Text),
            ("honorific_suffix", Text),
            ("patronymic_name", Text),
            ("sort_name", Text),
            ("email", Text),
            ("gender", Text),
            ("birth_date", Date(PARTIAL_DATE)),
            ("death_date", Date(PARTIAL_DATE)),
            ("image", Text),
            ("summary", Text),
            ("biography", Text),
            ("national_identity", Text),
            ("contact_details", Objects("contact_detail")),
            ("links", Objects("link")),
        ],
        "organization" => vec![
            ("name", Text),
            ("other_names", Objects("other_name")),
            ("identifiers", Objects("identifier")),
            ("classification", Text),
            ("parent_id", Text),
            ("area_id", Text),
            ("abstract", Text),
            ("description", Text),
            ("founding_date", Date(PARTIAL_DATE)),
            ("dissolution_date", Date(PARTIAL_DATE)),
            ("image", Text),
            ("contact_details", Objects("contact_detail")),
            ("links", Objects("link")),
        ],
        "membership" => vec![
            ("label", Text),
            ("role", Text),
            ("member", Object),
            ("person_id", Text),
            ("organization_id", Text),
            ("post_id", Text),
            ("on_behalf_of_id", Text),
            ("area_id", Text),
            ("start_date", Date(DATE_TIME)),
            ("end_date", Date(DATE_TIME)),
            ("contact_details", Objects("contact_detail")),
            ("links", Objects("link")),
        ],
        "post" => vec![
            ("label", Text),
            ("other_label", Texts),
            ("role", Text),
            ("organization_id", Text),
            ("area_id", Text),
            ("start_date", Date(PARTIAL_DATE)),
            ("end_date", Date(PARTIAL_DATE)),
            ("contact_details", Objects("contact_detail")),
            ("links", Objects("link")),
        ],
        "area" => vec![
            ("name", Text),
            ("identifier", Text),
            ("classification", Text),
            ("parent_id", Text),
            ("geometry", Object),
        ],
        "event" => vec![
            ("name", Text),
            ("description", Text),
            ("start_date", Date(DATE_TIME)),
            ("end_date", Date(DATE_TIME)),
            ("location", Text),
            ("status", Text),
            ("identifiers", Objects("identifier")),
            ("classification", Text),
            ("organization_id", Text),
            ("parent_id", Text),
        ],
        "other_name" => {
            return vec![
                ("name", Text),
                ("family_name", Text),
                ("given_name", Text),
                ("additional_name", Text),
                ("honorific_prefix", Text),
                ("honorific_suffix", Text),
                ("patronymic_name", Text),
                ("start_date", Date(PARTIAL_DATE)),
                ("end_date", Date(PARTIAL_DATE)),
                ("note", Text),
            ]
        }
        "identifier" => return vec![("identifier", Text), ("scheme", Text)],
        "link" => return vec![("url", Text), ("note", Text)],
        "contact_detail" => {
            return vec![
                ("label", Text),
                ("type", Text),
                ("value", Text),
                ("note", Text),
                ("valid_from", Date(PARTIAL_DATE)),
                ("valid_through", Date(PARTIAL_DATE)),
            ]
        }
        other => panic!("no class {other}"),
    };
    members.extend(common);
    members
}

/// The members this register writes beside Popolo's (documented in the
/// export's description).
fn extensions(class: &str) -> Vec<(&'static str, Type)> {
    use Type::*;
    match class {
        "person" => vec![("phone", Text)],
        "organization" => vec![("kind", Text)],
        "membership" => vec![("note", Text), ("identifiers", Objects("identifier"))],
        "post" => vec![
            ("identifiers", Objects("identifier")),
            ("other_labels", Objects("other_name")),
        ],
        "area" => vec![
            ("identifiers", Objects("identifier")),
            ("other_names", Objects("other_name")),
            ("links", Objects("link")),
        ],
        "event" => vec![
            ("timezone", Text),
            ("recurrence", Text),
            ("topics", Texts),
            ("links", Objects("link")),
            ("participants", Objects("participant")),
        ],
        "other_name" => vec![("lang", Text)],
        _ => Vec::new(),
    }
}

/// The members every object of the class must have.
fn required(class: &str) -> &'static [&'static str] {
    match class {
        "person" | "organization" => &["id", "name"],
        "membership" => &["id", "organization_id"],
        "post" => &["id", "label", "organization_id"],
        "area" => &["id", "name"],
        "event" => &["id", "name"],
        "other_name" => &["name"],
        "identifier" => &["identifier"],
        "link" => &["url"],
        "contact_detail" => &["type", "value"],
        _ => &[],
    }
}

/// Every way `object` (of `class`, at `at`) breaks the specification.
fn violations(class: &str, at: &str, object: &Value, out: &mut Vec<String>) {
    let Some(object) = object.as_object() else {
        out.push(format!("{at}: not an object"));
        return;
    };
    if class == "participant" {
        // This register's own class (Popolo has none for taking part).
        return;
    }
    for member in required(class) {
        if !object.get(*member).is_some_and(Value::is_string) {
            out.push(format!("{at}.{member}: required string missing"));
        }
    }
    let known: HashMap<&str, Type> = popolo_members(class)
        .into_iter()
        .chain(extensions(class))
        .collect();
    for (name, value) in object {
        let at = format!("{at}.{name}");
        let Some(kind) = known.get(name.as_str()) else {
            out.push(format!("{at}: not a member of a Popolo {class}"));
            continue;
        };
        match (kind, value) {
            (Type::Text, Value::String(_)) | (Type::Object, Value::Object(_)) => {}
            (Type::Date(pattern), Value::String(text)) => {
                if !Regex::new(pattern).unwrap().is_match(text) {
                    out.push(format!("{at}: {text:?} does not match {pattern}"));
                }
            }
            (Type::Texts, Value::Array(items)) if items.iter().all(Value::is_string) => {}
            (Type::Objects(item), Value::Array(items)) => {
                for (i, element) in items.iter().enumerate() {
                    violations(item, &format!("{at}[{i}]"), element, out);
                }
            }
            (_, Value::Null) => out.push(format!("{at}: null (leave it out)")),
            (_, other) => out.push(format!("{at}: wrong type {other}")),
        }
    }
}

/// The ids of the objects of each class of `document`.
fn ids(document: &Value) -> HashMap<&'static str, HashSet<String>> {
    [
        "persons",
        "organizations",
        "memberships",
        "posts",
        "areas",
        "events",
    ]
    .into_iter()
    .map(|class| {
        let ids = document[class]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        (class, ids)
    })
    .collect()
}

#[actix_web::test]
async fn the_popolo_export_follows_the_specification_to_the_letter() {
    let app = seeded().await;
    let reply = app.get("/v1/exports/popolo").await.expect(200);
    assert_eq!(
        reply.header("content-disposition").unwrap(),
        "attachment; filename=\"popolo.json\""
    );
    let document = reply.json();
    let classes: HashSet<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        classes,
        HashSet::from([
            "persons",
            "organizations",
            "memberships",
            "posts",
            "areas",
            "events"
        ])
    );
    let mut broken = Vec::new();
    for (list, class) in [
        ("persons", "person"),
        ("organizations", "organization"),
        ("memberships", "membership"),
        ("posts", "post"),
        ("areas", "area"),
        ("events", "event"),
    ] {
        let objects = document[list].as_array().unwrap();
        assert!(!objects.is_empty(), "{list}");
        for (i, object) in objects.iter().enumerate() {
            violations(class, &format!("{list}[{i}]"), object, &mut broken);
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");

    // References name objects of the document, of the right class.
    let ids = ids(&document);
    let refers = |object: &Value, member: &str, class: &str| {
        if let Some(id) = object.get(member) {
            let id = id.as_str().unwrap();
            assert!(ids[class].contains(id), "{member} {id} names no {class}");
        }
    };
    for organization in document["organizations"].as_array().unwrap() {
        refers(organization, "parent_id", "organizations");
        refers(organization, "area_id", "areas");
    }
    for area in document["areas"].as_array().unwrap() {
        refers(area, "parent_id", "areas");
    }
    for post in document["posts"].as_array().unwrap() {
        refers(post, "organization_id", "organizations");
        refers(post, "area_id", "areas");
    }
    for membership in document["memberships"].as_array().unwrap() {
        refers(membership, "organization_id", "organizations");
        refers(membership, "person_id", "persons");
        refers(membership, "on_behalf_of_id", "organizations");
        refers(membership, "post_id", "posts");
        // A member is a person (`person_id`) or an organization (`member`).
        match &membership["member"] {
            Value::Null => assert!(membership["person_id"].is_string()),
            member => {
                assert_eq!(member["@type"], "Organization");
                assert!(ids["organizations"].contains(member["id"].as_str().unwrap()));
                assert!(membership.get("person_id").is_none());
            }
        }
    }
    for event in document["events"].as_array().unwrap() {
        refers(event, "parent_id", "events");
        for participant in event["participants"].as_array().into_iter().flatten() {
            refers(participant, "person_id", "persons");
            refers(participant, "organization_id", "organizations");
            refers(participant, "on_behalf_of_id", "organizations");
        }
    }
    // Each class is sorted by id.
    for class in [
        "persons",
        "organizations",
        "memberships",
        "posts",
        "areas",
        "events",
    ] {
        let listed: Vec<&str> = document[class]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(listed, sorted, "{class}");
    }
}

#[actix_web::test]
async fn a_popolo_export_imported_into_an_empty_register_exports_the_same_document() {
    let app = seeded().await;
    let first = app.get("/v1/exports/popolo").await.expect(200).json();

    let empty = spawn_app().await;
    let body = serde_json::to_vec(&first).unwrap();
    let report = import(&empty, "format=popolo", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(report["format"], "popolo");
    let again = empty.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(first, again);

    // Importing it again changes nothing: each object is upserted by its id.
    let report = import(&empty, "format=popolo", &body)
        .await
        .expect(201)
        .json();
    for (resource, counts) in report["counts"].as_object().unwrap() {
        assert_eq!(counts["created"], 0, "{resource}");
        assert_eq!(counts["updated"], 0, "{resource}");
    }
}

#[actix_web::test]
async fn personal_data_is_in_the_popolo_export_only_with_the_pii_scope() {
    let app = spawn_app().await;
    app.post(
        "/v1/people",
        &json!({"name": "Li Ming", "email": "li.ming@example.org", "phone": "+86 21 6543 0000",
                "birth_date": "1970-05", "death_date": "2020"}),
    )
    .await
    .expect(201);
    let full = app.get("/v1/exports/popolo").await.expect(200).json();
    let person = &full["persons"][0];
    assert_eq!(person["email"], "li.ming@example.org");
    assert_eq!(person["phone"], "+86 21 6543 0000");
    assert_eq!(person["birth_date"], "1970-05");

    let (_, token) = mint_key(&app.db, "reader", &[Scope::Read], None);
    let request = app.request_as(Method::GET, "/v1/exports/popolo", Some(&token));
    let public = app.send(request, None).await.expect(200).json();
    let person = public["persons"][0].as_object().unwrap();
    for hidden in ["email", "phone", "birth_date"] {
        assert!(!person.contains_key(hidden), "{hidden}");
    }
    assert_eq!(person["death_date"], "2020");
    // The document says what it withholds, so that loading it back keeps it.
    assert_eq!(
        public["meta"],
        json!({"withheld": ["birth_date", "email", "phone"]})
    );
    assert!(full.get("meta").is_none());
}

/// A document as another Popolo tool writes it.
fn foreign_document() -> Value {
    json!({
        "organizations": [
            {"id": "ocd-organization/yangpu", "name": "Yangpu District Party Committee",
             "classification": "party_committee",
             "identifiers": [{"identifier": "310110", "scheme": "district-code"}]},
            {"id": "dept", "name": "Organization Department", "classification": "department",
             "parent_id": "ocd-organization/yangpu", "abstract": "Passed over",
             "founding_date": "1949"},
            {"id": "meituan", "name": "Meituan (Shanghai)", "classification": "enterprise"}
        ],
        "persons": [
            {"id": "jiang", "name": "Jiang Daorong", "image": "https://example.org/jiang.jpg",
             "summary": "Passed over",
             "other_names": [{"name": "姜道荣", "lang": "zh", "family_name": "姜"}],
             "contact_details": [{"type": "voice", "value": "+86 21 0000", "note": "office"}]}
        ],
        "memberships": [
            {"id": "m1", "person_id": "jiang", "organization_id": "dept",
             "role": "director", "start_date": "2021-06-01T00:00:00Z"},
            {"id": "m2", "member": {"@type": "Organization", "id": "meituan"},
             "organization_id": "ocd-organization/yangpu", "label": "Member unit", "role": "member"}
        ],
        "events": [
            {"id": "seminar", "name": "Founding seminar", "classification": "seminar",
             "status": "held", "start_date": "2023-05-23T01:30Z", "organization_id": "dept"}
        ],
        "motions": [{"id": "ignored"}]
    })
}

#[actix_web::test]
async fn a_popolo_document_of_another_tool_loads_keeping_its_ids() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&foreign_document()).unwrap();
    let report = import(&app, "format=popolo", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(report["counts"]["organizations"]["created"], 3);
    assert_eq!(report["counts"]["roles"]["created"], 2);
    assert_eq!(report["counts"]["participants"]["created"], 1);

    let dept = &app
        .get("/v1/organizations?identifier=popolo:dept")
        .await
        .expect(200)
        .json()["items"][0];
    assert_eq!(dept["classification"], "department");
    assert_eq!(dept["kind"], "other");
    assert_eq!(dept["founding_date"], "1949");
    let party = &app
        .get("/v1/organizations?identifier=district-code:310110")
        .await
        .expect(200)
        .json()["items"][0];
    assert_eq!(party["kind"], "party_committee");
    assert_eq!(dept["parent_id"], party["id"]);

    let person = &app
        .get("/v1/people?identifier=popolo:jiang")
        .await
        .expect(200)
        .json()["items"][0];
    assert_eq!(person["image_url"], "https://example.org/jiang.jpg");
    assert_eq!(
        person["other_names"],
        json!([{"name": "姜道荣", "lang": "zh"}])
    );

    let meituan = &app
        .get("/v1/organizations?identifier=popolo:meituan")
        .await
        .expect(200)
        .json()["items"][0];
    let part_of = app
        .get(&format!(
            "/v1/roles?member_organization_id={}&embed=organization",
            meituan["id"].as_str().unwrap()
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(
        part_of["items"][0]["organization"]["name"],
        "Yangpu District Party Committee"
    );
    assert_eq!(part_of["items"][0]["role"], "member");

    let director = &app
        .get("/v1/roles?identifier=popolo:m1")
        .await
        .expect(200)
        .json()["items"][0];
    assert_eq!(director["title"], "director");
    assert_eq!(director["start_date"], "2021-06-01");

    let event = &app
        .get("/v1/events?identifier=popolo:seminar")
        .await
        .expect(200)
        .json()["items"][0];
    assert_eq!(event["starts_at"], "2023-05-23T01:30:00Z");
    let participants = app
        .get(&format!(
            "/v1/events/{}/participants",
            event["id"].as_str().unwrap()
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(participants["items"][0]["role"], "organizer");
    assert_eq!(participants["items"][0]["organization_id"], dept["id"]);

    // Its export gives the document's ids back.
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    let ids = ids(&exported);
    assert!(ids["organizations"].contains("ocd-organization/yangpu"));
    assert!(ids["memberships"].contains("m2"));
    let m2 = exported["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "m2")
        .unwrap();
    assert_eq!(
        m2["member"],
        json!({"@type": "Organization", "id": "meituan"})
    );

    // Loading it again is idempotent.
    let report = import(&app, "format=popolo", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(report["counts"]["organizations"]["unchanged"], 3);
}

#[actix_web::test]
async fn a_popolo_document_at_fault_is_refused_naming_its_own_members() {
    let app = spawn_app().await;
    let document = json!({
        "persons": [{"id": "p", "name": "Ok", "birth_date": "1970-13"}],
        "organizations": [{"id": "o", "name": "Org", "memberships": [{"id": "nested"}]}],
        "events": [
            {"id": "e1", "classification": "seminar", "status": "held", "start_date": "2023"},
            {"id": "e2", "name": "No such kind", "classification": "gala", "start_date": "2023-05-23"}
        ],
        "memberships": [{"id": "m", "organization_id": "o", "member": {"id": "p"}}],
        "bills": []
    });
    let body = serde_json::to_vec(&document).unwrap();
    let problem = import(&app, "format=popolo", &body).await.problem(422);
    let fields = Reply::fields(&problem);
    for expected in [
        "bills",
        "organizations[0].memberships",
        "events[0].start_date",
        "memberships[0].member",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} in {fields:?}"
        );
    }
    // Nothing was written.
    let exported = app.get("/v1/exports/popolo").await.expect(200).json();
    assert_eq!(exported["persons"], json!([]));

    // Faults found by the records' own rules name Popolo's members too.
    let document = json!({
        "persons": [{"id": "p", "name": "Ok", "birth_date": "1970-13", "image": "not a url",
                     "identifiers": [{"identifier": "no scheme"}]}],
        "events": [{"id": "e2", "classification": "gala", "start_date": "2023-05-23"}]
    });
    let body = serde_json::to_vec(&document).unwrap();
    let problem = import(&app, "format=popolo", &body).await.problem(422);
    let fields = Reply::fields(&problem);
    for expected in [
        "persons[0].birth_date",
        "persons[0].image",
        "persons[0].identifiers[0].scheme",
        "events[0].name",
        "events[0].classification",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} in {fields:?}"
        );
    }

    // A Popolo document is JSON.
    let request = app.request(Method::POST, "/v1/imports?format=popolo");
    let problem = app
        .send(request, Some(("application/x-ndjson", b"{}\n".to_vec())))
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["format"]);
}
