//! The coding review suggests and explains: an area's page says why each mention
//! is there (its similarity to the area and the words it shares), offers a better
//! area for a misplaced mention and a similar area to merge into, each with its
//! similarity and shared words, and each is one click, as is accepting a proposed
//! area. Runs on SQLite and PostgreSQL.

use crate::common::{Backend, TestApp};
use crate::dashboard::{area_link, csrf_of, get, log_in, post};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Imported answers with their areas: one invoice complaint sits in the late
/// delivery area, and two areas speak of the same late parcels.
fn study(app: &TestApp, with_areas: bool) {
    app.pds_ok(&["survey", "create", "--template", DISCOVERY, "--slug", "s"]);
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..12 {
        let mut rank = 1;
        let mut mention = |text: &str, area: &str| {
            let area = if with_areas { area } else { "" };
            csv.push_str(&format!("r{i},w1,current,{rank},{text},{area}\n"));
            rank += 1;
        };
        mention("The parcel was late again", "Late delivery");
        mention("The invoice had the wrong VAT amount", "Invoice errors");
        if i < 4 {
            mention("Late parcel delivery", "Slow parcels");
        }
        if i == 0 {
            mention("Wrong VAT amount on the invoice", "Late delivery");
        }
    }
    app.import_responses("s", &csv);
}

/// The text of the element that follows `marker` up to its closing `</td>`.
fn cell_after<'a>(body: &'a str, marker: &str) -> &'a str {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {body}"));
    let rest = &body[at..];
    let cell = &rest[rest
        .find("<td class=\"suggestion\">")
        .expect("a suggestion cell")..];
    &cell[..cell.find("</td>").unwrap()]
}

fn suggestions_explain_themselves_and_are_one_click(backend: Backend) {
    let app = TestApp::spawn(backend);
    study(&app, true);
    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());
    let overview = get(&app, "/admin/surveys/s", cookie);
    let late = area_link(&overview.body, "Late delivery");
    let invoice = area_link(&overview.body, "Invoice errors");
    let slow = area_link(&overview.body, "Slow parcels");
    let invoice_id = invoice.rsplit('/').next().unwrap();
    let slow_id = slow.rsplit('/').next().unwrap();

    let page = get(&app, &late, cookie);
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    // Why: each mention's similarity to the area and the words it shares.
    assert!(
        page.body.contains("similarity 1.00 to this area; shares")
            || page.body.contains("to this area; shares parcel"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"id="area-words""#), "{}", page.body);
    // The misplaced invoice complaint gets a better area, with why.
    let cell = cell_after(&page.body, "Wrong VAT amount on the invoice");
    assert!(cell.contains("Move to “Invoice errors”"), "{cell}");
    assert!(
        cell.contains("similarity ") && cell.contains("shares amount, invoice"),
        "{cell}"
    );
    // The parcel complaints get none.
    assert_eq!(
        cell_after(&page.body, "The parcel was late again"),
        "<td class=\"suggestion\">–"
    );
    // The other late-parcel area is suggested for a merge, the invoices' is not first.
    let similar = &page.body[page
        .body
        .find(r#"id="similar-areas""#)
        .expect("similar areas")..];
    let first = &similar[similar.find("<li>").unwrap()..similar.find("</li>").unwrap()];
    assert!(
        first.contains(&format!(r#"name="into" value="{slow_id}""#)),
        "{first}"
    );
    assert!(
        first.contains("similarity 0.") && first.contains("parcel"),
        "{first}"
    );

    // One click moves the suggested mention, with an undo.
    let at = cell.find("value=\"").unwrap() + 7;
    let value = &cell[at..at + cell[at..].find('"').unwrap()];
    assert!(value.ends_with(&format!(":{invoice_id}")), "{value}");
    let r = post(
        &app,
        &late,
        cookie,
        &[("csrf", &csrf), ("suggested", value)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let done = get(&app, r.header("location").unwrap(), cookie);
    assert!(done.body.contains("Undo the move"), "{}", done.body);
    assert!(!done.body.contains("Wrong VAT amount on the invoice"));
    let there = get(&app, &invoice, cookie);
    assert!(there.body.contains("Wrong VAT amount on the invoice"));
    let r = post(&app, &late, cookie, &[("suggested", value)]);
    assert_eq!(r.status, 403, "a suggestion needs the CSRF token");

    // One click merges the suggested area.
    let r = post(
        &app,
        &late,
        cookie,
        &[
            ("csrf", &csrf),
            ("action", "merge"),
            ("into", slow_id),
            ("confirmed", "yes"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let merged = get(&app, r.header("location").unwrap(), cookie);
    assert!(merged.body.contains("Undo the merge"), "{}", merged.body);
    assert!(merged.body.contains("The parcel was late again"));
    let log = app.pds_ok(&["areas", "log", "--survey", "s"]);
    assert!(log.contains("move") && log.contains("merge"), "{log}");
}

on_both_backends!(suggestions_explain_themselves_and_are_one_click);

fn a_proposed_area_is_accepted_in_one_click(backend: Backend) {
    let app = TestApp::spawn(backend);
    study(&app, false);
    app.pds_ok(&["code", "--survey", "s"]);
    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());
    let overview = get(&app, "/admin/surveys/s", cookie);
    let start = overview
        .body
        .find("/admin/surveys/s/areas/")
        .expect("an area");
    let link = &overview.body[start..start + overview.body[start..].find('"').unwrap()];
    let page = get(&app, link, cookie);
    assert!(page.body.contains("status: proposed"), "{}", page.body);
    assert!(page.body.contains(r#"id="accept-form""#));
    let why = &page.body[page.body.find(r#"<td class="why">"#).expect("a why cell")..];
    let why = &why[..why.find("</td>").unwrap()];
    assert!(why.contains("to this area; shares"), "{why}");
    let csrf = csrf_of(&page.body);
    let r = post(&app, link, cookie, &[("csrf", &csrf), ("action", "accept")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let done = get(&app, r.header("location").unwrap(), cookie);
    assert!(done.body.contains("status: accepted"), "{}", done.body);
    assert!(
        done.body.contains("Accepted: its mentions"),
        "{}",
        done.body
    );
    assert!(!done.body.contains(r#"id="accept-form""#));
    assert!(done.body.contains("accepted by an analyst"));
}

on_both_backends!(a_proposed_area_is_accepted_in_one_click);
