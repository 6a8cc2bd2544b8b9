//! What an operator watches: the metrics server and the access log.

use crate::helpers::{id, spawn_app_with};
use diesel::RunQueryDsl;
use serde_json::json;

/// The value of the sample `series` (name and labels, exactly) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[actix_web::test]
async fn the_metrics_server_counts_requests_by_route_template_and_reports_pool_feed_and_build() {
    let app = spawn_app_with(|s| s.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let person = app.person("Zhou Haiying").await;
    for _ in 0..2 {
        app.get(&format!("/v1/people/{}", id(&person)))
            .await
            .expect(200);
    }
    app.get("/v1/people/not-a-uuid").await.problem(400);
    app.get("/v1/nothing/here").await.problem(404);

    // The creation is the feed's head once it settles: once no older
    // transaction is in flight anywhere on the (shared) test server.
    let mut text = app.scrape().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sample(&text, "alliance_registry_feed_head") == Some(0.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the feed head stays 0"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        text = app.scrape().await;
    }
    let count = |route: &str, method: &str, status: u16| {
        sample(
            &text,
            &format!(
                r#"alliance_registry_http_requests_total{{route="{route}",method="{method}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(count("/v1/people/{id}", "GET", 200), Some(2.0), "{text}");
    assert_eq!(count("/v1/people/{id}", "GET", 400), Some(1.0), "{text}");
    assert_eq!(count("/v1/people", "POST", 201), Some(1.0), "{text}");
    assert_eq!(count("unmatched", "GET", 404), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"alliance_registry_http_request_duration_seconds_count{route="/v1/people/{id}",method="GET"}"#
        ),
        Some(3.0)
    );
    assert!(
        !text.contains(id(&person)) && !text.contains("not-a-uuid") && !text.contains("nothing"),
        "paths are labelled by their template only: {text}"
    );
    assert_eq!(
        sample(&text, "alliance_registry_db_pool_max_connections"),
        Some(4.0)
    );
    assert!(sample(&text, "alliance_registry_db_pool_connections").unwrap() >= 1.0);
    assert!(sample(&text, "alliance_registry_db_pool_connections_in_use").is_some());
    assert!(sample(&text, "alliance_registry_db_pool_checkout_seconds_count").unwrap() >= 3.0);
    assert_eq!(
        sample(&text, "alliance_registry_db_pool_timeouts_total"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "alliance_registry_database_up"), Some(1.0));
    assert!(text.contains(&format!(
        r#"alliance_registry_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    )));

    // The API's own port does not serve the metrics.
    app.get("/metrics").await.problem(404);
}

#[actix_web::test]
async fn without_metrics_addr_no_metrics_server_runs() {
    let app = spawn_app_with(|_| {}).await;
    assert!(app.metrics_url.is_none());
}

#[actix_web::test]
async fn a_rate_limit_is_one_allowance_per_key_across_instances_on_one_database() {
    let first = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    let mut settings = crate::helpers::test_settings(&first.db.url);
    settings.rate_limit_per_minute = 3;
    let second = alliance_registry::app::Application::build(&settings).unwrap();
    let second_url = format!("http://127.0.0.1:{}/v1/people", second.port());
    actix_web::rt::spawn(second.run_until_stopped());
    let on_second = || async {
        first
            .client
            .get(second_url.as_str())
            .bearer_auth(&first.token)
            .send()
            .await
            .unwrap()
    };

    first.get("/v1/people").await.expect(200);
    first.get("/v1/people").await.expect(200);
    assert_eq!(on_second().await.status().as_u16(), 200);
    let refused = on_second().await;
    assert_eq!(refused.status().as_u16(), 429);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry_after),
        "one request returns every 20 s"
    );
    first.get("/v1/people").await.problem(429);
    first
        .post("/v1/people", &json!({"name": "Over the limit"}))
        .await
        .problem(429);

    // A refusal writes nothing: a flood of refused requests costs the
    // database reads, not a transaction id (and a commit) each.
    let version = || {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            xmax: String,
        }
        diesel::sql_query("SELECT xmax::text AS xmax FROM rate_limits")
            .get_result::<Row>(&mut first.db.connect())
            .unwrap()
            .xmax
    };
    let before = version();
    for _ in 0..3 {
        first.get("/v1/people").await.problem(429);
    }
    assert_eq!(version(), before);
}

#[actix_web::test]
async fn a_scrape_reads_the_database_on_its_own_connection_so_a_busy_pool_is_not_a_down_database() {
    let app = spawn_app_with(|s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.db_pool_size = 1;
    })
    .await;
    let held = app.pool.get().expect("the requests' only connection");
    let started = std::time::Instant::now();
    let text = app.scrape().await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        sample(&text, "alliance_registry_database_up"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "alliance_registry_db_pool_connections_in_use"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "alliance_registry_db_pool_timeouts_total"),
        Some(0.0)
    );
    drop(held);
}
