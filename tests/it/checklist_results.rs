//! Results of a checklist survey: customers in two segments and staff answer the
//! shipped checklist over HTTP from their emailed links; `pds results` shows every
//! section (A, B, crawford-v1, joint-v1, preemptible-v1 with intervals, method names
//! and n; segments; waves; write-ins; the staff gap), staff never count as
//! customers, and the API and the dashboard show the same. Runs on SQLite and
//! PostgreSQL.

use serde_json::Value;

use crate::common::{args, get, link_in, post_form, received_for, unique, Backend, TestApp};

const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");
const ITEMS: [&str; 4] = [
    "late-delivery",
    "damaged-goods",
    "invoice-errors",
    "hard-to-reach",
];

/// One answer to one item: (item, experienced, bother, solved elsewhere).
type ItemAnswer = (&'static str, &'static str, Option<u8>, Option<&'static str>);

/// What customer `i` of a segment answers. Lost customers meet late deliveries and
/// an unreachable service often and are much bothered; current ones less so; a
/// few meet invoice errors; damaged goods are rare.
fn customer_answers(lost: bool, i: usize) -> Vec<ItemAnswer> {
    let late = match (lost, i % 3) {
        (true, _) => ("late-delivery", "often", Some(5), Some("yes")),
        (false, 0) => ("late-delivery", "often", Some(4), Some("no")),
        (false, _) => ("late-delivery", "sometimes", Some(2), Some("dont_know")),
    };
    let reach = if lost {
        ("hard-to-reach", "often", Some(5), Some("no"))
    } else if i % 3 == 1 {
        ("hard-to-reach", "sometimes", Some(3), None)
    } else {
        ("hard-to-reach", "never", None, None)
    };
    let invoice = if i % 2 == 0 {
        ("invoice-errors", "often", Some(3), Some("no"))
    } else {
        ("invoice-errors", "never", None, None)
    };
    let damaged = if i == 0 {
        ("damaged-goods", "sometimes", Some(4), None)
    } else {
        ("damaged-goods", "never", None, None)
    };
    vec![late, damaged, invoice, reach]
}

/// Staff think invoices and damaged goods matter most and barely see the rest.
fn staff_answers(i: usize) -> Vec<ItemAnswer> {
    vec![
        ("late-delivery", "sometimes", Some(2), None),
        ("damaged-goods", "often", Some(5), None),
        (
            "invoice-errors",
            "often",
            Some(if i % 2 == 0 { 5 } else { 4 }),
            None,
        ),
        ("hard-to-reach", "never", None, None),
    ]
}

fn form_of(answers: &[ItemAnswer], write_in: Option<&str>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (item, experienced, bother, solved) in answers {
        pairs.push((format!("experienced_{item}"), experienced.to_string()));
        if let Some(b) = bother {
            pairs.push((format!("bother_{item}"), b.to_string()));
        }
        if let Some(s) = solved {
            pairs.push((format!("solved_{item}"), s.to_string()));
        }
    }
    if let Some(text) = write_in {
        pairs.push(("problem_1".into(), text.into()));
        pairs.push(("rank_1".into(), "1".into()));
    }
    pairs
}

/// Contacts `(email, segment)` imported into `audience`.
fn import_contacts(app: &TestApp, name: &str, audience: &str, segments: &[&str]) -> Vec<String> {
    let mut csv = String::from("email,name,locale,customer_type\n");
    let emails: Vec<String> = segments
        .iter()
        .map(|s| {
            let email = format!("{}@{}.example", unique(name), unique("d"));
            csv.push_str(&format!("{email},{name},en,{s}\n"));
            email
        })
        .collect();
    let file = app.write_file(&format!("{name}.csv"), &csv);
    app.pds_ok(&[
        "contacts",
        "import",
        file.to_str().unwrap(),
        "--audience",
        audience,
    ]);
    emails
}

/// Opens the link of an email to `email` that is not one of `used` and answers;
/// returns the form page shown first and the link.
fn answer(
    app: &TestApp,
    email: &str,
    used: &[String],
    pairs: &[(String, String)],
) -> (String, String) {
    let mails = received_for(email, used.len() + 1);
    let link = mails
        .iter()
        .map(|m| link_in(m, &app.base_url))
        .find(|l| !used.contains(l))
        .expect("a new link");
    let agent = app.http();
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200, "{page}");
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, thanks) = post_form(&agent, &link, &borrowed);
    assert_eq!(status, 200, "{thanks}");
    (page, link)
}

/// A, B and joint-v1 of each item computed here from the answers given.
fn expected(answers: &[Vec<ItemAnswer>]) -> Vec<(&'static str, f64, f64, f64)> {
    let n = answers.len() as f64;
    ITEMS
        .iter()
        .map(|&item| {
            let of_item: Vec<&ItemAnswer> =
                answers.iter().flatten().filter(|a| a.0 == item).collect();
            let often = of_item.iter().filter(|a| a.1 == "often").count() as f64;
            let rated = of_item.iter().filter(|a| a.2.is_some()).count() as f64;
            let bothered = of_item
                .iter()
                .filter(|a| a.2.is_some_and(|b| b >= 4))
                .count() as f64;
            let points: u32 = of_item
                .iter()
                .filter(|a| a.1 == "often")
                .map(|a| u32::from(a.2.unwrap() - 1))
                .sum();
            let b = if rated == 0.0 { 0.0 } else { bothered / rated };
            (item, often / n, b, f64::from(points) / (4.0 * n))
        })
        .collect()
}

fn item<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {list}"))
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap_or(f64::NAN) - b).abs() < 1e-12
}

fn results_json(app: &TestApp, extra: &[&str]) -> Value {
    let mut args = vec![
        "results",
        "--survey",
        "check",
        "--format",
        "json",
        "--bootstrap",
        "300",
        "--top",
        "2",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&app.pds_ok(&args)).expect("JSON")
}

fn failure(app: &TestApp, args: &[&str]) -> String {
    let out = app.pds(args);
    assert!(!out.status.success(), "pds {args:?} should fail");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The survey answered by 12 customers (6 current, 6 lost) and 4 staff in wave w1,
/// and 4 current customers in wave w2. Returns the customers' w1 answers and the
/// staff's.
fn answered_checklist(app: &TestApp) -> (Vec<Vec<ItemAnswer>>, Vec<Vec<ItemAnswer>>) {
    app.create_survey(CHECKLIST, "check");
    let segments = ["current", "lost"].repeat(6);
    let customers = import_contacts(app, "cust", "customer", &segments);
    let staff = import_contacts(app, "staff", "staff", &["staff"; 4]);
    let invited = app.invite("check", "w1");
    assert!(
        invited.contains("Queued 12 invitations"),
        "customers only: {invited}"
    );
    let invited = app.pds_ok(&args("invite --survey check --wave w1 --audience staff"));
    assert!(invited.contains("Queued 4 invitations"), "{invited}");

    let mut given = Vec::new();
    let mut links = Vec::new();
    for (i, email) in customers.iter().enumerate() {
        let answers = customer_answers(segments[i] == "lost", i / 2);
        let write_in = (i < 2).then_some("Parking is hard");
        let (page, link) = answer(app, email, &[], &form_of(&answers, write_in));
        assert!(
            !page.contains("staff-note"),
            "customers get the customer wording"
        );
        given.push(answers);
        links.push(link);
    }
    let mut staff_given = Vec::new();
    for (i, email) in staff.iter().enumerate() {
        let mail = String::from_utf8_lossy(&received_for(email, 1)[0]).into_owned();
        assert!(mail.contains("as you think our customers would"), "{mail}");
        let answers = staff_answers(i);
        let (page, _) = answer(app, email, &[], &form_of(&answers, None));
        assert!(page.contains("id=\"staff-note\""), "{page}");
        staff_given.push(answers);
    }
    // A second wave: four current customers answer again, now rarely late.
    let segment = "--segment=customer_type=current";
    app.pds_ok(&["invite", "--survey", "check", "--wave", "w2", segment]);
    for (email, w1) in customers.iter().zip(&links).step_by(2).take(4) {
        let mut answers = customer_answers(false, 1);
        answers[0] = ("late-delivery", "never", None, None);
        answer(
            app,
            email,
            std::slice::from_ref(w1),
            &form_of(&answers, None),
        );
    }
    (given, staff_given)
}

fn checklist_results_show_every_section(backend: Backend) {
    let app = TestApp::spawn(backend);
    let (customers, staff) = answered_checklist(&app);

    let all = results_json(&app, &["--wave", "w1", "--by", "customer_type"]);
    assert_eq!(all["kind"], "checklist");
    assert_eq!(all["n"], 12, "staff never count as customers: {all}");
    assert_eq!(all["audience"], "customer");
    for (id, a, b, joint) in expected(&customers) {
        let row = item(&all["items"], id);
        assert!(close(&row["often"]["value"], a), "{id} A: {row}");
        assert!(close(&row["bothered"]["value"], b), "{id} B: {row}");
        assert!(close(&row["joint"]["value"], joint), "{id} joint: {row}");
        assert!(
            close(&row["crawford"]["value"], a * b),
            "{id} crawford: {row}"
        );
        for (figure, method, ci_method) in [
            ("often", "often-share", "wilson-95"),
            ("bothered", "bothered-share", "wilson-95"),
            ("crawford", "crawford-v1", "bounds-product-95"),
            ("joint", "joint-v1", "rank-bootstrap-v1"),
        ] {
            let f = &row[figure];
            assert_eq!(
                (f["method"].as_str(), f["ci_method"].as_str()),
                (Some(method), Some(ci_method)),
                "{id} {figure}: {f}"
            );
            assert!(
                f["n"].as_u64().is_some() && f["ci"]["low"].as_f64() <= f["value"].as_f64(),
                "{id} {figure}: {f}"
            );
        }
        assert_eq!(row["often"]["n"], 12);
        // Preemptibility where someone said whether another supplier solves it
        // (nobody did for damaged goods).
        let preemptible = &row["preemptible"];
        assert_eq!(preemptible.is_null(), id == "damaged-goods", "{id}: {row}");
        if !preemptible.is_null() {
            assert_eq!(preemptible["method"], "preemptible-v1");
            assert_eq!(preemptible["ci_method"], "bounds-product-95");
        }
        assert!(
            row["rank_low"].as_u64() <= row["position"].as_u64(),
            "{row}"
        );
    }
    // Late deliveries: 6 lost (all "yes") and 2 current ("no") of the 12 had them
    // often; 4 said "don't know": s = 6 / 12, preemptible = joint x (1 - s).
    let late = item(&all["items"], "late-delivery");
    assert!(close(&late["solved_elsewhere"]["value"], 0.5), "{late}");
    let late_joint = late["joint"]["value"].as_f64().unwrap();
    assert!(
        close(&late["preemptible"]["value"], late_joint * 0.5),
        "{late}"
    );
    assert_eq!(all["items"][0]["id"], "late-delivery", "{all}");
    assert_eq!(all["rank_stability"]["replicates"], 300);

    // Segments: unreachable service drives lost customers.
    let segments = &all["segments"];
    assert_eq!(segments["test"], "chi-square-v1");
    assert_eq!(segments["adjustment"], "bh-v1");
    let reach = item(&segments["items"], "hard-to-reach");
    assert_eq!(reach["per_segment"][1]["segment"], "lost");
    assert!(
        close(&reach["per_segment"][1]["often"]["value"], 1.0),
        "{reach}"
    );
    assert!(
        close(&reach["per_segment"][0]["often"]["value"], 0.0),
        "{reach}"
    );
    assert!(reach["test"]["p_value"].as_f64().unwrap() < 0.05, "{reach}");
    assert!(reach["p_adjusted"].as_f64().is_some(), "{reach}");

    // The staff gap: customers' top 2 (late deliveries, unreachable service) are
    // staff's blind spots.
    let gap = &all["staff_gap"];
    assert_eq!(
        (gap["customers_n"].as_u64(), gap["staff_n"].as_u64()),
        (Some(12), Some(4))
    );
    assert_eq!(gap["small_sample"], true, "{gap}");
    assert_eq!(gap["method"], "staff-vs-customers-v1");
    assert_eq!(
        gap["blind_spots"],
        serde_json::json!(["late-delivery", "hard-to-reach"]),
        "{gap}"
    );
    assert!(close(&gap["overlap_share"], 0.0), "{gap}");
    let tau = gap["kendall_tau_b"].as_f64().expect("tau");
    assert!(tau < 0.0, "staff see it the other way round: {gap}");
    let ci = &gap["kendall_tau_b_ci"];
    let (low, high) = (ci["low"].as_f64().unwrap(), ci["high"].as_f64().unwrap());
    assert!(
        (-1.0..=1.0).contains(&low) && low <= high && high <= 1.0,
        "{gap}"
    );
    let staff_expected = expected(&staff);
    for (id, _, _, joint) in &staff_expected {
        assert!(
            close(&item(&gap["items"], id)["staff_score"], *joint),
            "{id}: {gap}"
        );
    }
    // The write-ins are listed apart, not yet coded.
    assert_eq!(all["write_ins"]["mentions"], 2);
    assert_eq!(all["write_ins"]["uncoded"][0]["text"], "Parking is hard");
    assert_eq!(all["write_ins"]["uncoded"][0]["why"], "not-yet-coded");

    // Waves: late deliveries fell among the current customers who answered again.
    let waves = results_json(&app, &["--wave", "w2", "--compare-wave", "w1"]);
    assert_eq!(waves["n"], 4);
    let change = &waves["wave_comparison"];
    assert_eq!(
        (change["earlier_n"].as_u64(), change["later_n"].as_u64()),
        (Some(12), Some(4))
    );
    let late = item(&change["items"], "late-delivery");
    assert!(close(&late["change"]["difference"], -8.0 / 12.0), "{late}");
    assert_eq!(change["test"], "two-proportion-z-v1");

    // The table and CSV carry the same figures with their names.
    let table = app.pds_ok(&args(
        "results --survey check --wave w1 --bootstrap 200 --top 2",
    ));
    for words in [
        "n = 12 customers",
        "crawford-v1",
        "Staff gap",
        "Blind spots",
        "BLIND SPOT",
        "Parking is hard",
    ] {
        assert!(table.contains(words), "{words}: {table}");
    }
    let csv = app.pds_ok(&args(
        "results --survey check --wave w1 --format csv --bootstrap 200",
    ));
    assert!(csv.starts_with("survey,wave,section,id,label"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.contains(",item,late-delivery,") && l.contains(",joint,joint-v1,")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(",staff-gap,") && l.contains("kendall-tau-b")),
        "{csv}"
    );

    // Bad views are refused with what to fix.
    let err = failure(
        &app,
        &args("results --survey check --wave w1 --compare-wave w9"),
    );
    assert!(err.contains("no wave \"w9\""), "{err}");
    let err = failure(&app, &["results", "--survey", "check", "--by", "region"]);
    assert!(
        err.contains("--by region") && err.contains("customer_type"),
        "{err}"
    );

    api_and_dashboard_show_the_checklist(&app);
}

fn api_and_dashboard_show_the_checklist(app: &TestApp) {
    let key = app.create_key("analyst");
    let agent = app.http();
    let url = format!(
        "{}/api/surveys/check/results?wave=w1&bootstrap=200&top=2",
        app.base_url
    );
    let mut response = agent
        .get(&url)
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        (body["kind"].as_str(), body["n"].as_u64()),
        (Some("checklist"), Some(12))
    );
    assert_eq!(body["staff_gap"]["blind_spots"][0], "late-delivery");
    let url = format!("{}/api/surveys/check/results?by=region", app.base_url);
    let response = agent
        .get(&url)
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "an unknown attribute");

    // The dashboard: log in with the key, then the checklist page and its charts.
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let login = no_redirects
        .post(&format!("{}/admin/login", app.base_url))
        .send_form([("key", key.as_str())])
        .unwrap();
    let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let page = |path: &str| {
        let mut r = no_redirects
            .get(&format!("{}{path}", app.base_url))
            .header("Cookie", &cookie)
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let (status, html) = page("/admin/surveys/check?wave=w1");
    assert_eq!(status, 200, "{html}");
    // The dashboard uses the default k = 5: with four items there is no blind spot.
    for part in [
        "id=\"checklist-items\"",
        "id=\"staff-gap\"",
        "id=\"staff-gap-summary\"",
        "chart-ab",
        "chart-gap",
        "The delivery came later than you were promised",
        "Parking is hard",
    ] {
        assert!(html.contains(part), "{part}: {html}");
    }
    let (status, ab) = page("/admin/surveys/check/charts/ab.svg?wave=w1");
    assert_eq!(status, 200, "{ab}");
    assert_eq!(ab.matches("class=\"point\"").count(), 4, "{ab}");
    let (status, gap) = page("/admin/surveys/check/charts/gap.svg?wave=w1");
    assert_eq!(status, 200, "{gap}");
    assert_eq!(gap.matches("class=\"staff\"").count(), 4, "{gap}");
    assert_eq!(gap.matches("class=\"customers\"").count(), 4, "{gap}");
    assert!(gap.contains("hollow dot = staff (n = 4)"), "{gap}");
}

on_both_backends!(checklist_results_show_every_section);
