use crate::helpers::{spawn_app, spawn_app_with};
use awc::http::Method;
use std::time::{Duration, Instant};

#[actix_web::test]
async fn liveness_and_readiness_answer_ok() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let reply = app.get(path).await.expect(200);
        assert_eq!(reply.json()["status"], "ok");
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    }
}

#[actix_web::test]
async fn probes_are_open_as_documented_and_refuse_a_target_that_is_not_utf8() {
    let doc: serde_json::Value =
        serde_json::from_str(&alliance_registry::api::openapi_json()).unwrap();
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let operation = &doc["paths"][path]["get"];
        assert_eq!(operation["security"], serde_json::json!([]), "{path}");
        assert!(operation["responses"]["400"].is_object(), "{path}");
        let open = app.request_as(Method::GET, path, None);
        assert_eq!(app.send(open, None).await.status, 200, "{path}");
        let problem = app.get(&format!("{path}?probe=%FF")).await.problem(400);
        assert_eq!(problem["errors"][0]["field"], "query", "{path}");
    }
}

#[actix_web::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.get("/health/ready").await.expect(200);
    app.db.drop_now();
    let started = Instant::now();
    let problem = app.get("/health/ready").await.problem(503);
    assert_eq!(problem["type"], "/problems/unavailable");
    // Within the configured pool timeout (1 s in tests), plus slack.
    assert!(started.elapsed() < Duration::from_secs(10));
    // The process itself is still live.
    app.get("/health/live").await.expect(200);
}

#[actix_web::test]
async fn a_request_waits_for_a_pooled_connection_up_to_the_timeout_then_gets_503_with_retry_after()
{
    let timeout = Duration::from_millis(1_000);
    let app = spawn_app_with(|s| {
        s.db_pool_size = 1;
        s.db_connect_timeout = timeout;
    })
    .await;

    // A connection freed within the timeout serves the waiting request.
    let held = app.pool.get().expect("the only connection");
    let waiting = app.get("/v1/organizations");
    let free = async {
        actix_web::rt::time::sleep(timeout / 4).await;
        drop(held);
    };
    let (reply, ()) = futures_util::future::join(waiting, free).await;
    reply.expect(200);

    // One not freed within it: a 503 after the timeout.
    let held = app.pool.get().expect("the only connection");
    let started = Instant::now();
    let reply = app.get("/v1/organizations").await;
    let waited = started.elapsed();
    assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
    assert_eq!(reply.problem(503)["type"], "/problems/unavailable");
    assert!(
        waited >= timeout,
        "answered after {waited:?}, before the timeout"
    );
    assert!(waited < timeout * 10, "answered after {waited:?}");
    app.get("/health/ready").await.problem(503);

    // Healthy again once it is free.
    drop(held);
    app.get("/health/ready").await.expect(200);
    app.get("/v1/organizations").await.expect(200);
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.request(Method::GET, "/health/live")
                .insert_header(("X-Request-Id", "sync-job-42")),
            None,
        )
        .await;
    assert_eq!(reply.header("x-request-id").as_deref(), Some("sync-job-42"));

    let first = app
        .get("/health/live")
        .await
        .header("x-request-id")
        .unwrap();
    let second = app
        .get("/health/live")
        .await
        .header("x-request-id")
        .unwrap();
    assert_ne!(first, second);
    assert!(uuid::Uuid::parse_str(&first).is_ok());

    // Unusable ids (here: too long) are replaced, not echoed.
    let reply = app
        .send(
            app.request(Method::GET, "/health/live")
                .insert_header(("X-Request-Id", "x".repeat(300))),
            None,
        )
        .await;
    assert!(uuid::Uuid::parse_str(&reply.header("x-request-id").unwrap()).is_ok());
}

#[actix_web::test]
async fn responses_carry_nosniff_and_no_server_banner() {
    let app = spawn_app().await;
    let reply = app.get("/v1/organizations").await.expect(200);
    assert_eq!(
        reply.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(reply.header("server").is_none());
}
