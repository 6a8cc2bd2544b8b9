//! Posts: positions in an organization, optionally for an area, over
//! partial dates, and who holds them.

use crate::areas::area;
use crate::helpers::{column, id, spawn_app, Reply, TestApp};
use serde_json::{json, Value};

const DIRECTOR: &str =
    "Director of the Organization Department of the Yangpu District Party Committee";

fn path(post: &Value) -> String {
    format!("/v1/posts/{}", id(post))
}

/// The department a post of the seed is in.
async fn department(app: &TestApp) -> Value {
    app.organization(
        "Organization Department of the Yangpu District Party Committee",
        "party_department",
        None,
    )
    .await
}

/// Creates a post from `body`.
async fn post(app: &TestApp, body: Value) -> Value {
    app.post("/v1/posts", &body).await.expect(201).json()
}

#[actix_web::test]
async fn posts_are_created_read_replaced_patched_and_deleted() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let yangpu = area(&app, "Yangpu District", "district", None).await;
    let created = app
        .post(
            "/v1/posts",
            &json!({
                "label": DIRECTOR,
                "role": "director",
                "organization_id": id(&department),
                "area_id": id(&yangpu),
                "start_date": "1950",
                "other_labels": [{"name": "杨浦区委组织部部长", "lang": "zh"}],
                "contact_details": [{"type": "phone", "value": "+86 21 2503 3000"}],
                "links": [{"url": "https://www.shyp.gov.cn/"}],
            }),
        )
        .await
        .expect(201);
    let director = created.json();
    assert_eq!(created.header("location").unwrap(), path(&director));
    assert_eq!(director["organization_id"], department["id"]);
    assert_eq!(director["area_id"], yangpu["id"]);
    assert_eq!(
        director["start_date"], "1950",
        "a partial date is kept as written"
    );
    assert_eq!(director["end_date"], Value::Null);
    assert_eq!(app.get(&path(&director)).await.expect(200).json(), director);

    let patched = app
        .patch(
            &path(&director),
            &json!({"end_date": "2025-12", "area_id": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["end_date"], "2025-12");
    assert_eq!(patched["area_id"], Value::Null);
    assert_eq!(patched["other_labels"], director["other_labels"]);

    let replaced = app
        .put(
            &path(&director),
            &json!({"label": DIRECTOR, "organization_id": id(&department)}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["version"], 3);
    assert_eq!(replaced["role"], Value::Null, "omitted fields are cleared");
    assert_eq!(replaced["contact_details"], json!([]));

    app.delete(&path(&director)).await.expect(204);
    app.get(&path(&director)).await.problem(404);
}

#[actix_web::test]
async fn a_post_names_a_live_organization_and_area() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let missing = uuid::Uuid::now_v7();

    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": DIRECTOR, "organization_id": missing}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["organization_id"]);
    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": DIRECTOR, "organization_id": "yangpu-alliance:nobody", "area_id": "yangpu-alliance:nowhere"}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["area_id", "organization_id"]);
    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": DIRECTOR, "organization_id": id(&department), "area_id": missing}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["area_id"]);

    // Every field at fault, in one answer.
    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": "", "role": "r".repeat(101), "start_date": "2023-13",
                    "end_date": "23", "links": [{"url": "not a url"}]}),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "end_date",
            "label",
            "links[0].url",
            "organization_id",
            "role",
            "start_date"
        ]
    );
    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": DIRECTOR, "organization_id": id(&department),
                    "other_labels": [{"name": "组织部部长", "start_date": "2020", "end_date": "2019-12"}]}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["other_labels[0].end_date"]);
}

#[actix_web::test]
async fn a_post_is_upserted_by_its_identifier() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let upsert = "/v1/posts/by-identifier?scheme=yangpu-alliance&value=post-director";
    let body = json!({"label": DIRECTOR, "role": "director", "organization_id": id(&department)});
    let created = app.put(upsert, &body).await.expect(201).json();
    let again = app.put(upsert, &body).await.expect(200);
    assert_eq!(
        again.header("etag").as_deref(),
        Some("\"1\""),
        "nothing changed"
    );
    assert_eq!(again.json()["id"], created["id"]);
    let replaced = app
        .put(
            upsert,
            &json!({"label": DIRECTOR, "organization_id": id(&department)}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["role"], Value::Null);
    let listed = app
        .get("/v1/posts?identifier=yangpu-alliance:post-director")
        .await
        .expect(200)
        .json();
    assert_eq!(column(&listed, "id"), [id(&created)]);
}

#[actix_web::test]
async fn a_post_exists_from_the_first_day_of_its_start_through_the_last_day_of_its_end() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let org = id(&department);
    post(
        &app,
        json!({"label": "Since 2020", "organization_id": org, "start_date": "2020"}),
    )
    .await;
    post(
        &app,
        json!({"label": "Until May 2020", "organization_id": org, "end_date": "2020-05"}),
    )
    .await;
    post(&app, json!({"label": "Always", "organization_id": org})).await;
    post(
        &app,
        json!({"label": "From June 2020", "organization_id": org, "start_date": "2020-06-02"}),
    )
    .await;

    let labels = |day: &str| {
        let app = &app;
        let day = day.to_owned();
        async move {
            let page = app
                .get(&format!("/v1/posts?active_on={day}"))
                .await
                .expect(200)
                .json();
            column(&page, "label")
        }
    };
    assert_eq!(labels("2020-06-01").await, ["Always", "Since 2020"]);
    assert_eq!(
        labels("2020-05-31").await,
        ["Always", "Since 2020", "Until May 2020"]
    );
    assert_eq!(labels("2019-12-31").await, ["Always", "Until May 2020"]);
    app.get("/v1/posts?active_on=2020-06").await.problem(400);

    // An end is read through its last day: "2020-05" ends no earlier than
    // 2020-05-31 starts, but before June does.
    post(&app, json!({"label": "One day", "organization_id": org, "start_date": "2020-05-31", "end_date": "2020-05"})).await;
    let problem = app
        .post(
            "/v1/posts",
            &json!({"label": "Backwards", "organization_id": org, "start_date": "2020-06", "end_date": "2020-05"}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["end_date"]);
}

#[actix_web::test]
async fn posts_are_listed_by_organization_area_role_and_label() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let committee = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    let yangpu = area(&app, "Yangpu District", "district", None).await;
    post(&app, json!({"label": DIRECTOR, "role": "director", "organization_id": id(&department),
                      "area_id": id(&yangpu), "other_labels": [{"name": "杨浦区委组织部部长", "lang": "zh"}]})).await;
    post(
        &app,
        json!({"label": "Deputy Director of the Organization Department", "role": "deputy director",
                      "organization_id": id(&department)}),
    )
    .await;
    post(
        &app,
        json!({"label": "Secretary of the Yangpu District Party Committee", "role": "secretary",
                      "organization_id": id(&committee), "area_id": id(&yangpu)}),
    )
    .await;

    let labels = |page: Value| column(&page, "label");
    let get = |query: String| {
        let app = &app;
        async move {
            app.get(&format!("/v1/posts?{query}"))
                .await
                .expect(200)
                .json()
        }
    };
    assert_eq!(
        labels(get(format!("organization_id={}", id(&department))).await),
        ["Deputy Director of the Organization Department", DIRECTOR]
    );
    assert_eq!(
        labels(get(format!("area_id={}&sort=-label", id(&yangpu))).await),
        ["Secretary of the Yangpu District Party Committee", DIRECTOR]
    );
    assert_eq!(labels(get("role=director".into()).await), [DIRECTOR]);
    assert_eq!(
        labels(get("q=%E7%BB%84%E7%BB%87%E9%83%A8".into()).await),
        [DIRECTOR]
    ); // q=组织部
    assert!(labels(get("area_id=yangpu-alliance:nowhere".into()).await).is_empty());
    let first = get("limit=2&sort=created_at".into()).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(
        labels(get(format!("limit=2&sort=created_at&cursor={cursor}")).await),
        ["Secretary of the Yangpu District Party Committee"]
    );
}

#[actix_web::test]
async fn the_holders_of_a_post_are_its_roles_with_who_holds_them() {
    let app = spawn_app().await;
    let department = department(&app).await;
    let director = post(
        &app,
        json!({"label": DIRECTOR, "role": "director", "organization_id": id(&department),
               "identifiers": [{"scheme": "yangpu-alliance", "value": "post-director"}]}),
    )
    .await;
    let before = app.person("Former Director").await;
    let jiang = app.person("Jiang Daorong").await;
    let ended = app
        .role(json!({"organization_id": id(&department), "person_id": id(&before), "title": "Director",
                     "start_date": "2016-01-01", "end_date": "2022-12-31"}))
        .await;
    let current = app
        .role(
            json!({"organization_id": id(&department), "person_id": id(&jiang), "title": "Director",
                     "start_date": "2023-01-01"}),
        )
        .await;
    app.role(
        json!({"organization_id": id(&department), "person_id": id(&jiang), "title": "Member"}),
    )
    .await;
    for role in [&ended, &current] {
        app.patch(
            &format!("/v1/roles/{}", id(role)),
            &json!({"post_id": id(&director)}),
        )
        .await
        .expect(200);
    }

    let holders = app
        .get(&format!("{}/holders", path(&director)))
        .await
        .expect(200)
        .json();
    let names: Vec<&str> = holders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["person"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Former Director", "Jiang Daorong"]);
    assert_eq!(holders["items"][0]["member_organization"], Value::Null);

    let on_the_day = app
        .get("/v1/posts/yangpu-alliance:post-director/holders?active_on=2023-05-23")
        .await
        .expect(200)
        .json();
    assert_eq!(on_the_day["items"].as_array().unwrap().len(), 1);
    assert_eq!(on_the_day["items"][0]["role"]["id"], current["id"]);
    assert_eq!(on_the_day["items"][0]["person"]["name"], "Jiang Daorong");

    app.get(&format!("/v1/posts/{}/holders", uuid::Uuid::now_v7()))
        .await
        .problem(404);
    app.get("/v1/posts/yangpu-alliance:nobody/holders")
        .await
        .problem(404);

    // A post is not deleted while live roles hold it.
    let problem = app.delete(&path(&director)).await.problem(409);
    let mut blocking: Vec<&str> = problem["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    blocking.sort();
    let mut held = vec![id(&ended), id(&current)];
    held.sort();
    assert_eq!(blocking, held);
}

#[actix_web::test]
async fn the_feed_carries_posts_and_areas_as_gets_show_them() {
    let app = spawn_app().await;
    let yangpu = area(&app, "Yangpu District", "district", None).await;
    let department = department(&app).await;
    let director = post(
        &app,
        json!({"label": DIRECTOR, "organization_id": id(&department), "area_id": id(&yangpu), "start_date": "2023-05"}),
    )
    .await;
    let patched = app
        .patch(&path(&director), &json!({"role": "director"}))
        .await
        .expect(200)
        .json();
    app.delete(&path(&director)).await.expect(204);

    let page = app
        .get("/v1/changes?types=post,area&limit=100")
        .await
        .expect(200)
        .json();
    let items = page["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|c| {
            (
                c["entity_type"].as_str().unwrap(),
                c["op"].as_str().unwrap(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("area", "created", 1),
            ("post", "created", 1),
            ("post", "updated", 2),
            ("post", "deleted", 3),
        ]
    );
    assert_eq!(items[0]["data"], yangpu);
    assert_eq!(items[1]["data"], director);
    assert_eq!(items[2]["data"], patched);
    assert_eq!(items[3]["data"], Value::Null);
    let audit = app
        .get(&format!(
            "/v1/audit?entity_type=post&entity_id={}",
            id(&director)
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 3);
}

/// Sends `body` as `content_type` to `POST /v1/imports`.
async fn import(app: &TestApp, content_type: &str, body: &[u8]) -> Reply {
    let request = app.request(awc::http::Method::POST, "/v1/imports");
    app.send(request, Some((content_type, body.to_vec()))).await
}

#[actix_web::test]
async fn posts_and_areas_are_imported_after_what_they_name_and_exported_importable() {
    let app = spawn_app().await;
    let s = "yangpu-alliance";
    let file = json!({
        "posts": [{"label": DIRECTOR, "role": "director",
                   "organization_id": format!("{s}:organization-department"),
                   "area_id": format!("{s}:area-yangpu"), "start_date": "2023",
                   "identifiers": [{"scheme": s, "value": "post-director"}]}],
        "areas": [
            {"name": "Yangpu District", "classification": "district", "parent_id": format!("{s}:area-shanghai"),
             "identifiers": [{"scheme": s, "value": "area-yangpu"}]},
            {"name": "Shanghai", "classification": "city",
             "identifiers": [{"scheme": s, "value": "area-shanghai"}]},
        ],
        "organizations": [{"name": "Organization Department of the Yangpu District Party Committee",
                           "kind": "party_department",
                           "identifiers": [{"scheme": s, "value": "organization-department"}]}],
    });
    let body = file.to_string().into_bytes();
    let report = import(&app, "application/json", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(
        report["counts"]["areas"],
        json!({"created": 2, "updated": 0, "unchanged": 0})
    );
    assert_eq!(
        report["counts"]["posts"],
        json!({"created": 1, "updated": 0, "unchanged": 0})
    );
    let director = app
        .get(&format!("/v1/posts/{s}:post-director"))
        .await
        .expect(200)
        .json();
    let yangpu = app
        .get(&format!("/v1/areas/{s}:area-yangpu"))
        .await
        .expect(200)
        .json();
    assert_eq!(director["area_id"], yangpu["id"]);
    let again = import(&app, "application/json", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(
        again["counts"]["areas"],
        json!({"created": 0, "updated": 0, "unchanged": 2})
    );
    assert_eq!(
        again["counts"]["posts"],
        json!({"created": 0, "updated": 0, "unchanged": 1})
    );

    // A post naming no live organization is named at its place in the file.
    let refused = json!({"posts": [{"label": DIRECTOR, "organization_id": format!("{s}:nobody")}]});
    let problem = import(&app, "application/json", refused.to_string().as_bytes())
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["posts[0].organization_id"]);

    // The register exports them parents first, by identifier, and an empty
    // register takes the export back as it is.
    let exported = app
        .get("/v1/exports/register")
        .await
        .expect(200)
        .body
        .clone();
    let lines: Vec<Value> = String::from_utf8(exported.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["area", "area", "organization", "post"]);
    assert_eq!(lines[1]["parent_id"], format!("{s}:area-shanghai"));
    assert_eq!(
        lines[3]["organization_id"],
        format!("{s}:organization-department")
    );
    assert_eq!(lines[3]["area_id"], format!("{s}:area-yangpu"));
    assert_eq!(lines[3]["start_date"], "2023");
    let posts = app.get("/v1/exports/posts").await.expect(200).body.clone();
    assert_eq!(posts, format!("{}\n", lines[3]).into_bytes());

    let empty = spawn_app().await;
    let report = import(&empty, "application/x-ndjson", &exported)
        .await
        .expect(201)
        .json();
    assert_eq!(report["counts"]["posts"]["created"], 1);
    let exported_again = empty
        .get("/v1/exports/register")
        .await
        .expect(200)
        .body
        .clone();
    assert_eq!(exported_again, exported);
}

#[actix_web::test]
async fn posts_and_areas_go_through_csv_and_come_back_the_same() {
    let app = spawn_app().await;
    let s = "yangpu-alliance";
    let areas = "name,classification,parent_id,identifier:yangpu-alliance,other_name:zh,link\r\n\
                 Shanghai,city,,area-shanghai,上海市,https://www.shanghai.gov.cn/\r\n\
                 Yangpu District,district,yangpu-alliance:area-shanghai,area-yangpu,杨浦区,\r\n";
    let report = app
        .send(
            app.request(awc::http::Method::POST, "/v1/imports?resource=areas"),
            Some(("text/csv", areas.as_bytes().to_vec())),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(report["counts"]["areas"]["created"], 2);
    let department = app
        .create_organization(json!({"name": "Organization Department", "kind": "party_department",
                                    "identifiers": [{"scheme": s, "value": "organization-department"}]}))
        .await;
    let posts = format!(
        "label,role,organization_id,area_id,start_date,identifier:{s},other_label:zh,contact:phone\r\n\
         {DIRECTOR},director,{s}:organization-department,{s}:area-yangpu,2023-05,post-director,杨浦区委组织部部长,+86 21 2503 3000\r\n"
    );
    app.send(
        app.request(awc::http::Method::POST, "/v1/imports?resource=posts"),
        Some(("text/csv", posts.into_bytes())),
    )
    .await
    .expect(201);
    let director = app
        .get(&format!("/v1/posts/{s}:post-director"))
        .await
        .expect(200)
        .json();
    assert_eq!(director["organization_id"], department["id"]);
    assert_eq!(director["start_date"], "2023-05");
    assert_eq!(
        director["other_labels"],
        json!([{"name": "杨浦区委组织部部长", "lang": "zh"}])
    );
    assert_eq!(director["contact_details"][0]["value"], "+86 21 2503 3000");

    let exported = app
        .get("/v1/exports/posts?format=csv")
        .await
        .expect(200)
        .body
        .clone();
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(
        text.starts_with("\u{feff}label,role,organization_id,area_id,start_date,end_date,identifier:yangpu-alliance,other_label:zh,contact:phone\r\n"),
        "{text}"
    );
    assert!(
        text.contains("'+86 21 2503 3000"),
        "a cell starting a formula is kept as text"
    );
    let areas_csv = app
        .get("/v1/exports/areas?format=csv")
        .await
        .expect(200)
        .body
        .clone();

    // Into an empty register: the areas, the organization, the posts.
    let empty = spawn_app().await;
    for (resource, body) in [("areas", areas_csv.clone()), ("posts", exported.clone())] {
        if resource == "posts" {
            empty
                .create_organization(json!({"name": "Organization Department", "kind": "party_department",
                                            "identifiers": [{"scheme": s, "value": "organization-department"}]}))
                .await;
        }
        empty
            .send(
                empty.request(
                    awc::http::Method::POST,
                    &format!("/v1/imports?resource={resource}"),
                ),
                Some(("text/csv", body)),
            )
            .await
            .expect(201);
    }
    assert_eq!(
        empty
            .get("/v1/exports/areas?format=csv")
            .await
            .expect(200)
            .body,
        areas_csv
    );
    assert_eq!(
        empty
            .get("/v1/exports/posts?format=csv")
            .await
            .expect(200)
            .body,
        exported
    );
}
