//! Areas: the places bodies serve, in a tree, created, read, changed,
//! upserted, listed and deleted like every record.

use crate::helpers::{column, id, spawn_app, Reply, TestApp};
use awc::http::Method;
use serde_json::{json, Value};

pub fn path(area: &Value) -> String {
    format!("/v1/areas/{}", id(area))
}

/// Creates an area named `name` of `classification` inside `parent`.
pub async fn area(
    app: &TestApp,
    name: &str,
    classification: &str,
    parent: Option<&Value>,
) -> Value {
    app.post(
        "/v1/areas",
        &json!({
            "name": name,
            "classification": classification,
            "parent_id": parent.map(|p| p["id"].clone()),
        }),
    )
    .await
    .expect(201)
    .json()
}

#[actix_web::test]
async fn areas_are_created_read_replaced_patched_and_deleted() {
    let app = spawn_app().await;
    let shanghai = area(&app, "Shanghai", "city", None).await;
    let created = app
        .post(
            "/v1/areas",
            &json!({
                "name": "Yangpu District",
                "classification": "district",
                "parent_id": id(&shanghai),
                "other_names": [{"name": "杨浦区", "lang": "zh"}],
                "links": [{"url": "https://www.shyp.gov.cn/", "note": "district government website"}],
            }),
        )
        .await
        .expect(201);
    let yangpu = created.json();
    assert_eq!(created.header("location").unwrap(), path(&yangpu));
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(yangpu["parent_id"], shanghai["id"]);
    assert_eq!(yangpu["links"][0]["note"], "district government website");
    assert_eq!(yangpu["sources"], json!([]));
    assert_eq!(yangpu["identifiers"], json!([]));
    assert_eq!(app.get(&path(&yangpu)).await.expect(200).json(), yangpu);

    let patched = app
        .patch(
            &path(&yangpu),
            &json!({"sources": [{"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html"}], "links": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["links"], json!([]));
    assert_eq!(
        patched["other_names"], yangpu["other_names"],
        "absent members stay"
    );

    let replaced = app
        .put(&path(&yangpu), &json!({"name": "Yangpu District"}))
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["version"], 3);
    assert_eq!(
        replaced["classification"],
        Value::Null,
        "omitted fields are cleared"
    );
    assert_eq!(replaced["parent_id"], Value::Null);

    let stale = app
        .send(
            app.request(Method::DELETE, &path(&yangpu))
                .insert_header(("If-Match", "\"2\"")),
            None,
        )
        .await;
    stale.problem(412);
    app.delete(&path(&yangpu)).await.expect(204);
    app.get(&path(&yangpu)).await.problem(404);
    let tombstones = app
        .get("/v1/areas?include_deleted=true")
        .await
        .expect(200)
        .json();
    assert_eq!(column(&tombstones, "name"), ["Shanghai", "Yangpu District"]);
}

#[actix_web::test]
async fn an_area_at_fault_is_a_422_naming_every_field() {
    let app = spawn_app().await;
    let problem = app
        .post(
            "/v1/areas",
            &json!({
                "name": " ",
                "classification": "x".repeat(201),
                "parent_id": "not a reference",
                "links": [{"url": "ftp://example.org/"}],
                "other_names": [{"name": "杨浦区", "lang": "??"}],
            }),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "classification",
            "links[0].url",
            "name",
            "other_names[0].lang",
            "parent_id"
        ]
    );
    let problem = app
        .post(
            "/v1/areas",
            &json!({"name": "Yangpu District", "parent_id": uuid::Uuid::now_v7()}),
        )
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["parent_id"]);
}

#[actix_web::test]
async fn an_area_is_upserted_by_its_identifier() {
    let app = spawn_app().await;
    let upsert = "/v1/areas/by-identifier?scheme=yangpu-alliance&value=area-yangpu";
    let body = json!({"name": "Yangpu District", "classification": "district"});
    let created = app.put(upsert, &body).await.expect(201).json();
    assert_eq!(
        created["identifiers"],
        json!([{"scheme": "yangpu-alliance", "value": "area-yangpu"}])
    );
    let again = app.put(upsert, &body).await.expect(200);
    assert_eq!(
        again.header("etag").as_deref(),
        Some("\"1\""),
        "nothing changed"
    );
    let by_identifier = app
        .get("/v1/areas/yangpu-alliance:area-yangpu")
        .await
        .expect(200)
        .json();
    assert_eq!(by_identifier["id"], created["id"]);

    // Another area may not take the identifier.
    let problem = app
        .post(
            "/v1/areas",
            &json!({"name": "Hongkou District", "identifiers": [{"scheme": "yangpu-alliance", "value": "area-yangpu"}]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["conflicts"][0]["id"], created["id"]);
}

#[actix_web::test]
async fn the_area_tree_refuses_cycles() {
    let app = spawn_app().await;
    let shanghai = area(&app, "Shanghai", "city", None).await;
    let yangpu = area(&app, "Yangpu District", "district", Some(&shanghai)).await;
    let wujiaochang = area(&app, "Wujiaochang Subdistrict", "street", Some(&yangpu)).await;

    for parent in [&wujiaochang, &shanghai] {
        let problem = app
            .patch(&path(&shanghai), &json!({"parent_id": id(parent)}))
            .await
            .problem(422);
        assert_eq!(Reply::fields(&problem), ["parent_id"]);
    }
    // A move that keeps the tree a tree is fine.
    let moved = app
        .patch(&path(&wujiaochang), &json!({"parent_id": id(&shanghai)}))
        .await
        .expect(200)
        .json();
    assert_eq!(moved["parent_id"], shanghai["id"]);
}

#[actix_web::test]
async fn areas_are_listed_by_classification_parent_and_name() {
    let app = spawn_app().await;
    let shanghai = area(&app, "Shanghai", "city", None).await;
    let yangpu = app
        .post(
            "/v1/areas",
            &json!({"name": "Yangpu District", "classification": "district", "parent_id": id(&shanghai),
                    "other_names": [{"name": "杨浦区", "lang": "zh"}]}),
        )
        .await
        .expect(201)
        .json();
    area(&app, "Hongkou District", "district", Some(&shanghai)).await;
    area(&app, "Wujiaochang Subdistrict", "street", Some(&yangpu)).await;

    let names = |page: Value| column(&page, "name");
    let districts = app
        .get("/v1/areas?classification=district")
        .await
        .expect(200)
        .json();
    assert_eq!(names(districts), ["Hongkou District", "Yangpu District"]);
    let children = app
        .get(&format!("/v1/areas?parent_id={}&sort=-name", id(&shanghai)))
        .await
        .expect(200)
        .json();
    assert_eq!(names(children), ["Yangpu District", "Hongkou District"]);
    let found = app
        .get("/v1/areas?q=%E6%9D%A8%E6%B5%A6")
        .await
        .expect(200)
        .json(); // q=杨浦
    assert_eq!(names(found), ["Yangpu District"]);
    let paged = app.get("/v1/areas?limit=3").await.expect(200).json();
    let cursor = paged["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/areas?limit=3&cursor={cursor}"))
        .await
        .expect(200)
        .json();
    assert_eq!(names(rest), ["Yangpu District"]);
    app.get("/v1/areas?classification=").await.problem(400);
}

#[actix_web::test]
async fn an_area_is_not_deleted_while_live_areas_organizations_or_posts_refer_to_it() {
    let app = spawn_app().await;
    let shanghai = area(&app, "Shanghai", "city", None).await;
    let yangpu = area(&app, "Yangpu District", "district", Some(&shanghai)).await;
    let committee = app
        .organization("Yangpu District Party Committee", "party_committee", None)
        .await;
    app.patch(
        &format!("/v1/organizations/{}", id(&committee)),
        &json!({"area_id": id(&yangpu)}),
    )
    .await
    .expect(200);
    let post = app
        .post(
            "/v1/posts",
            &json!({"label": "Secretary of the Yangpu District Party Committee", "role": "secretary",
                    "organization_id": id(&committee), "area_id": id(&yangpu)}),
        )
        .await
        .expect(201)
        .json();

    let problem = app.delete(&path(&shanghai)).await.problem(409);
    assert_eq!(problem["conflicts"][0]["id"], yangpu["id"]);
    let problem = app.delete(&path(&yangpu)).await.problem(409);
    let mut blocking: Vec<(String, String)> = problem["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["entity_type"].as_str().unwrap().into(),
                c["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    blocking.sort();
    assert_eq!(
        blocking,
        [
            ("organization".to_owned(), id(&committee).to_owned()),
            ("post".to_owned(), id(&post).to_owned()),
        ]
    );

    app.delete(&format!("/v1/posts/{}", id(&post)))
        .await
        .expect(204);
    app.delete(&format!("/v1/organizations/{}", id(&committee)))
        .await
        .expect(204);
    app.delete(&path(&yangpu)).await.expect(204);
    app.delete(&path(&shanghai)).await.expect(204);
}
