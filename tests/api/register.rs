//! The register of the seed article (People's Daily Online, 2023-05-23:
//! the founding of the Yangpu District Digital Economy Industry Cluster
//! Party Building Alliance), entered through the API; then each question a
//! reader could ask is answered by one request.

use crate::helpers::{column, id, spawn_app, TestApp};
use serde_json::{json, Value};

const SOURCE: &str = "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html";
const FOUNDED: &str = "2023-05-23";

async fn org(
    app: &TestApp,
    name: &str,
    chinese: &str,
    kind: &str,
    parent: Option<&Value>,
) -> Value {
    app.create_organization(json!({
        "name": name,
        "kind": kind,
        "parent_id": parent.map(|p| p["id"].clone()),
        "other_names": [{"name": chinese, "lang": "zh"}],
        "sources": [{"url": SOURCE}]
    }))
    .await
}

async fn post(app: &TestApp, person: &Value, organization: &Value, title: &str) {
    app.role(json!({
        "organization_id": id(organization),
        "person_id": id(person),
        "title": title,
        "sources": [{"url": SOURCE}]
    }))
    .await;
}

#[actix_web::test]
async fn the_seed_article_is_entered_and_every_question_takes_one_request() {
    let app = spawn_app().await;

    // Organizations.
    let alliance = app
        .create_organization(json!({
            "name": "Yangpu District Digital Economy Industry Cluster Party Building Alliance",
            "kind": "alliance",
            "other_names": [{"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"}],
            "founding_date": FOUNDED,
            "sources": [{"url": SOURCE, "note": "People's Daily Online, 2023-05-23"}]
        }))
        .await;
    let municipal = org(
        &app,
        "Shanghai Municipal Party Committee",
        "上海市委",
        "party_committee",
        None,
    )
    .await;
    let municipal_department = org(
        &app,
        "Organization Department of the Shanghai Municipal Party Committee",
        "市委组织部",
        "government_department",
        Some(&municipal),
    )
    .await;
    let social_work = org(
        &app,
        "Municipal Social Work Party Committee",
        "市社会工作党委",
        "party_working_committee",
        Some(&municipal),
    )
    .await;
    let party_school = org(
        &app,
        "Party School of the Municipal Party Committee",
        "市委党校",
        "school",
        Some(&municipal),
    )
    .await;
    let district = org(
        &app,
        "Yangpu District Party Committee",
        "杨浦区委",
        "party_committee",
        None,
    )
    .await;
    let district_department = org(
        &app,
        "Organization Department of the Yangpu District Party Committee",
        "杨浦区委组织部",
        "government_department",
        Some(&district),
    )
    .await;
    let district_government = org(
        &app,
        "Yangpu District People's Government",
        "杨浦区人民政府",
        "government_department",
        None,
    )
    .await;
    let science_commission = org(
        &app,
        "Yangpu District Science and Technology Commission",
        "区科委",
        "government_department",
        Some(&district_government),
    )
    .await;
    let reform_commission = org(
        &app,
        "Yangpu District Development and Reform Commission",
        "区发展改革委",
        "government_department",
        Some(&district_government),
    )
    .await;

    let units = [
        (
            "Tongji Science and Technology Park",
            "同济科技园",
            "science_park",
        ),
        (
            "Caida Science and Technology Park",
            "财大科技园",
            "science_park",
        ),
        (
            "Shangti Science and Technology Park",
            "上体科技园",
            "science_park",
        ),
        ("Oujian Network", "欧简网络", "enterprise"),
        ("Meituan (Shanghai)", "美团（上海）", "enterprise"),
        ("Bilibili", "哔哩哔哩", "enterprise"),
        ("Youkede", "优刻得", "enterprise"),
        ("Shangti Health", "上体健康", "enterprise"),
        ("Tonghao Civil Engineering", "同豪土木", "enterprise"),
        (
            "Shanshan Data Science and Technology",
            "杉数科技",
            "enterprise",
        ),
    ];
    let mut members = Vec::new();
    for (name, chinese, kind) in units {
        let unit = org(&app, name, chinese, kind, None).await;
        app.role(json!({
            "organization_id": id(&alliance),
            "member_organization_id": id(&unit),
            "title": "Member unit",
            "start_date": FOUNDED,
            "note": "First batch",
            "sources": [{"url": SOURCE}]
        }))
        .await;
        members.push(unit);
    }
    app.role(
        json!({"organization_id": id(&alliance), "member_organization_id": id(&district_department),
        "title": "Convening department", "start_date": FOUNDED}),
    )
    .await;
    let oujian_committee = org(
        &app,
        "Party Committee of Oujian Network",
        "欧简网络党委",
        "party_committee",
        Some(&members[3]),
    )
    .await;
    let youkede_branch = org(
        &app,
        "Party General Branch of Youkede",
        "优刻得党总支",
        "party_general_branch",
        Some(&members[6]),
    )
    .await;
    let siping = org(
        &app,
        "Siping Road Street",
        "四平路街道",
        "street_office",
        None,
    )
    .await;
    let siping_committee = org(
        &app,
        "Party Working Committee of Siping Road Street",
        "四平路街道党工委",
        "party_working_committee",
        Some(&siping),
    )
    .await;
    let sus_branch = org(
        &app,
        "Party Branch of the Shanghai Institute of Physical Education Science and Technology Park",
        "上体科技园党支部",
        "party_branch",
        Some(&members[2]),
    )
    .await;
    let tech_group = org(
        &app,
        "Party Committee of Science and Technology Group",
        "科技集团党委",
        "party_committee",
        None,
    )
    .await;

    // People and their posts.
    let xu = app.person("Xu Shujie").await;
    post(&app, &xu, &municipal_department, "Member").await;
    post(&app, &xu, &social_work, "Deputy Secretary").await;
    let zeng = app.person("Zeng Jun").await;
    post(&app, &zeng, &party_school, "Vice President").await;
    let zhou = app.person("Zhou Haiying").await;
    post(&app, &zhou, &district, "Deputy Secretary").await;
    let jiang = app.person("Jiang Daorong").await;
    post(&app, &jiang, &district, "Member of the Standing Committee").await;
    post(&app, &jiang, &district_department, "Director").await;
    let yu = app.person("Yu Yang").await;
    post(&app, &yu, &district_government, "Deputy District Chief").await;

    // Events and who took part.
    let seminar = app
        .event(json!({
            "title": "Seminar on the theory of party building leading digital economy and industrial development",
            "kind": "seminar", "status": "held", "starts_at": "2023-05-23T09:00:00+08:00",
            "location": "Yangpu District, Shanghai", "topics": ["party building", "digital economy"],
            "sources": [{"url": SOURCE}]
        }))
        .await;
    let session = app
        .event(json!({
            "title": "Theoretical discussion session", "kind": "discussion_session", "status": "held",
            "starts_at": "2023-05-23T10:30:00+08:00", "parent_event_id": id(&seminar),
            "topics": ["cloud computing", "digital design", "digital sports", "digital economy"]
        }))
        .await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&district_department), "role": "organizer"}),
    )
    .await;
    for person in [&xu, &zeng, &zhou, &jiang, &yu] {
        app.participant(
            &seminar,
            json!({"person_id": id(person), "role": "attendee"}),
        )
        .await;
    }
    app.participant(&seminar, json!({"person_id": id(&xu), "role": "speaker", "note": "Affirmed the effectiveness of Yangpu District"})).await;
    app.participant(&seminar, json!({"person_id": id(&zhou), "role": "speaker"}))
        .await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&science_commission), "role": "speaker",
        "note": "Introduced the digital economy industry of Yangpu District"}),
    )
    .await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&reform_commission), "role": "speaker",
        "note": "On behalf of the functional departments"}),
    )
    .await;
    app.participant(
        &seminar,
        json!({"organization_id": id(&oujian_committee), "role": "speaker",
        "on_behalf_of_id": id(&alliance)}),
    )
    .await;
    for unit in [&youkede_branch, &siping_committee, &sus_branch, &tech_group] {
        app.participant(
            &session,
            json!({"organization_id": id(unit), "role": "speaker"}),
        )
        .await;
    }
    app.participant(
        &session,
        json!({"organization_id": id(&party_school), "role": "commenter",
        "note": "Experts and scholars made sharing comments"}),
    )
    .await;

    // Who are the alliance's member units (on the founding day)?
    let page = app
        .get(&format!(
            "/v1/organizations/{}/members?active_on={FOUNDED}",
            id(&alliance)
        ))
        .await
        .expect(200)
        .json();
    let units: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"]["title"] == "Member unit")
        .map(|m| m["member_organization"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(units.len(), 10);
    assert!(units.contains(&"Bilibili") && units.contains(&"Shanshan Data Science and Technology"));

    // Which posts does each official hold?
    let page = app
        .get(&format!("/v1/people/{}/roles", id(&jiang)))
        .await
        .expect(200)
        .json();
    let posts: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} of {}",
                h["role"]["title"].as_str().unwrap(),
                h["organization"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        posts,
        [
            "Member of the Standing Committee of Yangpu District Party Committee",
            "Director of Organization Department of the Yangpu District Party Committee"
        ]
    );

    // Who spoke at the seminar, and for whom?
    let page = app
        .get(&format!(
            "/v1/events/{}/participants?role=speaker",
            id(&seminar)
        ))
        .await
        .expect(200)
        .json();
    let speakers: Vec<(String, Value)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let who = p["person_name"]
                .as_str()
                .or(p["organization_name"].as_str())
                .unwrap()
                .to_owned();
            (who, p["on_behalf_of_name"].clone())
        })
        .collect();
    assert_eq!(speakers.len(), 5);
    assert!(speakers.contains(&(
        "Party Committee of Oujian Network".to_owned(),
        json!("Yangpu District Digital Economy Industry Cluster Party Building Alliance")
    )));
    assert!(speakers.contains(&("Zhou Haiying".to_owned(), Value::Null)));

    // What was the seminar, with its sessions and everyone taking part?
    let event = app
        .get(&format!(
            "/v1/events/{}?embed=participants,sessions",
            id(&seminar)
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(event["participants"].as_array().unwrap().len(), 11);
    assert_eq!(
        event["sessions"][0]["title"],
        "Theoretical discussion session"
    );
    assert!(event["sessions"][0]["topics"]
        .as_array()
        .unwrap()
        .contains(&json!("digital sports")));

    // Who commented in the discussion session?
    let page = app
        .get(&format!(
            "/v1/events/{}/participants?role=commenter",
            id(&session)
        ))
        .await
        .json();
    assert_eq!(
        column(&page, "organization_name"),
        ["Party School of the Municipal Party Committee"]
    );

    // Which party organizations belong to a member unit?
    let page = app
        .get(&format!("/v1/organizations/{}/children", id(&members[3])))
        .await
        .json();
    assert_eq!(column(&page, "name"), ["Party Committee of Oujian Network"]);

    // Which events did a member unit's party organization speak at?
    let page = app
        .get(&format!(
            "/v1/events?organization_id={}",
            id(&youkede_branch)
        ))
        .await
        .json();
    assert_eq!(column(&page, "title"), ["Theoretical discussion session"]);

    // Find a unit by its Chinese name.
    let page = app
        .get("/v1/organizations?q=%E5%93%94%E5%93%A9%E5%93%94%E5%93%A9")
        .await
        .json(); // 哔哩哔哩
    assert_eq!(column(&page, "name"), ["Bilibili"]);
}
