use crate::helpers::{column, id, spawn_app, Reply, TestDatabase};
use alliance_registry::store::people::{self, PersonFilter};
use alliance_registry::store::{Keyset, NameSort};
use awc::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

fn path(person: &Value) -> String {
    format!("/v1/people/{}", id(person))
}

#[actix_web::test]
async fn people_follow_the_resource_pattern() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/v1/people",
            &json!({
                "name": " Xu Shujie ",
                "given_name": "Shujie",
                "family_name": "Xu",
                "other_names": [{"name": "徐树杰", "lang": "zh"}],
                "email": " xu.shujie@example.gov.cn ",
                "image_url": "https://example.org/xu.jpg",
                "birth_date": "1970-01-01",
                "phone": "+86 21 0000 0000"
            }),
        )
        .await
        .expect(201);
    assert_eq!(reply.header("etag").as_deref(), Some("\"1\""));
    let person = reply.json();
    assert_eq!(reply.header("location").unwrap(), path(&person));
    assert_eq!(person["name"], "Xu Shujie");
    assert_eq!(person["email"], "xu.shujie@example.gov.cn");
    assert_eq!(person["gender"], Value::Null);

    let got = app.get(&path(&person)).await.expect(200);
    assert_eq!(got.json(), person);
    let not_modified = app
        .send(
            app.request(Method::GET, &path(&person))
                .insert_header(("If-None-Match", "\"1\"")),
            None,
        )
        .await;
    assert_eq!(not_modified.status, 304);

    let patched = app
        .patch(&path(&person), &json!({"phone": null, "biography": "Deputy Secretary of the Municipal Social Work Party Committee"}))
        .await
        .expect(200)
        .json();
    assert_eq!(patched["phone"], Value::Null);
    assert_eq!(patched["email"], person["email"]);
    assert_eq!(patched["version"], 2);
    app.send(
        app.request(Method::PATCH, &path(&person))
            .insert_header(("If-Match", "\"1\"")),
        Some((
            "application/merge-patch+json",
            br#"{"gender": "male"}"#.to_vec(),
        )),
    )
    .await
    .problem(412);

    let replaced = app
        .put(&path(&person), &json!({"name": "Xu Shujie"}))
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["email"], Value::Null, "PUT clears omitted fields");
    assert_eq!(replaced["other_names"], json!([]));

    app.delete(&path(&person)).await.expect(204);
    app.get(&path(&person)).await.problem(404);
    app.delete(&path(&person)).await.problem(404);
}

#[actix_web::test]
async fn invalid_people_are_422_naming_every_field() {
    let app = spawn_app().await;
    let problem = app
        .post(
            "/v1/people",
            &json!({
                "name": "",
                "email": "not-an-email",
                "image_url": "javascript:alert(1)",
                "gender": "x".repeat(51)
            }),
        )
        .await
        .problem(422);
    let mut fields = Reply::fields(&problem);
    fields.sort();
    assert_eq!(fields, ["email", "gender", "image_url", "name"]);
    let problem = app
        .post("/v1/people", &json!({"name": "A", "nickname": "B"}))
        .await
        .problem(422);
    assert_eq!(Reply::fields(&problem), ["nickname"]);
}

#[actix_web::test]
async fn a_search_of_one_or_two_characters_pages_through_every_live_name_holding_them_in_name_order(
) {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (name, other) in [
        ("王伟", None),
        ("大王伟", None),
        ("李王明", None),
        ("Wang Lei", None),
        ("丁一", None),
        ("王芳", None),
        ("王强", None),
        ("Amy Lin", Some("王美")),
        ("王 丽", None),
    ] {
        let mut body = json!({ "name": name });
        if let Some(other) = other {
            body["other_names"] = json!([{ "name": other }]);
        }
        let person = app.post("/v1/people", &body).await.expect(201).json();
        ids.push(id(&person).to_owned());
    }
    // Renamed away from the character, and deleted: no longer found.
    app.patch(&format!("/v1/people/{}", ids[5]), &json!({"name": "赵芳"}))
        .await
        .expect(200);
    app.delete(&format!("/v1/people/{}", ids[6]))
        .await
        .expect(204);
    // Renamed to it: found.
    app.patch(&format!("/v1/people/{}", ids[4]), &json!({"name": "丁王"}))
        .await
        .expect(200);
    let everyone: Vec<Value> = app.all_items("/v1/people?limit=100").await;
    for (term, text) in [
        ("%E7%8E%8B", "王"),
        ("W", "w"),
        ("l", "l"),
        ("%E7%8E%8B%E4%BC%9F", "王伟"),
        ("LE", "le"),
        ("%E4%B8%81%E7%8E%8B", "丁王"),
    ] {
        let holding: Vec<String> = everyone
            .iter()
            .filter(|person| {
                let names = std::iter::once(&person["name"]).chain(
                    person["other_names"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|n| &n["name"]),
                );
                names
                    .into_iter()
                    .any(|n| n.as_str().unwrap().to_lowercase().contains(text))
            })
            .map(|person| person["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(!holding.is_empty(), "{text}");
        for (sort, expected) in [
            ("name", holding.clone()),
            ("-name", holding.iter().rev().cloned().collect()),
        ] {
            let found: Vec<String> = app
                .all_items(&format!("/v1/people?q={term}&sort={sort}&limit=1"))
                .await
                .iter()
                .map(|person| person["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(found, expected, "q={term} sort={sort}");
        }
    }
    // Two characters apart in a name ("王 丽"), or at the end of one name
    // and the start of the next ("Amy Lin", "王美"): not a match.
    for term in ["%E7%8E%8B%E4%B8%BD", "n%E7%8E%8B"] {
        let found = app.all_items(&format!("/v1/people?q={term}")).await;
        assert!(found.is_empty(), "q={term}: {found:?}");
    }
}

#[actix_web::test]
async fn people_search_by_any_name_including_chinese() {
    let app = spawn_app().await;
    for (name, chinese) in [
        ("Zhou Haiying", "周海鹰"),
        ("Zeng Jun", "曾军"),
        ("Yu Yang", "余洋"),
    ] {
        app.post(
            "/v1/people",
            &json!({"name": name, "other_names": [{"name": chinese, "lang": "zh"}]}),
        )
        .await
        .expect(201);
    }
    let page = app
        .get("/v1/people?q=%E6%B5%B7%E9%B9%B0")
        .await
        .expect(200)
        .json(); // 海鹰
    assert_eq!(column(&page, "name"), ["Zhou Haiying"]);
    let page = app.get("/v1/people?q=ZENG").await.expect(200).json();
    assert_eq!(column(&page, "name"), ["Zeng Jun"]);
    // One or two characters find as longer terms do (most Chinese names
    // are two or three characters), case-insensitively, spaces and LIKE's
    // wildcards taken literally.
    for (term, found) in [
        ("%E6%9B%BE", vec!["Zeng Jun"]),         // 曾
        ("%E6%B4%8B", vec!["Yu Yang"]),          // 洋
        ("%E4%BD%99%E6%B4%8B", vec!["Yu Yang"]), // 余洋
        ("%E6%B4%8B%E4%BD%99", vec![]),          // 洋余
        ("ZQ", vec![]),
        ("u", vec!["Yu Yang", "Zeng Jun", "Zhou Haiying"]),
        ("g%20J", vec!["Zeng Jun"]),
        ("%25", vec![]),
        ("_", vec![]),
    ] {
        let page = app
            .get(&format!("/v1/people?q={term}"))
            .await
            .expect(200)
            .json();
        assert_eq!(column(&page, "name"), found, "q={term}");
    }
    let page = app.get("/v1/people?sort=-name&limit=2").await.expect(200);
    assert!(page.header("link").is_some());
    let page = page.json();
    assert_eq!(column(&page, "name"), ["Zhou Haiying", "Zeng Jun"]);
    let rest = app
        .get(&format!(
            "/v1/people?sort=-name&limit=2&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(column(&rest, "name"), ["Yu Yang"]);
}

#[actix_web::test]
async fn one_person_holds_several_posts_at_once() {
    let app = spawn_app().await;
    let department = app
        .organization(
            "Organization Department of the Shanghai Municipal Party Committee",
            "party_committee",
            None,
        )
        .await;
    let commission = app
        .organization(
            "Shanghai Municipal Social Work Party Committee",
            "party_working_committee",
            None,
        )
        .await;
    let xu = app.person("Xu Shujie").await;
    app.role(json!({"organization_id": id(&department), "person_id": id(&xu), "title": "Member", "start_date": "2022-01-01"})).await;
    app.role(json!({"organization_id": id(&commission), "person_id": id(&xu), "title": "Deputy Secretary", "start_date": "2023-01-01"})).await;

    let roles = app
        .get(&format!(
            "/v1/people/{}/roles?active_on=2023-05-23",
            id(&xu)
        ))
        .await
        .expect(200)
        .json();
    let items = roles["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let held: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["role"]["title"].as_str().unwrap().to_owned(),
                i["organization"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(held.contains(&(
        "Member".into(),
        "Organization Department of the Shanghai Municipal Party Committee".into()
    )));
    assert!(held.contains(&(
        "Deputy Secretary".into(),
        "Shanghai Municipal Social Work Party Committee".into()
    )));
    let before = app
        .get(&format!(
            "/v1/people/{}/roles?active_on=2022-06-01",
            id(&xu)
        ))
        .await
        .json();
    assert_eq!(before["items"].as_array().unwrap().len(), 1);

    // People filtered by organization and day.
    let page = app
        .get(&format!("/v1/people?organization_id={}", id(&commission)))
        .await
        .json();
    assert_eq!(column(&page, "name"), ["Xu Shujie"]);
    let page = app
        .get(&format!(
            "/v1/people?organization_id={}&active_on=2022-12-31",
            id(&commission)
        ))
        .await
        .json();
    assert!(page["items"].as_array().unwrap().is_empty());
    let page = app.get("/v1/people?active_on=2022-12-31").await.json();
    assert_eq!(
        column(&page, "name"),
        ["Xu Shujie"],
        "active_on alone: any organization"
    );
    app.get(&format!("/v1/people/{}/roles", uuid::Uuid::now_v7()))
        .await
        .problem(404);
}

#[actix_web::test]
async fn deleting_a_person_with_live_roles_or_participations_is_409() {
    let app = spawn_app().await;
    let school = app
        .organization(
            "Party School of the Municipal Party Committee",
            "school",
            None,
        )
        .await;
    let zeng = app.person("Zeng Jun").await;
    let role = app.role(json!({"organization_id": id(&school), "person_id": id(&zeng), "title": "Vice President"})).await;
    let problem = app.delete(&path(&zeng)).await.problem(409);
    assert_eq!(problem["conflicts"][0]["entity_type"], "role");
    assert_eq!(problem["conflicts"][0]["id"], role["id"]);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("Vice President"));

    // An ended role still counts: it is history that refers to the person.
    app.patch(
        &format!("/v1/roles/{}", id(&role)),
        &json!({"end_date": "2024-01-01"}),
    )
    .await
    .expect(200);
    app.delete(&path(&zeng)).await.problem(409);
    app.delete(&format!("/v1/roles/{}", id(&role)))
        .await
        .expect(204);

    let seminar = app
        .event(json!({"title": "Seminar", "starts_at": "2023-05-23T09:00:00+08:00"}))
        .await;
    let participant = app
        .participant(
            &seminar,
            json!({"person_id": id(&zeng), "role": "attendee"}),
        )
        .await;
    let problem = app.delete(&path(&zeng)).await.problem(409);
    assert_eq!(problem["conflicts"][0]["entity_type"], "participant");
    assert_eq!(problem["conflicts"][0]["id"], participant["id"]);
    app.delete(&format!(
        "/v1/events/{}/participants/{}",
        id(&seminar),
        id(&participant)
    ))
    .await
    .expect(204);
    app.delete(&path(&zeng)).await.expect(204);
}

#[actix_web::test]
async fn people_carry_popolo_sort_names_honorifics_and_death_dates() {
    let app = spawn_app().await;
    let person = app
        .post(
            "/v1/people",
            &json!({
                "name": "周海鹰",
                "sort_name": " Zhou Haiying ",
                "honorific_prefix": "Comrade",
                "honorific_suffix": " ",
                "death_date": "2099-12-31"
            }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(person["sort_name"], "Zhou Haiying");
    assert_eq!(person["honorific_prefix"], "Comrade");
    assert_eq!(person["honorific_suffix"], Value::Null);
    assert_eq!(person["death_date"], "2099-12-31");
    // Public, unlike the day of birth: a key without pii sees it.
    let reader = crate::helpers::mint_key(
        &app.db,
        "reader",
        &[alliance_registry::store::api_keys::Scope::Read],
        None,
    )
    .1;
    let seen = app
        .send(
            app.request_as(Method::GET, &path(&person), Some(&reader)),
            None,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(seen["death_date"], "2099-12-31");
    assert!(seen.get("birth_date").is_none());

    let patched = app
        .patch(
            &path(&person),
            &json!({"death_date": null, "sort_name": "Zhou"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["death_date"], Value::Null);
    assert_eq!(patched["sort_name"], "Zhou");
    assert_eq!(patched["honorific_prefix"], "Comrade");

    let problem = app
        .post(
            "/v1/people",
            &json!({
                "name": "x",
                "sort_name": "a\u{202E}b",
                "honorific_prefix": "x".repeat(101),
                "death_date": "0000-01-01"
            }),
        )
        .await
        .problem(422);
    assert_eq!(
        Reply::fields(&problem),
        ["sort_name", "honorific_prefix", "death_date"]
    );
}

/// `/v1/people?organization_id=` (with and without `active_on`) pages
/// through the same people, in the same order, as the whole listing
/// filtered by hand — in every order, as people are renamed and roles
/// end, move and go.
#[actix_web::test]
async fn people_of_an_organization_page_in_every_order_as_their_roles_stand() {
    let app = spawn_app().await;
    let unit = app
        .organization("Yangpu Science Park", "enterprise", None)
        .await;
    let other = app
        .organization("Fudan Science Park", "enterprise", None)
        .await;
    let mut people = Vec::new();
    for name in [
        "Wang Wei",
        "Wang Wei",
        "Li Na",
        "Zhang Min",
        "Chen Jing",
        "Zhou Hai",
        "Liu Yang",
        "Sun Lei",
    ] {
        people.push(app.person(name).await);
    }
    let role = |person: &Value, organization: &Value, start: Value, end: Value| {
        json!({"person_id": person["id"], "organization_id": organization["id"],
               "title": "Member", "start_date": start, "end_date": end})
    };
    let mut roles = Vec::new();
    for (n, person) in people.iter().enumerate().take(7) {
        if n == 2 {
            // Two roles in the unit, one after the other: listed once.
            let first = role(person, &unit, Value::Null, json!("2018"));
            roles.push(app.role(first).await);
            app.role(role(person, &unit, json!("2019"), Value::Null))
                .await;
        } else {
            roles.push(
                app.role(role(person, &unit, Value::Null, Value::Null))
                    .await,
            );
        }
    }
    app.role(role(&people[7], &other, Value::Null, Value::Null))
        .await;
    // Ended before the day; starting after it.
    app.role(role(&people[7], &unit, json!("2010"), json!("2012-05")))
        .await;
    // Renamed: moves in name order.
    app.patch(
        &format!("/v1/people/{}", id(&people[6])),
        &json!({"name": "Abbott Liu"}),
    )
    .await
    .expect(200);
    // A role that ends, one that goes, one that moves to the other unit.
    app.patch(
        &format!("/v1/roles/{}", id(&roles[3])),
        &json!({"end_date": "2021"}),
    )
    .await
    .expect(200);
    app.delete(&format!("/v1/roles/{}", id(&roles[4])))
        .await
        .expect(204);
    app.patch(
        &format!("/v1/roles/{}", id(&roles[5])),
        &json!({"organization_id": other["id"]}),
    )
    .await
    .expect(200);

    let in_unit: Vec<&str> = [0, 1, 2, 3, 6, 7].iter().map(|&n| id(&people[n])).collect();
    let active: Vec<&str> = [0, 1, 2, 6].iter().map(|&n| id(&people[n])).collect();
    for sort in ["name", "-name", "created_at", "-created_at"] {
        let everyone = app
            .all_items(&format!("/v1/people?sort={sort}&limit=100"))
            .await;
        let expected = |members: &[&str]| -> Vec<String> {
            everyone
                .iter()
                .map(|p| id(p).to_owned())
                .filter(|p| members.contains(&p.as_str()))
                .collect()
        };
        let ids =
            |items: Vec<Value>| -> Vec<String> { items.iter().map(|p| id(p).to_owned()).collect() };
        let unit_id = id(&unit);
        let listed = app
            .all_items(&format!(
                "/v1/people?organization_id={unit_id}&sort={sort}&limit=2"
            ))
            .await;
        assert_eq!(ids(listed), expected(&in_unit), "{sort}");
        let listed = app
            .all_items(&format!(
                "/v1/people?organization_id={unit_id}&active_on=2025-06-01&sort={sort}&limit=2"
            ))
            .await;
        assert_eq!(ids(listed), expected(&active), "{sort}, active");
    }
}

/// The ids of a listing, following its cursors.
async fn listed_ids(app: &crate::helpers::TestApp, path: &str) -> Vec<String> {
    app.all_items(path)
        .await
        .iter()
        .map(|p| id(p).to_owned())
        .collect()
}

/// A role changed (its end) while its holder is being renamed by another
/// request: the role's change reads the holder's name before the rename
/// commits and writes it into `role_holders` after, so the organization's
/// people are paged by a name the person no longer has. Both writes go
/// through the API; the test only orders them, by holding the role's row
/// of `role_holders` (as a slow transaction might), which the rename's
/// trigger waits for after it has renamed the person.
#[actix_web::test]
async fn a_role_changed_while_its_holder_is_renamed_keeps_the_organization_listing_true() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let unit = app
        .organization("Yangpu Science Park", "enterprise", None)
        .await;
    let mut people = Vec::new();
    for name in ["Aaron Li", "Bob Wang", "Carl Zhou"] {
        people.push(app.person(name).await);
    }
    let mut roles = Vec::new();
    for person in &people {
        roles.push(
            app.role(
                json!({"person_id": person["id"], "organization_id": unit["id"],
                            "title": "Member"}),
            )
            .await,
        );
    }
    let mut holder = app.db.connect();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query(format!(
        "SELECT 1 FROM role_holders WHERE role_id = '{}' FOR UPDATE",
        id(&roles[0])
    ))
    .execute(&mut holder)
    .unwrap();
    let (person_path, new_name) = (path(&people[0]), json!({"name": "Zoe Li"}));
    let rename = app.patch(&person_path, &new_name);
    let (role_path, new_end) = (
        format!("/v1/roles/{}", id(&roles[0])),
        json!({"end_date": "2030"}),
    );
    let end = app.patch(&role_path, &new_end);
    let release = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(600)).await;
        diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    };
    // The rename goes first (it waits for the held row of role_holders),
    // the role's change second.
    let late_end = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        end.await
    };
    let (renamed, ended, ()) = futures_util::future::join3(rename, late_end, release).await;
    renamed.expect(200);
    ended.expect(200);

    let unit_id = id(&unit);
    for sort in ["name", "-name", "created_at", "-created_at"] {
        // With include_deleted the filter is the EXISTS over roles.
        let truth = listed_ids(
            &app,
            &format!(
                "/v1/people?organization_id={unit_id}&include_deleted=true&sort={sort}&limit=100"
            ),
        )
        .await;
        assert_eq!(truth.len(), 3);
        let paged = listed_ids(
            &app,
            &format!("/v1/people?organization_id={unit_id}&sort={sort}&limit=1"),
        )
        .await;
        assert_eq!(paged, truth, "{sort}");
    }
}

#[derive(QueryableByName)]
struct PreparedStatement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

#[test]
fn a_listing_is_parsed_once_per_connection_while_a_name_search_is_planned_for_each_term() {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    let page = Keyset::first(NameSort::Name, 51);
    let search = |term: &str| PersonFilter {
        q: Some(term.to_owned()),
        ..Default::default()
    };
    for term in ["海鹰伟", "Zhou", "abc"] {
        people::list(&mut conn, &PersonFilter::default(), page).unwrap();
        people::list(&mut conn, &search(term), page).unwrap();
    }
    let prepared: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<PreparedStatement>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.statement)
        .collect();
    let listings: Vec<&String> = prepared
        .iter()
        .filter(|text| text.contains(r#"FROM "people""#))
        .collect();
    assert_eq!(listings.len(), 1, "{prepared:#?}");
    assert!(
        !prepared.iter().any(|text| text.contains("ILIKE")),
        "a search is never prepared: {prepared:#?}"
    );
}
