//! A synthetic register at district scale, for benchmarks
//! (`alliance-registry generate --people N`).
//!
//! Everything is written by `INSERT … SELECT generate_series` in one
//! transaction, through the tables' own triggers: every record gets its
//! journal entry (so the change feed serves the whole register, in one
//! commit position), identifiers reach `external_ids`, and the generated
//! columns (`search_text`, the events' spans) are PostgreSQL's. Journal
//! entries carry no key: they were made outside the API.
//!
//! What N people come with, at 1,000,000 (every count scales with N):
//! - areas: Shanghai, its 16 districts, 12 streets in each;
//! - organizations (about 1% of N): the alliance, and N/400 member units
//!   (enterprises, schools, departments, …, each in a street and a member
//!   of the alliance), each with a party committee and two party branches
//!   below it; the first branch has min(10,000, N/10) members;
//! - posts: secretary, deputy secretary and organization member of each
//!   committee, secretary of each branch; each held by an earlier (ended)
//!   and a current holder;
//! - people: 2–3 character Chinese names (surnames drawn with a skew
//!   towards the common ones) with their pinyin as an English other name,
//!   some with birth dates (partial), email, phone, and an identifier;
//! - roles: 1–4 per person (a current and an earlier branch membership,
//!   employment in the unit, a seat on its committee), dated with partial
//!   dates (`2019`, `2020-05`, `2021-03-15`), some ended;
//! - events (N/50): all-day, timed, and every 20th undated and recurring;
//!   every 10th a discussion session of the one before; each with its
//!   organizing unit and min(20, N) people taking part.

use crate::error::Error;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Creates the session's helpers: the scale (`gen`), the word lists, and
/// functions for ids and partial dates. `{salt}` makes the ids of one run
/// its own; `{people}` is the scale.
const SETUP: &str = r#"
CREATE FUNCTION pg_temp.gen_id(kind text, n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18, 15))::uuid
    FROM md5('{salt}' || kind || n) AS h $$;

-- A year in lo..hi, written as a year, a month or a day of it.
CREATE FUNCTION pg_temp.partial_date(lo int, hi int) RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN r < 0.15 THEN y::text
              WHEN r < 0.40 THEN y || '-' || lpad(m::text, 2, '0')
              ELSE y || '-' || lpad(m::text, 2, '0') || '-' || lpad(d::text, 2, '0') END
    FROM (SELECT lo + floor(random() * (hi - lo + 1))::int AS y, random() AS r,
                 1 + floor(random() * 12)::int AS m, 1 + floor(random() * 28)::int AS d) AS x $$;

SELECT setseed(0.12);

CREATE TEMP TABLE gen ON COMMIT DROP AS
SELECT people, units, 2 * units AS branches, least(10000, people / 10) AS big,
       greatest(4, people / 50) AS events,
       ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭',
             '何','高','林','罗','郑','梁','谢','宋','唐','许','韩','冯','邓','曹','彭','曾',
             '肖','田','董','袁','潘','于','蒋','蔡','余','杜','叶','程','苏','魏','吕','丁',
             '任','沈','姚','卢','姜','崔','钟','谭','陆','汪','范','金','石','廖','贾','夏',
             '韦','方','白','邹','孟','熊','秦','邱','江','尹','薛','顾','毛','钱','严','龚']
         AS surname_zh,
       ARRAY['Wang','Li','Zhang','Liu','Chen','Yang','Huang','Zhao','Wu','Zhou','Xu','Sun',
             'Ma','Zhu','Hu','Guo','He','Gao','Lin','Luo','Zheng','Liang','Xie','Song','Tang',
             'Xu','Han','Feng','Deng','Cao','Peng','Zeng','Xiao','Tian','Dong','Yuan','Pan',
             'Yu','Jiang','Cai','Yu','Du','Ye','Cheng','Su','Wei','Lyu','Ding','Ren','Shen',
             'Yao','Lu','Jiang','Cui','Zhong','Tan','Lu','Wang','Fan','Jin','Shi','Liao','Jia',
             'Xia','Wei','Fang','Bai','Zou','Meng','Xiong','Qin','Qiu','Jiang','Yin','Xue',
             'Gu','Mao','Qian','Yan','Gong'] AS surname_en,
       ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明',
             '超','秀','霞','平','刚','桂','英','华','玉','萍','红','建','文','辉','力','斌',
             '海','鹰','国','庆','志','晓','东','佳','欣','怡','浩','宇','子','涵','轩','梓',
             '思','雨','嘉','俊','博','瑞','琳','婷','雪','慧','颖','鹏','飞','凯','峰','春',
             '梅','兰','云','龙','振','宏'] AS given_zh,
       ARRAY['wei','fang','na','min','jing','li','qiang','lei','jun','yang','yong','yan','jie',
             'juan','tao','ming','chao','xiu','xia','ping','gang','gui','ying','hua','yu','ping',
             'hong','jian','wen','hui','li','bin','hai','ying','guo','qing','zhi','xiao','dong',
             'jia','xin','yi','hao','yu','zi','han','xuan','zi','si','yu','jia','jun','bo','rui',
             'lin','ting','xue','hui','ying','peng','fei','kai','feng','chun','mei','lan','yun',
             'long','zhen','hong'] AS given_en,
       ARRAY['黄浦区','徐汇区','长宁区','静安区','普陀区','虹口区','杨浦区','闵行区','宝山区',
             '嘉定区','浦东新区','金山区','松江区','青浦区','奉贤区','崇明区'] AS district_zh,
       ARRAY['Huangpu','Xuhui','Changning','Jing''an','Putuo','Hongkou','Yangpu','Minhang',
             'Baoshan','Jiading','Pudong','Jinshan','Songjiang','Qingpu','Fengxian','Chongming']
         AS district_en,
       ARRAY['310101','310104','310105','310106','310107','310109','310110','310112','310113',
             '310114','310115','310116','310117','310118','310120','310151'] AS district_code,
       ARRAY['定海路','平凉路','江浦路','四平路','控江路','长白新村','延吉新村','殷行','大桥',
             '五角场','新江湾城','长海路'] AS street_zh,
       ARRAY['Dinghai Road','Pingliang Road','Jiangpu Road','Siping Road','Kongjiang Road',
             'Changbai Xincun','Yanji Xincun','Yinhang','Daqiao','Wujiaochang',
             'Xinjiangwan Cheng','Changhai Road'] AS street_en,
       ARRAY['华东','申江','浦江','东方','新华','长江','金桥','复兴','同济','海鹰','光明','宏达']
         AS brand_zh,
       ARRAY['Huadong','Shenjiang','Pujiang','Dongfang','Xinhua','Changjiang','Jinqiao',
             'Fuxing','Tongji','Haiying','Guangming','Hongda'] AS brand_en,
       ARRAY['科技','电子','物流','建设','医药','信息','教育','食品'] AS trade_zh,
       ARRAY['Technology','Electronics','Logistics','Construction','Pharmaceutical',
             'Information','Education','Food'] AS trade_en
  FROM (SELECT {people}::bigint AS people, greatest(2, {people}::bigint / 400) AS units) AS scale;
"#;

/// Shanghai, its districts (area 1–16) and their streets (100 × district
/// + street, 1–12).
const AREAS: &str = r#"
INSERT INTO areas (id, name, classification, parent_id, other_names, identifiers)
SELECT pg_temp.gen_id('area', 0), '上海市', 'city', NULL,
       '[{"name": "Shanghai", "lang": "en"}]', '[{"scheme": "gb-t-2260", "value": "310000"}]'
UNION ALL
SELECT pg_temp.gen_id('area', d), g.district_zh[d], 'district', pg_temp.gen_id('area', 0),
       jsonb_build_array(jsonb_build_object('name', g.district_en[d] || ' District', 'lang', 'en')),
       jsonb_build_array(jsonb_build_object('scheme', 'gb-t-2260', 'value', g.district_code[d]))
  FROM gen AS g, generate_series(1, 16) AS d
UNION ALL
SELECT pg_temp.gen_id('area', 100 * d + s), g.district_zh[d] || g.street_zh[s] || '街道', 'street',
       pg_temp.gen_id('area', d),
       jsonb_build_array(jsonb_build_object(
           'name', g.street_en[s] || ' Subdistrict, ' || g.district_en[d], 'lang', 'en')),
       jsonb_build_array(jsonb_build_object(
           'scheme', 'gb-t-2260', 'value', g.district_code[d] || lpad(s::text, 3, '0')))
  FROM gen AS g, generate_series(1, 16) AS d, generate_series(1, 12) AS s
"#;

/// The alliance (organization 0); unit u is organization 1 + 4u, its
/// committee 2 + 4u, its branches 3 + 4u and 4 + 4u.
const ORGANIZATIONS: &str = r#"
INSERT INTO organizations (id, name, kind, parent_id, other_names, founding_date, area_id,
                           identifiers)
SELECT pg_temp.gen_id('organization', 0), '上海市区域化党建联盟', 'alliance', NULL,
       '[{"name": "Shanghai Regional Party-Building Alliance", "lang": "en"}]', '2018-07',
       pg_temp.gen_id('area', 0),
       '[{"scheme": "yangpu-party-org", "value": "310000-000000"}]'
UNION ALL
SELECT pg_temp.gen_id('organization', 1 + 4 * u + r),
       u.name_zh || (ARRAY['', '党委', '第一党支部', '第二党支部'])[r + 1],
       CASE r WHEN 0 THEN u.kind WHEN 1 THEN 'party_committee' ELSE 'party_branch' END,
       CASE r WHEN 0 THEN NULL WHEN 1 THEN pg_temp.gen_id('organization', 1 + 4 * u)
              ELSE pg_temp.gen_id('organization', 2 + 4 * u) END,
       jsonb_build_array(jsonb_build_object('lang', 'en', 'name',
           (ARRAY['', 'Party Committee of ', 'First Party Branch of ',
                  'Second Party Branch of '])[r + 1] || u.name_en)),
       CASE r WHEN 0 THEN pg_temp.partial_date(1950, 2015) ELSE pg_temp.partial_date(2016, 2023) END,
       u.area_id,
       CASE r WHEN 0 THEN jsonb_build_array(jsonb_build_object(
                  'scheme', 'uscc', 'value', '91' || u.code || lpad(u::text, 10, '0')))
              ELSE jsonb_build_array(jsonb_build_object(
                  'scheme', 'yangpu-party-org',
                  'value', u.code || '-' || lpad((1 + 4 * u + r)::text, 6, '0'))) END
  FROM (SELECT u, g.district_code[d] AS code, pg_temp.gen_id('area', 100 * d + s) AS area_id,
               (ARRAY['enterprise', 'school', 'government_department', 'street_office',
                      'science_park', 'other'])[1 + u % 6] AS kind,
               g.district_zh[d] || g.brand_zh[1 + u % 12] || g.trade_zh[1 + (u / 12) % 8]
                 || (ARRAY['有限公司', '学校', '管理局', '街道办事处', '科技园', '协会'])[1 + u % 6]
                 AS name_zh,
               g.brand_en[1 + u % 12] || ' ' || g.trade_en[1 + (u / 12) % 8]
                 || (ARRAY[' Co., Ltd.', ' School', ' Administration', ' Subdistrict Office',
                           ' Science Park', ' Association'])[1 + u % 6]
                 || ' (' || g.district_en[d] || ')' AS name_en
          FROM gen AS g, generate_series(0, g.units - 1) AS u,
               LATERAL (SELECT 1 + (u % 192) / 12 AS d, 1 + (u % 192) % 12 AS s) AS place) AS u,
       generate_series(0, 3) AS r
"#;

/// Three posts of each committee, one of each branch.
const POSTS: &str = r#"
INSERT INTO posts (id, label, role, organization_id, area_id, start_date, other_labels)
SELECT pg_temp.gen_id('post:' || o.id, p), o.name || t.zh, t.role, o.id, o.area_id,
       o.founding_date,
       jsonb_build_array(jsonb_build_object('lang', 'en',
           'name', t.en || ' of ' || (o.other_names -> 0 ->> 'name')))
  FROM organizations AS o
  JOIN (VALUES ('party_committee', 0, '书记', 'secretary', 'Secretary'),
               ('party_committee', 1, '副书记', 'deputy_secretary', 'Deputy Secretary'),
               ('party_committee', 2, '组织委员', 'organization_member', 'Organization Member'),
               ('party_branch', 0, '书记', 'secretary', 'Secretary'))
    AS t (kind, p, zh, role, en) ON t.kind = o.kind
"#;

/// People 0 … N−1.
const PEOPLE: &str = r#"
INSERT INTO people (id, name, given_name, family_name, other_names, gender, birth_date, email,
                    phone, identifiers)
SELECT pg_temp.gen_id('person', i), g.surname_zh[s] || given, given, g.surname_zh[s],
       jsonb_build_array(jsonb_build_object('name', g.surname_en[s] || ' ' || initcap(pinyin),
                                            'lang', 'en')),
       CASE WHEN r1 < 0.5 THEN 'male' ELSE 'female' END,
       CASE WHEN r1 < 0.7 THEN pg_temp.partial_date(1950, 2002) END,
       CASE WHEN r2 < 0.3 THEN lower(g.surname_en[s]) || '.' || pinyin || i || '@example.cn' END,
       CASE WHEN r2 < 0.4 THEN '+86 13' || lpad((i % 1000000000)::text, 9, '0') END,
       CASE WHEN r3 < 0.4
            THEN jsonb_build_array(jsonb_build_object(
                     'scheme', 'district-hr', 'value', 'HR-' || lpad(i::text, 8, '0')))
            ELSE '[]' END
  FROM (SELECT i, s, r1, r2, r3,
               g.given_zh[g1] || CASE WHEN two THEN g.given_zh[g2] ELSE '' END AS given,
               g.given_en[g1] || CASE WHEN two THEN g.given_en[g2] ELSE '' END AS pinyin
          FROM (SELECT i, 1 + floor(power(random(), 2) * 80)::int AS s,
                       1 + floor(random() * 70)::int AS g1, 1 + floor(random() * 70)::int AS g2,
                       random() < 0.7 AS two, random() AS r1, random() AS r2, random() AS r3
                  FROM gen AS g, generate_series(0, g.people - 1) AS i) AS pick,
               gen AS g) AS p,
       gen AS g
"#;

/// 1–4 roles of each person in the units' party organizations: role 1,
/// member of a branch since 2010–2024 (the first min(10,000, N/10) people
/// in the first branch); role 2, an earlier membership of the next branch,
/// ended before 2010; role 3, employee of the unit, some ended; role 4, a
/// seat on its committee.
const ROLES: &str = r#"
INSERT INTO roles (id, organization_id, person_id, title, role, start_date, end_date)
SELECT pg_temp.gen_id('role:' || j, p.i),
       CASE j WHEN 1 THEN pg_temp.gen_id('organization', 3 + 4 * (b / 2) + b % 2)
              WHEN 2 THEN pg_temp.gen_id('organization',
                                         3 + 4 * (((b + 1) % nb) / 2) + ((b + 1) % nb) % 2)
              WHEN 3 THEN pg_temp.gen_id('organization', 1 + 4 * (b / 2))
              ELSE pg_temp.gen_id('organization', 2 + 4 * (b / 2)) END,
       pg_temp.gen_id('person', p.i),
       (ARRAY['党员', '党员', '职工', '党委委员'])[j],
       (ARRAY['member', 'member', 'employee', 'committee_member'])[j],
       pg_temp.partial_date(start_year, start_year),
       CASE WHEN j = 2 OR (j = 3 AND ended < 0.3) OR (j = 4 AND ended < 0.2)
            THEN pg_temp.partial_date(start_year + 1, least(start_year + 5, 2025)) END
  FROM (SELECT i, g.branches AS nb,
               CASE WHEN i < g.big THEN 0 ELSE 1 + floor(random() * (g.branches - 1))::int END AS b,
               1 + floor(random() * 4)::int AS n
          FROM gen AS g, generate_series(0, g.people - 1) AS i) AS p,
       LATERAL generate_series(1, p.n) AS j,
       LATERAL (SELECT CASE j WHEN 1 THEN 2010 + floor(random() * 15)::int
                              WHEN 2 THEN 1990 + floor(random() * 15)::int
                              WHEN 3 THEN 2000 + floor(random() * 25)::int
                              ELSE 2015 + floor(random() * 9)::int END AS start_year,
                       random() AS ended OFFSET 0) AS dates
"#;

/// Each post held by an earlier holder (2012–2016 until 2017–2019) and a
/// current one (since 2020–2024).
const POST_HOLDERS: &str = r#"
INSERT INTO roles (id, organization_id, person_id, post_id, title, role, start_date, end_date)
SELECT pg_temp.gen_id('holder:' || p.id, h), p.organization_id,
       pg_temp.gen_id('person', floor(random() * g.people)::bigint), p.id,
       p.label, p.role,
       CASE h WHEN 0 THEN pg_temp.partial_date(2012, 2016) ELSE pg_temp.partial_date(2020, 2024) END,
       CASE h WHEN 0 THEN pg_temp.partial_date(2017, 2019) END
  FROM posts AS p, gen AS g, generate_series(0, 1) AS h
"#;

/// Every unit a member of the alliance.
const ALLIANCE_MEMBERS: &str = r#"
INSERT INTO roles (id, organization_id, member_organization_id, title, role, start_date)
SELECT pg_temp.gen_id('alliance-member', u), pg_temp.gen_id('organization', 0),
       pg_temp.gen_id('organization', 1 + 4 * u), '成员单位', 'member',
       pg_temp.partial_date(2018, 2024)
  FROM gen AS g, generate_series(0, g.units - 1) AS u
"#;

/// Events 0 … N/50−1, organized by unit e mod N/400: every 20th undated
/// and recurring, else every 3rd all day, the others timed; every 10th a
/// discussion session of the one before.
const EVENTS: &str = r#"
INSERT INTO events (id, title, kind, status, starts_at, ends_at, start_date, end_date, timezone,
                    recurrence, location, parent_event_id, topics, identifiers)
SELECT pg_temp.gen_id('event', e),
       u.name || CASE WHEN session THEN '分组讨论' ELSE t.zh END,
       CASE WHEN session THEN 'discussion_session' ELSE t.kind END,
       CASE WHEN undated THEN 'recurring'
            WHEN day < current_date THEN CASE WHEN r < 0.05 THEN 'cancelled' ELSE 'held' END
            ELSE CASE WHEN r < 0.1 THEN 'postponed' ELSE 'planned' END END,
       CASE WHEN timed THEN (day + make_interval(hours => hour)) AT TIME ZONE 'Asia/Shanghai' END,
       CASE WHEN timed THEN (day + make_interval(hours => hour + 2)) AT TIME ZONE 'Asia/Shanghai' END,
       CASE WHEN all_day THEN day END,
       CASE WHEN all_day THEN day + (r < 0.3)::int END,
       'Asia/Shanghai',
       CASE WHEN undated THEN '每月第一个周五下午' END,
       a.name || '党群服务中心',
       CASE WHEN session THEN pg_temp.gen_id('event', e - 1) END,
       ARRAY[t.topic, (ARRAY['社区治理', '志愿服务', '科技创新', '乡村振兴'])[1 + e % 4]],
       CASE WHEN e % 4 = 0
            THEN jsonb_build_array(jsonb_build_object(
                     'scheme', 'alliance-event', 'value', 'EV-' || lpad(e::text, 7, '0')))
            ELSE '[]' END
  FROM (SELECT e, e % 10 = 9 AS session, e % 20 = 0 AS undated,
               e % 20 <> 0 AND e % 3 = 0 AS all_day, e % 20 <> 0 AND e % 3 <> 0 AS timed,
               date '2019-01-01' + floor(random() * 2900)::int AS day,
               8 + floor(random() * 10)::int AS hour, random() AS r,
               pg_temp.gen_id('organization', 1 + 4 * (e % g.units)) AS unit
          FROM gen AS g, generate_series(0, g.events - 1) AS e) AS x
  JOIN organizations AS u ON u.id = x.unit
  JOIN areas AS a ON a.id = u.area_id
  JOIN (VALUES (0, '主题党日活动', 'themed_activity', '党建'),
               (1, '党建联建座谈会', 'joint_meeting', '党建'),
               (2, '理论学习中心组学习', 'seminar', '理论学习'),
               (3, '党员大会', 'meeting', '党建'),
               (4, '志愿服务日', 'other', '志愿服务'))
    AS t (n, zh, kind, topic) ON t.n = x.e % 5
"#;

/// The organizing unit of each event, and min(20, N) people: a host and
/// a speaker on its behalf, the others attending.
const PARTICIPANTS: &str = r#"
INSERT INTO event_participants (id, event_id, person_id, organization_id, role, on_behalf_of_id)
SELECT pg_temp.gen_id('participant', 100 * e + j), pg_temp.gen_id('event', e),
       CASE WHEN j > 0 THEN pg_temp.gen_id('person', (7919 * e + j - 1) % g.people) END,
       CASE WHEN j = 0 THEN unit END,
       (ARRAY['organizer', 'host', 'speaker', 'attendee'])[least(j + 1, 4)],
       CASE WHEN j IN (1, 2) THEN unit END
  FROM gen AS g, generate_series(0, g.events - 1) AS e,
       LATERAL (SELECT pg_temp.gen_id('organization', 1 + 4 * (e % g.units)) AS unit) AS u,
       generate_series(0, least(20, g.people)) AS j
"#;

/// The stages in the order they run, each named by what it writes.
const STAGES: [(&str, &str); 9] = [
    ("areas", AREAS),
    ("organizations", ORGANIZATIONS),
    ("posts", POSTS),
    ("people", PEOPLE),
    ("roles", ROLES),
    ("post holders", POST_HOLDERS),
    ("alliance members", ALLIANCE_MEMBERS),
    ("events", EVENTS),
    ("participants", PARTICIPANTS),
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Fills an empty register with `people` people and the rest at the same
/// scale (see the module's documentation), in the caller's transaction.
/// `progress` hears each stage's name, rows written and time taken.
///
/// # Errors
/// A register that already holds people is refused (invalid `people`);
/// a failed statement is the database's error.
pub fn register(
    conn: &mut PgConnection,
    people: u32,
    mut progress: impl FnMut(&str, usize, Duration),
) -> Result<(), Error> {
    if people == 0 {
        return Err(Error::invalid("people", "must be at least 1"));
    }
    let existing =
        diesel::sql_query("SELECT count(*) AS count FROM (SELECT 1 FROM people LIMIT 1) AS p")
            .get_result::<Count>(conn)?
            .count;
    if existing > 0 {
        return Err(Error::invalid(
            "people",
            "the register already holds people: generate fills an empty one",
        ));
    }
    let salt = Uuid::new_v4().simple().to_string();
    conn.batch_execute(
        &SETUP
            .replace("{salt}", &salt)
            .replace("{people}", &people.to_string()),
    )?;
    for (name, sql) in STAGES {
        let started = Instant::now();
        let rows = diesel::sql_query(sql).execute(conn)?;
        progress(name, rows, started.elapsed());
    }
    Ok(())
}
