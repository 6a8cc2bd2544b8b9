//! Status codes of requests the API cannot take, all as problem documents.

use crate::helpers::{spawn_app, spawn_app_with, Reply};
use awc::http::Method;
use serde_json::json;

#[actix_web::test]
async fn malformed_json_is_400_with_serdes_message() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.request(Method::POST, "/v1/organizations"),
            Some(("application/json", b"{\"name\": \"x\",".to_vec())),
        )
        .await;
    let problem = reply.problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("malformed JSON: EOF while parsing"),
        "{detail}"
    );

    let trailing = app
        .send(
            app.request(Method::POST, "/v1/organizations"),
            Some((
                "application/json",
                br#"{"name": "x", "kind": "other"} trailing"#.to_vec(),
            )),
        )
        .await;
    trailing.problem(400);
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    for content_type in ["text/plain", "application/xml"] {
        let reply = app
            .send(
                app.request(Method::POST, "/v1/organizations"),
                Some((content_type, br#"{"name":"x","kind":"other"}"#.to_vec())),
            )
            .await;
        reply.problem(415);
    }
    let missing = app
        .send(app.request(Method::POST, "/v1/organizations"), None)
        .await;
    missing.problem(415);
    let encoded = app
        .send(
            app.request(Method::POST, "/v1/organizations")
                .insert_header(("Content-Encoding", "gzip")),
            Some((
                "application/json",
                br#"{"name":"x","kind":"other"}"#.to_vec(),
            )),
        )
        .await;
    encoded.problem(415);
}

#[actix_web::test]
async fn body_over_the_limit_is_413_and_nothing_is_written() {
    let app = spawn_app_with(|s| s.max_body_bytes = 2_048).await;
    let body = json!({"name": "Big", "kind": "other", "description": "x".repeat(4_000)});
    app.post("/v1/organizations", &body).await.problem(413);
    let list = app.get("/v1/organizations").await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    // Just under the limit is fine.
    let body = json!({"name": "Small", "kind": "other", "description": "x".repeat(1_500)});
    app.post("/v1/organizations", &body).await.expect(201);
}

#[actix_web::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    let problem = app.get("/v1/nothing-here").await.problem(404);
    assert_eq!(problem["type"], "/problems/not-found");

    let reply = app.delete("/v1/organizations").await;
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD, POST"));
    reply.problem(405);
}

#[actix_web::test]
async fn bad_ids_parameters_and_headers_are_400_naming_the_culprit() {
    let app = spawn_app().await;
    let problem = app.get("/v1/organizations/not-a-uuid").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["id"]);

    let problem = app.get("/v1/organizations?limit=abc").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["limit"]);
    let problem = app.get("/v1/organizations?limit=501").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["limit"]);
    let problem = app.get("/v1/organizations?kind=planet").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["kind"]);
    let problem = app.get("/v1/organizations?colour=red").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["colour"]);
    let problem = app
        .get("/v1/organizations?updated_since=yesterday")
        .await
        .problem(400);
    assert_eq!(Reply::fields(&problem), ["updated_since"]);
    let problem = app.get("/v1/organizations?cursor=bogus").await.problem(400);
    assert_eq!(Reply::fields(&problem), ["cursor"]);

    let org = app
        .organization("Caida Science Park", "science_park", None)
        .await;
    let reply = app
        .send(
            app.request(
                Method::DELETE,
                &format!("/v1/organizations/{}", org["id"].as_str().unwrap()),
            )
            .insert_header(("If-Match", "not an etag")),
            None,
        )
        .await;
    let problem = reply.problem(400);
    assert_eq!(Reply::fields(&problem), ["If-Match"]);
}
