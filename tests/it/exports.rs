//! An analyst takes a survey to a spreadsheet with `pds export`: the ranked areas,
//! every mention as the customer wrote it, and the responses. What they would check:
//! the columns, the customers' words unchanged (Swedish letters, quotes, line
//! breaks, emoji), formulas neutralised, the Excel spelling (BOM, `;`, decimal
//! comma, CRLF) and that no export names or addresses a customer. Runs on SQLite
//! and PostgreSQL, through the real binary.

use crate::common::{args, link_in, post_form, received_for, unique, Backend, TestApp};
use diesel::prelude::*;
use pds::db::schema::{mentions, responses};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

const LATE: &str = "Leveransen kom två veckor för sent – igen! 😤";
const QUOTED: &str = "Säljaren sa \"vi ringer\" men ingen ringde";
const TWO_LINES: &str = "Fakturan var fel;\nmomsen saknades, på allt";
const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example/x\",\"Klicka här\")";
const PLUS: &str = "+1 avgift som ingen förklarade";
const MINUS: &str = "-2 kr fel på varje rad";
const AT: &str = "@SUM(A1:A9) stod det på kvittot";
/// Neither the form nor an import keeps a leading tab or CR (they trim), but a
/// text stored by another tool could have one; the export must hold either way.
const TAB: &str = "\tTabb först i texten";
const CR: &str = "\rVagnretur först";

fn responses_file() -> String {
    let csv_text = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    [
        "respondent,wave,segment,rank,problem,area".to_string(),
        format!("p-001,2026-H1,current,1,{},Leverans", csv_text(LATE)),
        format!("p-001,2026-H1,current,2,{},", csv_text(QUOTED)),
        format!("p-001,2026-H1,current,3,{},", csv_text(TWO_LINES)),
        format!("p-002,2026-H1,lost,1,{},", csv_text(HYPERLINK)),
        format!("p-002,2026-H1,lost,2,{},", csv_text(PLUS)),
        format!("p-002,2026-H1,lost,3,{},", csv_text(MINUS)),
        format!("p-002,2026-H1,lost,4,{},", csv_text(AT)),
        "p-003,2026-H1,current,1,placeholder tab,".to_string(),
        "p-003,2026-H1,current,2,placeholder cr,".to_string(),
        "p-004,2026-H2,potential,,,".to_string(),
        "p-005,2026-H1,current,1,Leveransen var sen,Leverans".to_string(),
    ]
    .join("\n")
        + "\n"
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Header and rows of a standard CSV export.
fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    parse_with(bytes, b',')
}

fn parse_with(bytes: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn export(app: &TestApp, what: &str, extra: &[&str]) -> Vec<u8> {
    let path = app.dir.path().join(format!("{}.csv", unique(what)));
    let mut args = vec![
        "export",
        "--survey",
        "phone",
        "--what",
        what,
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = app.pds_ok(&args);
    assert!(out.contains(&format!("to {}", path.display())), "{out}");
    read(&path)
}

fn analyst_exports_mentions_as_the_customers_wrote_them(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    app.import_responses("phone", &responses_file());
    {
        let mut conn = app.db.conn().unwrap();
        for (placeholder, text) in [("placeholder tab", TAB), ("placeholder cr", CR)] {
            let updated = diesel::update(mentions::table.filter(mentions::text.eq(placeholder)))
                .set(mentions::text.eq(text))
                .execute(&mut *conn)
                .unwrap();
            assert_eq!(updated, 1);
        }
    }

    // Mentions: one row each, in the order they were stored.
    let bytes = export(&app, "mentions", &[]);
    assert!(
        !bytes.starts_with("\u{feff}".as_bytes()),
        "no BOM by default"
    );
    let (header, rows) = parse(&bytes);
    assert_eq!(
        header,
        [
            "survey",
            "wave",
            "response_id",
            "mention_id",
            "segment",
            "rank",
            "text",
            "frequency",
            "may_contact",
            "area",
            "coded_by"
        ]
    );
    assert_eq!(rows.len(), 10, "p-004 has no problems, so no mention rows");
    let text = column(&header, "text");
    let texts: Vec<&str> = rows.iter().map(|r| r[text].as_str()).collect();
    assert_eq!(
        texts,
        [
            LATE,
            QUOTED,
            TWO_LINES,
            &format!("'{HYPERLINK}"),
            &format!("'{PLUS}"),
            &format!("'{MINUS}"),
            &format!("'{AT}"),
            &format!("'{TAB}"),
            &format!("'{CR}"),
            "Leveransen var sen",
        ]
    );
    let first = &rows[0];
    assert_eq!(first[column(&header, "survey")], "phone");
    assert_eq!(first[column(&header, "wave")], "2026-H1");
    assert_eq!(first[column(&header, "segment")], "current");
    assert_eq!(first[column(&header, "rank")], "1");
    assert_eq!(first[column(&header, "area")], "Leverans");
    assert_eq!(first[column(&header, "coded_by")], "import");
    assert_eq!(first[column(&header, "may_contact")], "false");
    assert_eq!(rows[3][column(&header, "segment")], "lost");
    assert_eq!(rows[6][column(&header, "rank")], "4");
    assert_eq!(rows[1][column(&header, "area")], "", "not coded yet");
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r[column(&header, "mention_id")].parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // The same rows for Excel: BOM, `;`, CRLF, and the text unchanged.
    let excel = export(&app, "mentions", &["--excel"]);
    let body = excel
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a UTF-8 BOM first");
    assert!(body.starts_with(b"survey;wave;response_id;"));
    assert!(body.ends_with(b"\r\n"));
    assert_eq!(
        String::from_utf8_lossy(body).matches("\r\n").count(),
        rows.len() + 1,
        "CRLF after each record (a line break inside a text stays as written)"
    );
    assert_eq!(parse_with(body, b';'), (header.clone(), rows.clone()));

    // One wave only.
    let (_, later) = parse(&export(&app, "mentions", &["--wave", "2026-H2"]));
    assert!(later.is_empty(), "{later:?}");
    let unknown = app.pds(&args(
        "export --survey phone --what mentions --wave 2027-H1",
    ));
    assert_eq!(unknown.status.code(), Some(2));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(message.contains("no wave \"2027-H1\""), "{message}");

    // Responses: one row each, with the number of mentions.
    let (header, rows) = parse(&export(&app, "responses", &[]));
    assert_eq!(
        header,
        [
            "survey",
            "wave",
            "response_id",
            "source",
            "submitted_at",
            "updated_at",
            "no_problems",
            "mentions",
            "segment"
        ]
    );
    let of = |name: &str| -> Vec<&str> {
        let c = column(&header, name);
        rows.iter().map(|r| r[c].as_str()).collect()
    };
    assert_eq!(of("mentions"), ["3", "4", "2", "0", "1"]);
    assert_eq!(
        of("no_problems"),
        ["false", "false", "false", "true", "false"]
    );
    assert_eq!(of("wave")[3], "2026-H2");
    assert_eq!(
        of("segment"),
        ["current", "lost", "current", "potential", "current"]
    );
    assert!(of("source").iter().all(|s| *s == "import"));
    let submitted = of("submitted_at")[0];
    assert!(
        chrono::NaiveDateTime::parse_from_str(submitted, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{submitted}"
    );
    let (_, later) = parse(&export(&app, "responses", &["--wave", "2026-H2"]));
    assert_eq!(later.len(), 1);

    // Areas: exactly what `pds results --format csv` writes, and for Excel the
    // same figures with a decimal comma in the numbers only.
    let areas = export(&app, "areas", &[]);
    let results = app.pds_ok(&["results", "--survey", "phone", "--format", "csv"]);
    assert_eq!(String::from_utf8(areas.clone()).unwrap(), results);
    let (header, rows) = parse(&areas);
    let excel = export(&app, "areas", &["--excel"]);
    let (excel_header, excel_rows) =
        parse_with(excel.strip_prefix("\u{feff}".as_bytes()).unwrap(), b';');
    assert_eq!(excel_header, header);
    assert_eq!(excel_rows.len(), rows.len());
    let overall = rows
        .iter()
        .position(|r| r[column(&header, "area")] == "Leverans");
    let i = overall.expect("the area named in the file is ranked");
    let (standard, comma) = (&rows[i], &excel_rows[i]);
    assert_eq!(comma[column(&header, "method")], "joint-v1");
    assert_eq!(comma[column(&header, "frequency_method")], "wilson-95");
    assert_eq!(comma[column(&header, "grouping")], "import");
    assert_eq!(
        comma[column(&header, "n")],
        "5",
        "p-004 had no problems and counts"
    );
    assert_eq!(comma[column(&header, "mentions")], "2");
    assert_eq!(standard[column(&header, "frequency")], "0.4");
    assert_eq!(comma[column(&header, "frequency")], "0,4");
    for name in ["score", "frequency_low", "frequency_high", "p_top_k"] {
        let (s, c) = (
            &standard[column(&header, name)],
            &comma[column(&header, name)],
        );
        assert!(!c.contains('.'), "{name}: {c}");
        assert_eq!(c.replace(',', "."), *s, "{name}: full precision kept");
    }
    // Uncoded mentions are listed with their text neutralised, commas untouched.
    let uncoded: Vec<&Vec<String>> = excel_rows
        .iter()
        .filter(|r| r[column(&header, "section")] == "uncoded")
        .collect();
    assert!(uncoded
        .iter()
        .any(|r| r[column(&header, "area")] == format!("'{HYPERLINK}")));
    assert!(uncoded
        .iter()
        .any(|r| r[column(&header, "area")] == TWO_LINES));
}

on_both_backends!(analyst_exports_mentions_as_the_customers_wrote_them);

/// Customers answer through their emailed links; no export, in either spelling,
/// carries their email address or name, while their segment columns are there.
fn exports_never_name_or_address_a_customer(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    let domain = format!("{}.example", unique("x"));
    let people = [("anna", "Anna Åkerlund"), ("bo", "Bo Östlund")];
    let mut contacts = String::from("email,name,locale,customer_type,region\n");
    for (p, name) in people {
        contacts.push_str(&format!("{p}@{domain},{name},sv,current,Norr\n"));
    }
    app.import_contacts(&contacts);
    app.invite("phone", "2026-H1");
    let agent = app.http();
    for (p, _) in people {
        let mail = received_for(&format!("{p}@{domain}"), 1);
        let link = link_in(&mail[0], &app.base_url);
        let (status, page) = post_form(
            &agent,
            &link,
            &[
                ("problem_1", "Leveransen kom för sent"),
                ("rank_1", "1"),
                ("frequency_1", "often"),
                ("consent_1", "yes"),
            ],
        );
        assert_eq!(status, 200, "{page}");
    }
    app.pds_ok(&["code", "--survey", "phone"]);

    for what in ["areas", "mentions", "responses"] {
        for extra in [&[][..], &["--excel"][..]] {
            let bytes = export(&app, what, extra);
            let text = String::from_utf8(bytes).unwrap();
            assert!(!text.contains(&domain), "{what} {extra:?}:\n{text}");
            assert!(!text.contains('@'), "{what} {extra:?}:\n{text}");
            for (p, name) in people {
                assert!(!text.contains(name), "{what} {extra:?}:\n{text}");
                assert!(!text.contains(&format!("{p}@")), "{what} {extra:?}");
            }
        }
    }
    let (header, rows) = parse(&export(&app, "mentions", &[]));
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[column(&header, "customer_type")], "current");
        assert_eq!(r[column(&header, "region")], "Norr");
        assert_eq!(r[column(&header, "text")], "Leveransen kom för sent");
        assert_eq!(r[column(&header, "frequency")], "often");
        assert_eq!(r[column(&header, "may_contact")], "true");
        assert_ne!(r[column(&header, "area")], "", "coded by pds code");
        assert_ne!(r[column(&header, "coded_by")], "");
    }
    let (header, rows) = parse(&export(&app, "responses", &[]));
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[column(&header, "source")] == "form"));
    assert!(!header
        .iter()
        .any(|h| h.contains("email") || h.contains("name")));
}

on_both_backends!(exports_never_name_or_address_a_customer);

/// Respondents `from..to`, a third of them in the second wave, with one to four
/// problems each (some with commas, quotes or a line break, half with an area).
fn many_respondents(from: usize, to: usize, wording: &str) -> String {
    let mut file = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in from..to {
        let wave = if i % 3 == 0 { "2026-H2" } else { "2026-H1" };
        let segment = ["current", "lost", "new"][i % 3];
        for rank in 1..=1 + i % 4 {
            let text = match (i + rank) % 5 {
                0 => format!("\"Problem {rank}, \"\"{wording}\"\" för kund {i}\""),
                1 => format!("\"Två rader {wording} {i}\nrad två\""),
                _ => format!("Problem {rank} {wording} {i}"),
            };
            let area = if i % 2 == 0 {
                format!("Område {}", i % 7)
            } else {
                String::new()
            };
            file.push_str(&format!("r{i},{wave},{segment},{rank},{text},{area}\n"));
        }
    }
    file
}

/// More mentions than a page (SQLite reads them 10,000 at a time, PostgreSQL in
/// one COPY), two waves, and respondents imported again, whose new mentions come
/// after later respondents' by id: the mention export is byte for byte the same
/// on both backends, in both spellings and for one wave, every mention once, in
/// the order of their ids.
#[test]
fn the_mention_export_is_the_same_on_both_backends() {
    let first = many_respondents(0, 9_000, "först");
    let again = many_respondents(100, 160, "igen");
    let exports = [Backend::Sqlite, Backend::Postgres].map(|backend| {
        let app = TestApp::spawn(backend);
        app.create_survey(TEMPLATE, "phone");
        app.import_responses("phone", &first);
        app.import_responses("phone", &again);
        [&[][..], &["--excel"][..], &["--wave", "2026-H2"][..]]
            .map(|extra| export(&app, "mentions", extra))
    });
    let [sqlite, postgres] = exports;
    for (which, (s, p)) in ["standard", "excel", "one wave"]
        .iter()
        .zip(sqlite.iter().zip(&postgres))
    {
        assert!(
            s == p,
            "{which}: SQLite wrote {} bytes, PostgreSQL {}",
            s.len(),
            p.len()
        );
    }

    let (header, rows) = parse(&sqlite[0]);
    // The answers imported again replace the first ones, with as many problems.
    let expected = (0..9_000).map(|i| 1 + i % 4).sum::<usize>();
    assert_eq!(rows.len(), expected);
    assert!(expected > 20_000, "more than two pages");
    let number = |r: &Vec<String>, c: &str| r[column(&header, c)].parse::<i64>().unwrap();
    assert!(rows
        .windows(2)
        .all(|w| number(&w[0], "mention_id") < number(&w[1], "mention_id")));
    assert!(
        rows.windows(2)
            .any(|w| number(&w[0], "response_id") > number(&w[1], "response_id")),
        "the answers imported again come after later respondents' by mention id"
    );
    let again_rows: Vec<_> = rows
        .iter()
        .filter(|r| r[column(&header, "text")].contains("igen"))
        .collect();
    assert_eq!(
        again_rows.len(),
        (100..160).map(|i| 1 + i % 4).sum::<usize>()
    );
    assert!(rows
        .iter()
        .any(|r| r[column(&header, "text")].contains('\n')));
    let (_, wave_rows) = parse(&sqlite[2]);
    assert_eq!(
        wave_rows.len(),
        (0..9_000)
            .filter(|i| i % 3 == 0)
            .map(|i| 1 + i % 4)
            .sum::<usize>()
    );
    assert!(wave_rows
        .iter()
        .all(|r| r[column(&header, "wave")] == "2026-H2"));
}

/// Segment columns that cannot be read (written by another tool) stop a mention
/// export before it writes a row, naming the first such response by id, on both
/// backends (PostgreSQL reads each distinct value once, SQLite every response).
fn an_unreadable_segment_column_stops_the_export_naming_its_response(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    app.import_responses("phone", &responses_file());
    let ids: Vec<i64> = {
        let mut conn = app.db.conn().unwrap();
        let ids: Vec<i64> = responses::table
            .order(responses::id)
            .select(responses::id)
            .load(&mut *conn)
            .unwrap();
        for (id, stored) in [(ids[3], "[\"Norr\"]"), (ids[1], "not json")] {
            diesel::update(responses::table.find(id))
                .set(responses::attributes.eq(stored))
                .execute(&mut *conn)
                .unwrap();
        }
        ids
    };
    let path = app.dir.path().join("broken.csv");
    let out = app.pds(&[
        "export",
        "--survey",
        "phone",
        "--what",
        "mentions",
        "-o",
        path.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("response {}", ids[1])), "{said}");
    assert!(!said.contains(&format!("response {}", ids[3])), "{said}");
}

on_both_backends!(an_unreadable_segment_column_stops_the_export_naming_its_response);
