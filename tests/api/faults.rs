//! Faults of the database server, on private clusters the tests stop and
//! start (see `private_cluster`).

use crate::helpers::{id, spawn_app_on, TestApp, TestDatabase};
use crate::private_cluster::{PrivateCluster, StopMode};
use alliance_registry::db::migrate;
use serde_json::json;
use std::time::{Duration, Instant};

/// The app on a migrated database of `cluster`.
async fn app_on(cluster: &PrivateCluster) -> TestApp {
    let db = TestDatabase::not_created_on(&cluster.url("postgres"));
    migrate::prepare_database(&db.url).expect("the private cluster migrates");
    spawn_app_on(db, |s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await
}

#[actix_web::test]
async fn while_the_database_server_is_stopped_requests_get_503_with_retry_after_and_service_resumes_without_a_restart(
) {
    let cluster = PrivateCluster::start();
    let app = app_on(&cluster).await;
    let before = app
        .organization("Before the outage", "alliance", None)
        .await;
    let path = format!("/v1/organizations/{}", id(&before));

    cluster.stop(StopMode::Fast);
    let started = Instant::now();
    for reply in [
        app.get("/health/ready").await,
        app.get("/v1/organizations").await,
        app.get(&path).await,
        app.post(
            "/v1/organizations",
            &json!({"name": "During the outage", "kind": "alliance"}),
        )
        .await,
    ] {
        assert!(reply.header("retry-after").is_some(), "{reply:?}");
        assert_eq!(reply.problem(503)["type"], "/problems/unavailable");
    }
    // Each within the pool's timeout (1 s in tests), plus slack.
    assert!(started.elapsed() < Duration::from_secs(20));
    app.get("/health/live").await.expect(200);
    let metrics = app.scrape().await;
    assert!(metrics
        .lines()
        .any(|l| l == "alliance_registry_database_up 0"));
    let timeouts: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("alliance_registry_db_pool_timeouts_total "))
        .and_then(|n| n.parse().ok())
        .expect("pool timeouts are counted");
    assert!(timeouts >= 1.0, "{metrics}");
    assert!(
        metrics.contains(r#"alliance_registry_database_errors_total{kind="connection"}"#),
        "{metrics}"
    );

    cluster.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/health/ready").await.status != 200 {
        assert!(Instant::now() < deadline, "no recovery after the restart");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    app.get(&path).await.expect(200);
    app.post(
        "/v1/organizations",
        &json!({"name": "After the outage", "kind": "alliance"}),
    )
    .await
    .expect(201);
    let names: Vec<String> = app
        .all_items("/v1/organizations")
        .await
        .iter()
        .map(|org| org["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Before the outage".to_owned()));
    assert!(names.contains(&"After the outage".to_owned()));
    let metrics = app.scrape().await;
    assert!(metrics
        .lines()
        .any(|l| l == "alliance_registry_database_up 1"));
}
