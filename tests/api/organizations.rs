use crate::helpers::{spawn_app, Reply, TestApp};
use awc::http::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

fn path(org: &Value) -> String {
    format!("/v1/organizations/{}", org["id"].as_str().unwrap())
}

async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    header: (&str, &str),
    body: Option<&Value>,
) -> Reply {
    let request = app.request(method, path).insert_header(header);
    let content_type = if request.get_method() == Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    app.send(
        request,
        body.map(|b| (content_type, b.to_string().into_bytes())),
    )
    .await
}

#[actix_web::test]
async fn create_returns_201_with_location_etag_and_normalized_fields() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/v1/organizations",
            &json!({
                "name": "  Yangpu District Digital Economy Industry Cluster Party Building Alliance ",
                "kind": "alliance",
                "other_names": [{"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}],
                "founding_date": "2023-05-23",
                "description": "  ",
                "contact_details": [{"type": "website", "value": "https://example.org"}],
                "sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html", "note": "People's Daily Online"}]
            }),
        )
        .await
        .expect(201);
    let org = reply.json();
    let id = org["id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(
        reply.header("location").unwrap(),
        format!("/v1/organizations/{id}")
    );
    assert_eq!(reply.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        org["name"],
        "Yangpu District Digital Economy Industry Cluster Party Building Alliance"
    );
    assert_eq!(org["description"], Value::Null, "blank text becomes null");
    assert_eq!(org["parent_id"], Value::Null);
    assert_eq!(org["dissolution_date"], Value::Null);
    assert_eq!(org["founding_date"], "2023-05-23");
    assert_eq!(org["other_names"][0]["lang"], "zh");
    assert_eq!(org["contact_details"][0]["type"], "website");
    assert_eq!(org["version"], 1);
    assert_eq!(org["created_at"], org["updated_at"]);

    let fetched = app.get(&path(&org)).await.expect(200);
    assert_eq!(fetched.json(), org);
    assert_eq!(fetched.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn invalid_organizations_are_422_naming_every_field() {
    let app = spawn_app().await;
    let problem = app
        .post(
            "/v1/organizations",
            &json!({
                "name": " ",
                "kind": "enterprise",
                "founding_date": "2023-05-23",
                "dissolution_date": "2023-05-22",
                "other_names": [{"name": "", "lang": "Chinese language"}],
                "sources": [{"url": "not a url"}],
                "contact_details": [{"type": "", "value": "x"}]
            }),
        )
        .await
        .problem(422);
    let fields: HashSet<String> = Reply::fields(&problem).into_iter().collect();
    let expected: HashSet<String> = [
        "name",
        "dissolution_date",
        "other_names[0].name",
        "other_names[0].lang",
        "sources[0].url",
        "contact_details[0].type",
    ]
    .map(String::from)
    .into();
    assert_eq!(fields, expected);

    for (body, field) in [
        (json!({"name": "x".repeat(501), "kind": "other"}), "name"),
        (json!({"kind": "other"}), "name"),
        (json!({"name": "x"}), "kind"),
        (json!({"name": "x", "kind": "planet"}), "kind"),
        (
            json!({"name": "x", "kind": "other", "founding_date": "23 May 2023"}),
            "founding_date",
        ),
        (
            json!({"name": "x", "kind": "other", "version": 3}),
            "version",
        ),
        (
            json!({"name": "x", "kind": "other", "other_names": [{"name": "y", "nmae": "z"}]}),
            "other_names[0].nmae",
        ),
        (json!({"name": 5, "kind": "other"}), "name"),
        (
            json!({"name": "x", "kind": "other", "sources": vec![json!({"url": "https://a.example"}); 101]}),
            "sources",
        ),
    ] {
        let problem = app.post("/v1/organizations", &body).await.problem(422);
        assert_eq!(Reply::fields(&problem), [field], "{body}");
    }
    let list = app.get("/v1/organizations").await.expect(200).json();
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing was written"
    );
}

#[actix_web::test]
async fn the_parent_must_exist_and_be_live() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::now_v7();
    let problem = app
        .post(
            "/v1/organizations",
            &json!({"name": "Branch", "kind": "party_branch", "parent_id": missing}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);

    let company = app
        .organization("Tonghao Civil Engineering", "enterprise", None)
        .await;
    app.delete(&path(&company)).await.expect(204);
    let problem = app
        .post(
            "/v1/organizations",
            &json!({"name": "Branch", "kind": "party_branch", "parent_id": company["id"]}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
}

#[actix_web::test]
async fn conditional_get_uses_the_version_etag() {
    let app = spawn_app().await;
    let org = app.organization("Bilibili", "enterprise", None).await;
    let reply = send_with(
        &app,
        Method::GET,
        &path(&org),
        ("If-None-Match", "\"1\""),
        None,
    )
    .await;
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("etag").as_deref(), Some("\"1\""));
    let reply = send_with(
        &app,
        Method::GET,
        &path(&org),
        ("If-None-Match", "W/\"1\", \"7\""),
        None,
    )
    .await;
    assert_eq!(reply.status, 304, "weak comparison for If-None-Match");
    let reply = send_with(&app, Method::GET, &path(&org), ("If-None-Match", "*"), None).await;
    assert_eq!(reply.status, 304);

    app.patch(&path(&org), &json!({"description": "Video platform"}))
        .await
        .expect(200);
    let reply = send_with(
        &app,
        Method::GET,
        &path(&org),
        ("If-None-Match", "\"1\""),
        None,
    )
    .await;
    let reply = reply.expect(200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(reply.json()["description"], "Video platform");
}

#[actix_web::test]
async fn merge_patch_sets_clears_and_keeps_fields() {
    let app = spawn_app().await;
    let park = app
        .organization("Tongji Science and Technology Park", "science_park", None)
        .await;
    let org = app
        .create_organization(json!({
            "name": "Youkede",
            "kind": "enterprise",
            "parent_id": park["id"],
            "description": "Cloud computing",
            "founding_date": "2012-03-01",
            "other_names": [{"name": "优刻得", "lang": "zh"}, {"name": "UCloud", "lang": "en"}],
            "sources": [{"url": "https://example.org/a"}]
        }))
        .await;

    let reply = app
        .patch(
            &path(&org),
            &json!({
                "description": null,
                "parent_id": null,
                "other_names": [{"name": "优刻得科技股份有限公司"}],
                "dissolution_date": "2030-01-01"
            }),
        )
        .await
        .expect(200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));
    let patched = reply.json();
    assert_eq!(patched["description"], Value::Null, "null clears");
    assert_eq!(patched["parent_id"], Value::Null);
    assert_eq!(
        patched["other_names"],
        json!([{"name": "优刻得科技股份有限公司"}]),
        "arrays are replaced whole"
    );
    assert_eq!(patched["dissolution_date"], "2030-01-01");
    assert_eq!(patched["name"], "Youkede", "absent members stay");
    assert_eq!(patched["founding_date"], "2012-03-01");
    assert_eq!(patched["sources"], org["sources"]);
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["created_at"], org["created_at"]);
    assert_ne!(patched["updated_at"], org["updated_at"]);

    // A patch that changes nothing keeps the version.
    let same = app
        .patch(&path(&org), &json!({"name": "Youkede"}))
        .await
        .expect(200);
    assert_eq!(same.json()["version"], 2);
    let empty = app.patch(&path(&org), &json!({})).await.expect(200);
    assert_eq!(empty.json()["version"], 2);

    // Required fields cannot be removed; the patched whole is validated.
    let problem = app
        .patch(&path(&org), &json!({"name": null}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["name"]);
    let problem = app
        .patch(&path(&org), &json!({"dissolution_date": "2000-01-01"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["dissolution_date"]);
    let problem = app
        .patch(&path(&org), &json!({"id": uuid::Uuid::now_v7()}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["id"]);
    let problem = app.patch(&path(&org), &json!(["name"])).await.problem(422);
    assert_eq!(Reply::fields(&problem), ["body"]);
    assert_eq!(
        app.get(&path(&org)).await.json()["version"],
        2,
        "failed patches write nothing"
    );

    // Plain application/json is accepted as a merge patch too.
    let reply = app
        .send_json(
            Method::PATCH,
            &path(&org),
            &json!({"description": "UCloud"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.json()["version"], 3);
}

#[actix_web::test]
async fn if_match_guards_patch_put_and_delete() {
    let app = spawn_app().await;
    let org = app
        .organization("Meituan (Shanghai)", "enterprise", None)
        .await;
    let p = path(&org);

    let reply = send_with(
        &app,
        Method::PATCH,
        &p,
        ("If-Match", "\"1\""),
        Some(&json!({"description": "Local services"})),
    )
    .await;
    assert_eq!(reply.expect(200).header("etag").as_deref(), Some("\"2\""));

    // The client still holding version 1 is refused.
    let stale = send_with(
        &app,
        Method::PATCH,
        &p,
        ("If-Match", "\"1\""),
        Some(&json!({"description": "Stale"})),
    )
    .await;
    assert_eq!(
        stale.header("etag").as_deref(),
        Some("\"2\""),
        "412 tells the current ETag"
    );
    stale.problem(412);
    let weak = send_with(
        &app,
        Method::PATCH,
        &p,
        ("If-Match", "W/\"2\""),
        Some(&json!({"description": "Weak"})),
    )
    .await;
    weak.problem(412);
    let replace = json!({"name": "Meituan Shanghai", "kind": "enterprise"});
    send_with(&app, Method::PUT, &p, ("If-Match", "\"1\""), Some(&replace))
        .await
        .problem(412);
    send_with(&app, Method::DELETE, &p, ("If-Match", "\"1\""), None)
        .await
        .problem(412);
    assert_eq!(app.get(&p).await.json()["description"], "Local services");

    send_with(
        &app,
        Method::PUT,
        &p,
        ("If-Match", "\"5\", \"2\""),
        Some(&replace),
    )
    .await
    .expect(200);
    send_with(
        &app,
        Method::PATCH,
        &p,
        ("If-Match", "*"),
        Some(&json!({"founding_date": "2010-03-04"})),
    )
    .await
    .expect(200);
    send_with(&app, Method::DELETE, &p, ("If-Match", "\"4\""), None)
        .await
        .expect(204);
}

#[actix_web::test]
async fn put_replaces_every_field() {
    let app = spawn_app().await;
    let org = app
        .create_organization(json!({
            "name": "Shanshan Data Science and Technology",
            "kind": "enterprise",
            "description": "Data",
            "other_names": [{"name": "杉杉数科"}]
        }))
        .await;
    let reply = app
        .put(
            &path(&org),
            &json!({"name": "Shanshan Data Technology", "kind": "enterprise"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));
    let replaced = reply.json();
    assert_eq!(replaced["name"], "Shanshan Data Technology");
    assert_eq!(
        replaced["description"],
        Value::Null,
        "omitted optional fields are cleared"
    );
    assert_eq!(replaced["other_names"], json!([]));
    assert_eq!(replaced["id"], org["id"]);

    let problem = app
        .put(&path(&org), &json!({"kind": "enterprise"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["name"]);
    let unknown = format!("/v1/organizations/{}", uuid::Uuid::now_v7());
    app.put(&unknown, &json!({"name": "x", "kind": "other"}))
        .await
        .problem(404);
    app.patch(&unknown, &json!({"name": "x"}))
        .await
        .problem(404);
    app.get(&unknown).await.problem(404);
    app.delete(&unknown).await.problem(404);
}

#[actix_web::test]
async fn delete_keeps_a_tombstone_and_hides_the_record() {
    let app = spawn_app().await;
    let org = app.organization("Shangti Health", "enterprise", None).await;
    app.delete(&path(&org)).await.expect(204);
    app.get(&path(&org)).await.problem(404);
    app.patch(&path(&org), &json!({"name": "x"}))
        .await
        .problem(404);
    app.put(&path(&org), &json!({"name": "x", "kind": "other"}))
        .await
        .problem(404);
    app.delete(&path(&org)).await.problem(404);
    let list = app.get("/v1/organizations").await.json();
    assert!(list["items"].as_array().unwrap().is_empty());

    // The row is still in the database, marked deleted, for later sync.
    use diesel::{sql_types::Text, QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT name, version FROM organizations WHERE deleted_at IS NOT NULL")
            .load(&mut app.db.connect())
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "Shangti Health");
    assert_eq!(rows[0].version, 2);
}

#[actix_web::test]
async fn deleting_an_organization_with_live_children_is_409_naming_them() {
    let app = spawn_app().await;
    let company = app.organization("Oujian Network", "enterprise", None).await;
    let committee = app
        .organization(
            "Party Committee of Oujian Network",
            "party_committee",
            Some(&company),
        )
        .await;
    let branch = app
        .organization(
            "Second Party Branch of Oujian Network",
            "party_branch",
            Some(&company),
        )
        .await;

    let problem = app.delete(&path(&company)).await.problem(409);
    let named: HashSet<&str> = problem["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        HashSet::from([
            committee["id"].as_str().unwrap(),
            branch["id"].as_str().unwrap()
        ])
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("Party Committee of Oujian Network"));
    app.get(&path(&company)).await.expect(200);

    app.delete(&path(&committee)).await.expect(204);
    app.patch(&path(&branch), &json!({"parent_id": null}))
        .await
        .expect(200);
    app.delete(&path(&company)).await.expect(204);
}

#[actix_web::test]
async fn parent_changes_cannot_create_cycles() {
    let app = spawn_app().await;
    let a = app.organization("A", "other", None).await;
    let b = app.organization("B", "other", Some(&a)).await;
    let c = app.organization("C", "other", Some(&b)).await;

    let problem = app
        .patch(&path(&a), &json!({"parent_id": c["id"]}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
    assert!(problem["detail"].as_str().unwrap().contains("cycle"));
    let problem = app
        .patch(&path(&a), &json!({"parent_id": a["id"]}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
    let problem = app
        .put(
            &path(&b),
            &json!({"name": "B", "kind": "other", "parent_id": c["id"]}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);

    // Moving within the tree without a cycle is fine.
    app.patch(&path(&c), &json!({"parent_id": a["id"]}))
        .await
        .expect(200);
    app.patch(&path(&b), &json!({"parent_id": c["id"]}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn concurrent_moves_cannot_together_create_a_cycle() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let a = app.organization("A", "other", None).await;
        let b = app.organization("B", "other", None).await;
        let (first, second) = futures_util::future::join(
            app.patch(&path(&a), &json!({"parent_id": b["id"]})),
            app.patch(&path(&b), &json!({"parent_id": a["id"]})),
        )
        .await;
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(statuses, [200, 422]);
    }
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("/v1/organizations?{query}"))
        .await
        .expect(200)
        .json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn lists_filter_by_kind_parent_search_and_update_time() {
    let app = spawn_app().await;
    let alliance = app
        .create_organization(json!({
            "name": "Digital Economy Party Building Alliance",
            "kind": "alliance",
            "other_names": [{"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}]
        }))
        .await;
    let bilibili = app
        .create_organization(json!({
            "name": "Bilibili",
            "kind": "enterprise",
            "other_names": [{"name": "哔哩哔哩", "lang": "zh"}]
        }))
        .await;
    app.organization("Party Branch of Bilibili", "party_branch", Some(&bilibili))
        .await;
    app.organization("Caida Science and Technology Park", "science_park", None)
        .await;
    app.organization("100% Digital_Co", "enterprise", None)
        .await;

    assert_eq!(
        names(&app, "kind=enterprise").await,
        ["100% Digital_Co", "Bilibili"]
    );
    let by_parent = format!("parent_id={}", bilibili["id"].as_str().unwrap());
    assert_eq!(names(&app, &by_parent).await, ["Party Branch of Bilibili"]);
    assert_eq!(
        names(&app, "q=BILIBILI").await,
        ["Bilibili", "Party Branch of Bilibili"]
    );
    assert_eq!(
        names(&app, "q=%E5%93%94%E5%93%A9").await,
        ["Bilibili"],
        "哔哩 finds the Chinese other name"
    );
    assert_eq!(
        names(&app, "q=%E6%95%B0%E5%AD%97%E7%BB%8F%E6%B5%8E").await,
        ["Digital Economy Party Building Alliance"],
        "数字经济"
    );
    assert_eq!(
        names(&app, "q=100%25").await,
        ["100% Digital_Co"],
        "% is literal"
    );
    assert_eq!(
        names(&app, "q=l_C").await,
        ["100% Digital_Co"],
        "_ is literal"
    );
    assert!(names(&app, "q=1_0").await.is_empty());
    assert_eq!(
        names(&app, "kind=science_park&q=caida").await,
        ["Caida Science and Technology Park"]
    );

    let before_update = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    app.patch(&path(&alliance), &json!({"founding_date": "2023-05-23"}))
        .await
        .expect(200);
    let since = before_update.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(
        names(&app, &format!("updated_since={since}")).await,
        ["Digital Economy Party Building Alliance"]
    );
    let with_offset = before_update
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        .replace('+', "%2B");
    assert_eq!(
        names(&app, &format!("updated_since={with_offset}"))
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn pagination_walks_every_record_once_in_order() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..23 {
        // Duplicate names make the id tie-breaker matter.
        let name = format!("Unit {:02}", i / 2);
        app.organization(&name, "enterprise", None).await;
        expected.push(name);
    }
    expected.sort();

    for (sort, reverse) in [
        ("name", false),
        ("-name", true),
        ("created_at", false),
        ("-created_at", true),
    ] {
        let mut seen = Vec::new();
        let mut ids = HashSet::new();
        let mut next = format!("/v1/organizations?sort={sort}&limit=5&kind=enterprise");
        let mut pages = 0;
        loop {
            let reply = app.get(&next).await.expect(200);
            let page = reply.json();
            pages += 1;
            for org in page["items"].as_array().unwrap() {
                assert!(
                    ids.insert(org["id"].as_str().unwrap().to_owned()),
                    "duplicate in {sort}"
                );
                seen.push(org.clone());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    let link = reply
                        .header("link")
                        .expect("Link header on every page but the last");
                    assert!(link.ends_with(">; rel=\"next\""), "{link}");
                    let target = &link[1..link.find('>').unwrap()];
                    assert!(target.contains(&format!("cursor={cursor}")));
                    assert!(target.contains("kind=enterprise") && target.contains("limit=5"));
                    next = target.to_owned();
                }
                None => {
                    assert!(reply.header("link").is_none());
                    break;
                }
            }
        }
        assert_eq!(pages, 5, "{sort}: 23 records in pages of 5");
        assert_eq!(seen.len(), 23, "{sort}: no gaps");
        if sort.ends_with("name") {
            let mut want = expected.clone();
            if reverse {
                want.reverse();
            }
            let got: Vec<_> = seen
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(got, want);
        } else {
            let mut times: Vec<_> = seen
                .iter()
                .map(|o| o["created_at"].as_str().unwrap().to_owned())
                .collect();
            let original = times.clone();
            times.sort();
            if reverse {
                times.reverse();
            }
            assert_eq!(original, times);
        }
    }

    // A cursor of one order is refused for another.
    let page = app.get("/v1/organizations?sort=name&limit=5").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let problem = app
        .get(&format!(
            "/v1/organizations?sort=created_at&cursor={cursor}"
        ))
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["cursor"]);
}

#[actix_web::test]
async fn pagination_has_no_gaps_when_records_change_between_pages() {
    let app = spawn_app().await;
    for name in ["A", "B", "C", "D", "E"] {
        app.organization(name, "other", None).await;
    }
    let first = app.get("/v1/organizations?limit=2").await.json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // A record inserted before the cursor position, one deleted after it.
    app.organization("AA", "other", None).await;
    let d = app.get("/v1/organizations?q=D").await.json()["items"][0].clone();
    app.delete(&path(&d)).await.expect(204);
    let second = app
        .get(&format!("/v1/organizations?limit=10&cursor={cursor}"))
        .await
        .json();
    let names: Vec<_> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["C", "E"]);
}

#[actix_web::test]
async fn children_lists_direct_live_children() {
    let app = spawn_app().await;
    let alliance = app.organization("Alliance", "alliance", None).await;
    let parks: Vec<Value> = futures_util::future::join_all(
        [
            "Tongji Science and Technology Park",
            "Caida Science and Technology Park",
            "Shangti Science and Technology Park",
        ]
        .map(|n| app.organization(n, "science_park", Some(&alliance))),
    )
    .await;
    app.organization("Branch of Tongji Park", "party_branch", Some(&parks[0]))
        .await;
    app.delete(&path(&parks[2])).await.expect(204);

    let page = app
        .get(&format!("{}/children?limit=1", path(&alliance)))
        .await
        .expect(200);
    assert!(page.header("link").is_some());
    let page = page.json();
    assert_eq!(
        page["items"][0]["name"],
        "Caida Science and Technology Park"
    );
    let rest = app
        .get(&format!(
            "{}/children?cursor={}",
            path(&alliance),
            page["next_cursor"].as_str().unwrap()
        ))
        .await
        .json();
    let names: Vec<_> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Tongji Science and Technology Park"]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let gone = format!("{}/children", path(&parks[2]));
    app.get(&gone).await.problem(404);
}
