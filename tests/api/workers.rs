//! Blocking threads are per worker: a worker whose threads all wait (on a
//! lock, a slow statement, an import being parsed) must not stall the
//! requests it accepted while the pool has connections to spare.

use crate::helpers::{spawn_app_with, TestApp};
use diesel::RunQueryDsl;
use serde_json::json;
use std::time::{Duration, Instant};

/// A GET on a fresh TCP connection (so the server's workers take turns).
async fn fresh_get(app: &TestApp, path: &str) -> (u16, Duration) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let started = Instant::now();
    let status = client
        .get(app.url(path))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (status, started.elapsed())
}

#[actix_web::test]
async fn one_waiting_write_does_not_stall_a_worker_while_connections_are_free() {
    // Two workers, two connections: one blocking thread per worker.
    let app = spawn_app_with(|s| {
        s.http_workers = 2;
        s.db_pool_size = 2;
        s.key_cache_ttl = Duration::ZERO;
    })
    .await;
    let person = app.person("Wang Wei").await;
    for _ in 0..4 {
        fresh_get(&app, "/v1/organizations").await;
    }
    // The person's row is locked elsewhere for 2 s: a change of it waits.
    let mut holder = app.db.connect();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query(format!(
        "SELECT 1 FROM people WHERE id = '{}' FOR UPDATE",
        crate::helpers::id(&person)
    ))
    .execute(&mut holder)
    .unwrap();
    let person_path = format!("/v1/people/{}", crate::helpers::id(&person));
    let rename = json!({"name": "Wang Wei 2"});
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let waiting = client
        .patch(app.url(&person_path))
        .bearer_auth(&app.token)
        .insert_header(("content-type", "application/merge-patch+json"))
        .send_body(rename.to_string());
    let reads = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        futures_util::future::join_all((0..4).map(|_| fresh_get(&app, "/v1/organizations"))).await
    };
    let release = async {
        actix_web::rt::time::sleep(Duration::from_millis(2_500)).await;
        diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    };
    let (patched, answers, ()) = futures_util::future::join3(waiting, reads, release).await;
    assert_eq!(patched.unwrap().status().as_u16(), 200);
    assert!(
        answers
            .iter()
            .all(|(status, took)| *status == 200 && *took < Duration::from_millis(1_000)),
        "reads while one write waited, with a connection free: {answers:?}"
    );
}
