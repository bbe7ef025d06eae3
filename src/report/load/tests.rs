//! Loading by ranges of ids, on one reader or two, against the plain reading of
//! every response and mention in order.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::*;
use crate::config::DatabaseUrl;
use crate::db::Database;
use crate::survey::store;

fn survey(conn: &mut AnyConnection, slug: &str) -> i64 {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
    let loaded =
        crate::survey::Survey::from_folder(std::path::Path::new(folder)).expect("the template");
    store::insert(conn, &slug.parse().expect("a slug"), &loaded).expect("stored")
}

/// Two surveys whose responses interleave; survey `s` has two waves, three areas,
/// mentions in areas, in none (coded or not yet), ranks out of order and tied,
/// and one mention whose area id names no area. Returns `s`'s id and its waves.
fn two_surveys(conn: &mut AnyConnection) -> (i64, [i64; 2]) {
    let (s, t) = (survey(conn, "s"), survey(conn, "t"));
    let mut sql = format!(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO waves (id, survey_id, label, created_at) VALUES
           (901, {s}, 'w1', '2026-12-01 10:00:00'), (902, {s}, 'w2', '2026-12-01 10:00:00'),
           (903, {t}, 'w1', '2026-12-01 10:00:00');
         INSERT INTO areas (id, survey_id, key, label, created_at, origin, status, labels) VALUES
           (71, {s}, 'late', 'Late delivery', '2026-12-01 10:00:00', 'rule', 'accepted', '{{}}'),
           (72, {s}, 'rude', 'Rude staff', '2026-12-01 10:00:00', 'analyst', 'accepted', '{{}}'),
           (73, {s}, 'price', 'Price', '2026-12-01 10:00:00', 'import', 'accepted', '{{}}');"
    );
    let mut next = 7u64;
    let mut random = move |below: u64| {
        next = next
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (next >> 33) % below
    };
    for id in 1..=60i64 {
        let (survey_id, wave) = match id % 5 {
            0 => (t, 903),
            1 | 3 => (s, 902),
            _ => (s, 901),
        };
        sql += &format!(
            "INSERT INTO responses (id, survey_id, wave_id, locale, attributes, no_problems,
               submitted_at, updated_at) VALUES ({id}, {survey_id}, {wave}, 'en', '{{}}', 0,
               '2026-12-01 10:00:00', '2026-12-01 10:00:00');"
        );
        for _ in 0..random(5) {
            let area = match random(8) {
                0 => "NULL".to_string(),
                a => (71 + a % 3).to_string(),
            };
            let coded_by = ["NULL", "'none'", "'rule'"][random(3) as usize];
            sql += &format!(
                "INSERT INTO mentions (response_id, rank, text, may_contact, area_id, coded_by)
                 VALUES ({id}, {}, 'text {id}', 0, {area}, {coded_by});",
                1 + random(3)
            );
        }
    }
    sql += "INSERT INTO mentions (response_id, rank, text, may_contact, area_id, coded_by)
            VALUES (44, 2, 'in a lost area', 0, 99, 'rule');";
    conn.batch_execute(&(sql + "PRAGMA foreign_keys = ON;"))
        .expect("test data");
    (s, [901, 902])
}

/// What loading must give: every response in scope and its mentions, read in
/// order, areas numbered by first mention.
fn read_plainly(conn: &mut AnyConnection, scope: Scope) -> Loaded {
    let respondents: Vec<Respondent> = responses::table
        .filter(responses::survey_id.eq(scope.survey_id))
        .filter(responses::wave_id.eq_any(scope.wave_ids.unwrap_or(&[901, 902]).to_vec()))
        .order(responses::id)
        .select((
            responses::id,
            responses::wave_id,
            responses::invitation_id.is_not_null(),
        ))
        .load::<(i64, i64, bool)>(conn)
        .expect("responses")
        .into_iter()
        .map(|(response_id, wave_id, via_form)| Respondent {
            response_id,
            wave_id,
            via_form,
        })
        .collect();
    let known: HashMap<i64, (String, String)> = areas_t::table
        .select((areas_t::id, areas_t::label, areas_t::origin))
        .load::<(i64, String, String)>(conn)
        .expect("areas")
        .into_iter()
        .map(|(id, label, origin)| (id, (label, origin)))
        .collect();
    type Row = (i64, i32, Option<i64>, String, Option<String>);
    let rows: Vec<Row> = mentions::table
        .order((mentions::response_id, mentions::rank, mentions::id))
        .select((
            mentions::response_id,
            mentions::rank,
            mentions::area_id,
            mentions::text,
            mentions::coded_by,
        ))
        .load(conn)
        .expect("mentions");
    let mut loaded = Loaded::default();
    let mut nested = Vec::new();
    let mut numbering = Numbering::default();
    for r in &respondents {
        let mut coded = Vec::new();
        for (_, rank, area_id, text, coded_by) in rows.iter().filter(|m| m.0 == r.response_id) {
            match area_id.and_then(|id| Some((id, known.get(&id)?))) {
                Some((id, (label, origin))) => coded.push(stats::Mention {
                    area: numbering.area(id, label, &areas::grouping_of(origin)),
                    rank: *rank as u32,
                }),
                None => loaded.uncoded.push(UncodedMention {
                    response_id: r.response_id,
                    wave_id: r.wave_id,
                    text: text.clone(),
                    coded_by: coded_by.clone(),
                }),
            }
        }
        nested.push(coded);
    }
    loaded.mentions = stats::FlatMentions::from_nested(&nested);
    loaded.respondents = respondents;
    loaded.areas = numbering.areas;
    loaded
}

fn assert_same(got: &Loaded, expected: &Loaded) {
    assert_eq!(got.respondents, expected.respondents);
    assert_eq!(got.mentions, expected.mentions);
    assert_eq!(got.areas, expected.areas);
    let uncoded = |l: &Loaded| -> Vec<(i64, i64, String, Option<String>)> {
        (l.uncoded.iter())
            .map(|m| (m.response_id, m.wave_id, m.text.clone(), m.coded_by.clone()))
            .collect()
    };
    assert_eq!(uncoded(got), uncoded(expected));
}

#[test]
fn ranges_on_two_readers_load_what_a_plain_reading_gives() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("l.db"))).expect("a db");
    let mut conn = db.conn().expect("a connection");
    let (s, waves) = two_surveys(&mut conn);
    for wave_ids in [None, Some(&waves[1..])] {
        let scope = Scope {
            survey_id: s,
            wave_ids,
        };
        let expected = read_plainly(&mut conn, scope);
        assert!(expected.respondents.len() > 20 && expected.areas.len() == 3);
        assert!(expected.uncoded.iter().any(|m| m.coded_by.is_none()));
        // 4 ids a range: 15 ranges, read by this connection and a second one;
        // then one range, read by this one alone.
        for width in [4, 1000] {
            assert_same(
                &responses_in_ranges(&mut conn, scope, None, width).expect("loaded"),
                &expected,
            );
        }
        assert_same(
            &responses_of(&mut conn, scope, None).expect("loaded"),
            &expected,
        );
    }
    // The mention in an area that does not exist counts as not coded.
    let all = responses_of(
        &mut conn,
        Scope {
            survey_id: s,
            wave_ids: None,
        },
        None,
    )
    .expect("loaded");
    assert!(all.uncoded.iter().any(|m| m.text == "in a lost area"));
    // A survey without responses loads none.
    let none = Scope {
        survey_id: s + 100,
        wave_ids: None,
    };
    assert!(responses_of(&mut conn, none, None)
        .expect("loaded")
        .respondents
        .is_empty());
}
