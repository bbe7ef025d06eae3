//! The analyst's dashboard as a browser uses it: log in with an API key, see the
//! ranked areas exactly as `pds results` ranks them, the charts as SVG, segment and
//! wave views, the customers' own words (escaped), and coding review forms that
//! need the session's CSRF token. Runs on SQLite and PostgreSQL.

use crate::common::{emails, Backend, TestApp};
use serde_json::Value;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const SCRIPT: &str = "<script>alert('owned')</script> the parcel came late";

/// A browser without a cookie jar that does not follow redirects, so the test sees
/// every status and `Set-Cookie` itself.
fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

pub(crate) struct Page {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn page(mut response: ureq::http::Response<ureq::Body>) -> Page {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().expect("body");
    Page {
        status,
        headers,
        body,
    }
}

pub(crate) fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    let mut r = browser().get(&format!("{}{path}", app.base_url));
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    page(r.call().expect("GET"))
}

pub(crate) fn post(app: &TestApp, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
    let mut r = browser().post(&format!("{}{path}", app.base_url));
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    page(r.send_form(form.iter().copied()).expect("POST"))
}

/// Forty respondents in two waves and two segments, with areas named in the file;
/// one customer wrote a script tag.
pub(crate) fn study(app: &TestApp) {
    app.create_survey(DISCOVERY, "s");
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..40 {
        let wave = if i % 2 == 0 { "w1" } else { "w2" };
        let segment = if i % 3 == 0 { "lost" } else { "current" };
        let mut rank = 1;
        let mut mention = |text: &str, area: &str| {
            csv.push_str(&format!("r{i},{wave},{segment},{rank},\"{text}\",{area}\n"));
            rank += 1;
        };
        if i == 7 {
            mention(SCRIPT, "Late delivery");
        } else if i % 2 == 0 {
            mention("The parcel was late", "Late delivery");
        }
        if i % 3 != 2 {
            mention("Invoice had the wrong VAT", "Invoice errors");
        }
        if i % 5 == 0 {
            mention("Nobody answered the phone", "Phone support");
        }
        if i % 4 == 1 {
            mention("Rude driver", "Rude staff");
        }
        if rank == 1 {
            csv.push_str(&format!("r{i},{wave},{segment},,,\n"));
        }
    }
    app.import_responses("s", &csv);
}

pub(crate) fn log_in(app: &TestApp) -> String {
    let key = app.create_key("a");
    let response = post(app, "/admin/login", None, &[("key", &key)]);
    assert_eq!(response.status, 303, "{}", response.body);
    assert_eq!(response.header("location"), Some("/admin"));
    let set_cookie = response.header("set-cookie").expect("a session cookie");
    assert!(set_cookie.starts_with("pds_admin="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/admin"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    set_cookie.split(';').next().unwrap().to_string()
}

pub(crate) fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..at + 64].to_string()
}

/// (position, label, score text) of each row of `<table id="areas">`.
fn area_rows(body: &str) -> Vec<(usize, String, String)> {
    let table = &body[body.find("<table id=\"areas\"").expect("areas table")..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<tr data-position=\"")
        .skip(1)
        .map(|row| {
            let position = row[..row.find('"').unwrap()].parse().unwrap();
            let cell = &row[row.find("class=\"area-label\"").unwrap()..];
            let cell = &cell[..cell.find("</th>").unwrap()];
            let label = &cell[cell.rfind("\">").unwrap() + 2..].trim_end_matches("</a>");
            let score = &row[row.find("class=\"score\">").unwrap() + 14..];
            let score = score[..score.find(' ').unwrap()].to_string();
            (position, label.to_string(), score)
        })
        .collect()
}

pub(crate) fn area_link(body: &str, label: &str) -> String {
    let end = body.find(&format!("\">{label}</a>")).expect("area link");
    let start = body[..end].rfind("href=\"").unwrap() + 6;
    body[start..end].to_string()
}

fn an_analyst_works_in_the_dashboard(backend: Backend) {
    let app = TestApp::spawn(backend);
    study(&app);

    // Without a session every dashboard page sends the browser to the login page.
    for path in [
        "/admin",
        "/admin/surveys/s",
        "/admin/surveys/s/charts/scatter.svg",
        "/admin/nonsense",
    ] {
        let r = get(&app, path, None);
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/admin/login"), "{path}");
    }
    let form = get(&app, "/admin/login", None);
    assert_eq!(form.status, 200);
    assert!(form
        .body
        .contains(r#"<form method="post" action="/admin/login""#));
    assert!(form
        .body
        .contains(r#"<input name="key" id="key" type="password""#));

    // A wrong key starts no session.
    let wrong = format!("pds_{}", "0".repeat(64));
    for key in [wrong.as_str(), "nonsense", ""] {
        let r = post(&app, "/admin/login", None, &[("key", key)]);
        assert_eq!(r.status, 401, "{key:?}");
        assert!(r.header("set-cookie").is_none());
        assert!(r.body.contains("not valid"), "{}", r.body);
    }
    assert_eq!(get(&app, "/admin", Some("pds_admin=0123")).status, 303);

    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());
    let list = get(&app, "/admin", cookie);
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains("href=\"/admin/surveys/s\""),
        "{}",
        list.body
    );

    // The survey page ranks areas as `pds results` does, with the same figures.
    let overview = get(&app, "/admin/surveys/s", cookie);
    assert_eq!(overview.status, 200, "{}", overview.body);
    let json: Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "s", "--format", "json"]))
            .unwrap();
    let expected: Vec<(usize, String, String)> = json["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["position"].as_u64().unwrap() as usize,
                a["area"].as_str().unwrap().to_string(),
                format!("{:.3}", a["score"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(expected.len(), 4);
    assert_eq!(area_rows(&overview.body), expected);
    for shown in [
        "joint-v1",
        "wilson-95",
        "student-t-95",
        "rank-bootstrap-v1",
        "seed 20040501",
        "n = 40",
        "P(top 5)",
        "response-rate-v1",
        r#"id="chart-scatter""#,
    ] {
        assert!(
            overview.body.contains(shown),
            "{shown} in {}",
            overview.body
        );
    }

    // The charts: SVG, one point (and one bar) per area, downloadable.
    let scatter = get(&app, "/admin/surveys/s/charts/scatter.svg", cookie);
    assert_eq!(scatter.status, 200);
    assert_eq!(scatter.header("content-type"), Some("image/svg+xml"));
    let doc = roxmltree::Document::parse(&scatter.body).expect("SVG is XML");
    let points = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("class") == Some("point"))
        .count();
    assert_eq!(points, expected.len());
    assert!(scatter.body.contains("wilson-95, n = 40"));
    let bars = get(&app, "/admin/surveys/s/charts/bars.svg?download=1", cookie);
    assert_eq!(bars.status, 200);
    assert!(bars
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment") && d.contains("s-bars.svg")));
    let doc = roxmltree::Document::parse(&bars.body).expect("SVG is XML");
    let bar_count = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some("bar"))
        .count();
    assert_eq!(bar_count, expected.len());

    // Segment and wave views.
    let segments = get(&app, "/admin/surveys/s?by=segment", cookie);
    assert_eq!(segments.status, 200, "{}", segments.body);
    assert!(segments.body.contains(r#"id="segments""#));
    assert!(segments.body.contains("chi-square-v1"), "{}", segments.body);
    let waves = get(&app, "/admin/surveys/s?wave=w2&compare_wave=w1", cookie);
    assert_eq!(waves.status, 200, "{}", waves.body);
    assert!(waves.body.contains(r#"id="wave-change""#));
    assert!(waves.body.contains("two-proportion-z-v1"), "{}", waves.body);
    assert_eq!(get(&app, "/admin/surveys/s?wave=nope", cookie).status, 404);
    assert_eq!(get(&app, "/admin/surveys/nope", cookie).status, 404);

    // An area's page shows the customers' words escaped, and how each was coded.
    let late = area_link(&overview.body, "Late delivery");
    let area = get(&app, &late, cookie);
    assert_eq!(area.status, 200, "{}", area.body);
    assert!(!area.body.contains("<script>alert"), "{}", area.body);
    assert!(area.body.contains("&lt;script&gt;alert("), "{}", area.body);
    assert!(area.body.contains("The parcel was late"));
    assert!(area.body.contains("import"));

    // Coding review: a POST without the session's CSRF token changes nothing.
    let csrf = csrf_of(&area.body);
    for token in [None, Some("0".repeat(64))] {
        let mut form = vec![("action", "rename"), ("label", "Slow delivery")];
        if let Some(t) = &token {
            form.push(("csrf", t));
        }
        let r = post(&app, &late, cookie, &form);
        assert_eq!(r.status, 403, "{token:?}");
    }
    assert!(get(&app, &late, cookie)
        .body
        .contains(">Late delivery</h1>"));
    let r = post(
        &app,
        &late,
        cookie,
        &[
            ("csrf", &csrf),
            ("action", "rename"),
            ("label", "Slow delivery"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("{late}?done=rename").as_str())
    );
    assert!(get(&app, &late, cookie)
        .body
        .contains(">Slow delivery</h1>"));
    // The cached results saw the decision.
    let overview = get(&app, "/admin/surveys/s", cookie);
    assert!(area_rows(&overview.body)
        .iter()
        .any(|(_, label, _)| label == "Slow delivery"));

    // Merge "Rude staff" into "Phone support": asked first, then the rows become
    // one; undone, they are two again, and the log has both decisions.
    let rude = area_link(&overview.body, "Rude staff");
    let rude_id = rude.rsplit('/').next().unwrap();
    let phone = area_link(&overview.body, "Phone support");
    let phone_id = phone.rsplit('/').next().unwrap();
    let overview_rows = || area_rows(&get(&app, "/admin/surveys/s", cookie).body);
    let merge = [
        ("csrf", csrf.as_str()),
        ("action", "merge"),
        ("into", phone_id),
    ];
    let confirmed_merge = [merge.as_slice(), &[("confirmed", "yes")]].concat();
    let r = post(&app, &rude, cookie, &merge);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"id="confirm-form""#), "{}", r.body);
    assert_eq!(overview_rows().len(), 4);
    let r = post(&app, &rude, cookie, &confirmed_merge);
    assert_eq!(r.status, 303, "{}", r.body);
    let merged = format!("{phone}?done=merge&from={rude_id}");
    assert_eq!(r.header("location"), Some(merged.as_str()));
    assert!(get(&app, &merged, cookie).body.contains("Undo the merge"));
    assert_eq!(overview_rows().len(), 3);
    let r = post(
        &app,
        &phone,
        cookie,
        &[("csrf", &csrf), ("action", "unmerge"), ("area", rude_id)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let rows = overview_rows();
    assert!(
        rows.iter().any(|(_, label, _)| label == "Rude staff"),
        "{rows:?}"
    );
    let log = app.pds_ok(&["areas", "log", "--survey", "s"]);
    assert!(log.contains("unmerge"), "{log}");
    let r = post(&app, &rude, cookie, &confirmed_merge);
    assert_eq!(r.status, 303, "{}", r.body);
    let overview = get(&app, "/admin/surveys/s", cookie);
    assert_eq!(area_rows(&overview.body).len(), 3);

    // The dashboard's downloads need the session, not an API key.
    assert_eq!(
        get(&app, "/admin/surveys/s/exports/areas.csv", None).status,
        303
    );
    let export = get(&app, "/admin/surveys/s/exports/areas.csv", cookie);
    assert_eq!(export.status, 200, "{}", export.body);
    let ranked = csv::Reader::from_reader(export.body.as_bytes())
        .records()
        .filter(|r| r.as_ref().is_ok_and(|r| !r[0].is_empty()))
        .count();
    assert_eq!(ranked, 3, "{}", export.body);

    // Move the customer's script-tag mention from "Slow delivery" to "Invoice errors".
    let invoice = area_link(&overview.body, "Invoice errors");
    let invoice_id = invoice.rsplit('/').next().unwrap();
    let body = get(&app, &late, cookie).body;
    let before = &body[..body.find("&lt;script&gt;alert(").unwrap()];
    let at = before.rfind("name=\"mention\" value=\"").unwrap() + 22;
    let mention = &before[at..at + before[at..].find('"').unwrap()];
    let r = post(
        &app,
        &late,
        cookie,
        &[
            ("csrf", &csrf),
            ("action", "move"),
            ("mention", mention),
            ("to", invoice_id),
            ("confirmed", "yes"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!get(&app, &late, cookie).body.contains("&lt;script&gt;"));
    assert!(get(&app, &invoice, cookie)
        .body
        .contains("&lt;script&gt;alert("));

    // Logging out ends the session: the cookie opens nothing any more.
    let r = post(&app, "/admin/logout", cookie, &[("csrf", &csrf)]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/login"));
    assert_eq!(get(&app, "/admin", cookie).status, 303);
}

on_both_backends!(an_analyst_works_in_the_dashboard);

#[test]
fn a_revoked_key_ends_its_sessions() {
    let app = TestApp::spawn(Backend::Sqlite);
    let cookie = log_in(&app);
    assert_eq!(get(&app, "/admin", Some(&cookie)).status, 200);
    app.pds_ok(&["keys", "revoke", "a"]);
    assert_eq!(get(&app, "/admin", Some(&cookie)).status, 303);
}

#[test]
fn hostile_segment_values_and_area_names_are_shown_as_text() {
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(DISCOVERY, "s");
    let segment = "<img src=x onerror=alert(1)>";
    let area = "<script>alert('area')</script>";
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..30 {
        let seg = if i % 2 == 0 { segment } else { "current" };
        csv.push_str(&format!(
            "r{i},w1,\"{seg}\",1,\"The parcel was late\",\"{area}\"\n"
        ));
    }
    app.import_responses("s", &csv);
    let cookie = log_in(&app);
    for path in ["/admin/surveys/s", "/admin/surveys/s?by=segment"] {
        let page = get(&app, path, Some(&cookie));
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(!page.body.contains(segment), "{path}: {}", page.body);
        assert!(!page.body.contains(area), "{path}: {}", page.body);
        assert!(
            page.body.contains("&lt;script&gt;alert("),
            "{path} shows the area name as text: {}",
            page.body
        );
        if path.ends_with("segment") {
            assert!(
                page.body
                    .contains("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"),
                "{path} shows the segment value as text: {}",
                page.body
            );
        }
    }
}

/// Answers imported without areas: the survey page lists them with "code new
/// answers"; after coding, an area's page groups identical texts with their count,
/// ranks, segment and answer date; a move is confirmed, then undone.
fn new_answers_are_coded_from_the_dashboard_and_a_move_is_undone(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(DISCOVERY, "s");
    let mut csv = String::from("respondent,wave,segment,rank,problem\n");
    for i in 0..12 {
        let kind = if i % 2 == 0 { "current" } else { "lost" };
        csv.push_str(&format!("r{i},w1,{kind},1,The delivery was late\n"));
        csv.push_str(&format!("r{i},w1,{kind},2,The invoice had errors\n"));
    }
    app.import_responses("s", &csv);
    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());

    let overview = get(&app, "/admin/surveys/s", cookie);
    assert!(
        overview.body.contains(r#"id="new-answers""#),
        "{}",
        overview.body
    );
    assert!(overview.body.contains("The delivery was late"));
    assert!(overview.body.contains(r#"<option value="segment""#));
    let csrf = csrf_of(&overview.body);
    let r = post(&app, "/admin/surveys/s/code", cookie, &[]);
    assert_eq!(r.status, 403, "coding needs the CSRF token");
    let r = post(&app, "/admin/surveys/s/code", cookie, &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let overview = get(&app, r.header("location").unwrap(), cookie);
    assert!(overview.body.contains(r#"id="coded""#), "{}", overview.body);
    assert!(!overview.body.contains(r#"id="new-answers""#));
    let rows = area_rows(&overview.body);
    assert_eq!(rows.len(), 2, "{rows:?}");

    // Twelve identical texts are one row with their count, rank and segments.
    let late = area_link(&overview.body, &rows[0].1);
    let invoice = area_link(&overview.body, &rows[1].1);
    let page = get(&app, &late, cookie);
    assert_eq!(
        page.body.matches("The delivery was late").count(),
        1,
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"<td class="count">12</td>"#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"<td class="rank">1</td>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("segment: current; segment: lost"));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(page
        .body
        .contains(&format!(r#"<td class="answered">{today}"#)));

    // Move the twelve to the other area, confirmed, then undo it.
    let at = page.body.find(r#"name="mention" value=""#).unwrap() + 22;
    let ids = &page.body[at..at + page.body[at..].find('"').unwrap()];
    let invoice_id = invoice.rsplit('/').next().unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "move"),
        ("mention", ids),
        ("to", invoice_id),
    ];
    let ask = post(&app, &late, cookie, &form);
    assert!(ask.body.contains("Move 12 mentions to"), "{}", ask.body);
    let r = post(
        &app,
        &late,
        cookie,
        &[form.as_slice(), &[("confirmed", "yes")][..]].concat(),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let done = get(&app, r.header("location").unwrap(), cookie);
    assert!(done.body.contains("Undo the move"), "{}", done.body);
    assert!(!done.body.contains("The delivery was late"));
    let undo_at = done.body.find(r#"value="unmove""#).expect("an undo form");
    let undo_form = &done.body[undo_at..undo_at + done.body[undo_at..].find("</form>").unwrap()];
    let undo: Vec<(String, String)> = undo_form
        .split("name=\"mention\" value=\"")
        .skip(1)
        .map(|rest| {
            (
                "mention".to_string(),
                rest[..rest.find('"').unwrap()].to_string(),
            )
        })
        .collect();
    assert_eq!(undo.len(), 12);
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("action", "unmove")];
    fields.extend(undo.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = post(&app, &late, cookie, &fields);
    assert_eq!(r.status, 303, "{}", r.body);
    let back = get(&app, r.header("location").unwrap(), cookie);
    assert!(back.body.contains("The move is undone"), "{}", back.body);
    assert!(back.body.contains(r#"<td class="count">12</td>"#));
    let log = app.pds_ok(&["areas", "log", "--survey", "s"]);
    assert!(
        log.contains("unmove") && log.contains("reversing a move"),
        "{log}"
    );
}

on_both_backends!(new_answers_are_coded_from_the_dashboard_and_a_move_is_undone);

/// Two customers complain of late deliveries: their cases are listed in the
/// dashboard, filtered by status, acknowledged together, and each case's page has
/// the words, the history and what cannot be done any more, in words.
fn cases_are_listed_filtered_and_acknowledged_together(backend: Backend) {
    use crate::common::{link_in, post_form, received_for};
    let app = TestApp::spawn(backend);
    let [anna, bo, team] = emails(["anna", "bo", "ops"]);
    let folder = crate::cases::survey_folder(&app, "study", &team, |_| {});
    crate::cases::study(
        &app,
        &folder,
        "s",
        &[(&anna, "Anna Åberg", "en"), (&bo, "Bo Ek", "en")],
    );
    let agent = app.http();
    for (email, words) in [
        (&anna, "Late delivery of the sofa"),
        (&bo, "Late delivery, again"),
    ] {
        let link = link_in(&received_for(email, 1)[0], &app.base_url);
        let answer = [("problem_1", words), ("rank_1", "1"), ("consent_1", "yes")];
        assert_eq!(post_form(&agent, &link, &answer).0, 200);
    }
    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());

    let list = get(&app, "/admin/cases?status=open", cookie);
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("Late delivery of the sofa")
            && list.body.contains("Late delivery, again")
    );
    assert!(get(&app, "/admin/cases?status=resolved", cookie)
        .body
        .contains("No case matches"));
    let csrf = csrf_of(&list.body);
    let r = post(
        &app,
        "/admin/cases",
        cookie,
        &[
            ("csrf", &csrf),
            ("bulk", "acknowledge"),
            ("case", "1"),
            ("case", "2"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/admin/cases?done=acknowledge&count=2")
    );
    assert!(get(&app, "/admin/cases?status=open", cookie)
        .body
        .contains("No case matches"));

    // The figures page says how fast the team acted, with the method and each n.
    let figures = get(&app, "/admin/cases/figures", cookie);
    assert_eq!(figures.status, 200, "{}", figures.body);
    let table = &figures.body[figures
        .body
        .find("id=\"figures-s-team\"")
        .expect("the per-team table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(figures.body.contains("median-v1"), "{}", figures.body);
    assert!(
        table.contains("<td>2</td>") && table.contains("h (2)"),
        "two cases, both acknowledged, the median over n = 2: {table}"
    );

    let case = get(&app, "/admin/cases/1", cookie);
    assert!(case.body.contains("Case #1: acknowledged"), "{}", case.body);
    assert!(case.body.contains("Late delivery of the sofa"));
    assert!(case.body.contains("acknowledge"));
    let r = post(
        &app,
        "/admin/cases",
        cookie,
        &[("csrf", &csrf), ("case", "1"), ("action", "acknowledge")],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains(r#"id="case-error""#), "{}", r.body);
    assert!(r.body.contains("cannot be acknowledged now"), "{}", r.body);
    let r = post(
        &app,
        "/admin/cases",
        cookie,
        &[
            ("csrf", &csrf),
            ("case", "1"),
            ("action", "resolve"),
            ("note", "Sent a new sofa"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(get(&app, "/admin/cases/1", cookie)
        .body
        .contains("Sent a new sofa"));
}

on_both_backends!(cases_are_listed_filtered_and_acknowledged_together);
