//! `alliance-registry generate`: the benchmark's synthetic register, at a
//! tiny scale, is served by the API like any other (no timing here).

use crate::helpers::{spawn_app_on, TestDatabase};
use std::process::Command;

fn generate(url: &str, people: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_alliance-registry"))
        .args(["generate", "--people", people, "--database-url", url])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[actix_web::test]
async fn a_generated_register_is_listed_read_and_fed() {
    let db = TestDatabase::migrated();
    let output = generate(&db.url, "200");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let url = db.url.clone();
    let app = spawn_app_on(db, |_| {}).await;

    let people = app.all_items("/v1/people?limit=500").await;
    assert_eq!(people.len(), 200);
    let person = &people[0];
    let name = person["name"].as_str().unwrap();
    assert!((2..=3).contains(&name.chars().count()), "{name}");
    assert_eq!(person["other_names"][0]["lang"], "en");
    let read = app
        .get(&format!("/v1/people/{}", person["id"].as_str().unwrap()))
        .await
        .expect(200)
        .json();
    assert_eq!(read["name"], person["name"]);
    assert!(!app.get("/v1/people/district-hr:HR-00000001").await.json()["id"].is_null());

    // The alliance, 2 units, a committee and 2 branches each; the first
    // branch holds N/10 members, all current.
    let organizations = app.all_items("/v1/organizations?limit=500").await;
    assert_eq!(organizations.len(), 9);
    let alliance = organizations
        .iter()
        .find(|o| o["kind"] == "alliance")
        .unwrap();
    let units = app
        .all_items(&format!(
            "/v1/roles?organization_id={}&embed=member_organization&limit=500",
            alliance["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(units.len(), 2);
    assert!(units
        .iter()
        .all(|r| r["member_organization"]["name"].is_string()));
    let branch = organizations
        .iter()
        .find(|o| o["kind"] == "party_branch" && o["name"].as_str().unwrap().contains("第一"))
        .unwrap();
    let branch_id = branch["id"].as_str().unwrap();
    let members = app
        .all_items(&format!(
            "/v1/organizations/{branch_id}/members?active_on=2025-06-01&limit=500"
        ))
        .await;
    assert!(members.len() >= 20, "{}", members.len());
    let active = app
        .all_items(&format!(
            "/v1/people?organization_id={branch_id}&active_on=2025-06-01&limit=500"
        ))
        .await;
    assert!(active.len() >= 20, "{}", active.len());

    // Roles with partial dates, some ended; posts held.
    let roles = app.all_items("/v1/roles?embed=person,post&limit=500").await;
    assert!(roles.len() > 200);
    assert!(roles.iter().any(|r| r["end_date"].is_string()));
    assert!(roles
        .iter()
        .any(|r| r["start_date"].as_str().is_some_and(|d| d.len() == 4)));
    assert!(roles.iter().any(|r| r["post"]["label"].is_string()));

    // Events all day, timed and undated, each with its participants.
    let events = app.all_items("/v1/events?limit=500").await;
    assert_eq!(events.len(), 4);
    assert!(events.iter().any(|e| e["status"] == "recurring"));
    let event = app
        .get(&format!(
            "/v1/events/{}?embed=participants",
            events[0]["id"].as_str().unwrap()
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(event["participants"].as_array().unwrap().len(), 21);

    // Every generated record is in the change feed.
    let feed = app.all_items("/v1/changes?limit=1000").await;
    let people_fed = feed.iter().filter(|c| c["entity_type"] == "person").count();
    assert_eq!(people_fed, 200);
    assert!(feed.len() > 200 + roles.len());

    // Generating again into the same register is refused.
    let again = generate(&url, "200");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds people"));
}
