//! The analyst's dashboard in headless Chromium on a 1280x900 desktop: what to fix
//! first and the ranked bar chart on the first screen, downloads that arrive with
//! the right content, a merge that asks first and can be undone (without
//! JavaScript), errors shown in words on the page they came from, and the sign-in
//! page in Swedish. Screenshots go to `target/browser-screenshots/`.

use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::{click, in_browser_with, save_screenshot, wait_for, Script, WAIT};
use crate::common::{Backend, TestApp};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// A desktop screen, as the analyst has it (CSS pixels).
const DESKTOP: (u32, u32) = (1280, 900);

/// Fifteen areas, the first mentioned most; area `j` by every `(j + 2)`th respondent.
const AREAS: [&str; 15] = [
    "Product safety",
    "Late delivery",
    "Invoice errors",
    "Phone support",
    "Rude staff",
    "Damaged goods",
    "Website login",
    "Returns",
    "Prices",
    "Packaging",
    "Newsletter",
    "Opening hours",
    "Parking",
    "App crashes",
    "Gift cards",
];

/// 150 respondents in two waves and two segments; identical texts within an area.
fn study(app: &TestApp) {
    app.create_survey(DISCOVERY, "s");
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..150 {
        let wave = if i < 75 { "w1" } else { "w2" };
        let segment = if i % 3 == 0 { "lost" } else { "current" };
        let mut rank = 1;
        for (j, area) in AREAS.iter().enumerate() {
            if i % (j + 2) == 0 && rank <= 5 {
                csv.push_str(&format!(
                    "r{i},{wave},{segment},{rank},\"Trouble with {}\",{area}\n",
                    area.to_lowercase()
                ));
                rank += 1;
            }
        }
        if rank == 1 {
            csv.push_str(&format!("r{i},{wave},{segment},,,\n"));
        }
    }
    app.import_responses("s", &csv);
}

fn desktop(_: &mut Capabilities) {}

async fn sign_in(browser: &Client, base_url: &str, key: &str) {
    sign_in_on(browser, base_url, key, DESKTOP).await
}

/// Signs in on a screen of `size` CSS pixels.
async fn sign_in_on(browser: &Client, base_url: &str, key: &str, size: (u32, u32)) {
    browser
        .set_window_size(size.0, size.1)
        .await
        .expect("a window of that size");
    browser
        .goto(&format!("{base_url}/admin/login"))
        .await
        .expect("the sign-in page");
    browser
        .find(Locator::Css("#key"))
        .await
        .expect("the key field")
        .send_keys(key)
        .await
        .expect("type the key");
    click(browser, "form.login button[type=submit]").await;
    wait_for(browser, "table#surveys").await;
}

/// The text of the element `css`. After a click that loads a page, the element
/// found may be the old page's and go stale before it is read: then it is found
/// again on the new page.
async fn text_of(browser: &Client, css: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match wait_for(browser, css).await.text().await {
            Ok(text) => return text,
            Err(e) if std::time::Instant::now() > deadline => panic!("the text of {css}: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

/// How far down the page (CSS pixels from the top of the document) an element ends.
async fn bottom_of(browser: &Client, css: &str) -> f64 {
    let seen = browser
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             return r.bottom + window.scrollY;",
            vec![json!(css)],
        )
        .await
        .expect("measure");
    seen.as_f64().unwrap_or(f64::MAX)
}

/// Fetches `path` in the page, with the session's cookie, as (status, type, bytes).
async fn download(browser: &Client, path: &str) -> (u64, String, Vec<u8>) {
    let seen = browser
        .execute_async(
            "const [url, done] = arguments; \
             fetch(url).then(r => r.arrayBuffer().then(b => done({status: r.status, \
               type: r.headers.get('content-type') || '', disposition: r.headers.get('content-disposition') || '', \
               hex: Array.from(new Uint8Array(b)).map(x => x.toString(16).padStart(2, '0')).join('')})));",
            vec![json!(path)],
        )
        .await
        .unwrap_or_else(|e| panic!("fetch {path}: {e}"));
    assert!(
        seen["disposition"]
            .as_str()
            .unwrap_or("")
            .starts_with("attachment"),
        "{path} is a download: {seen}"
    );
    (
        seen["status"].as_u64().unwrap_or(0),
        seen["type"].as_str().unwrap_or("").to_string(),
        hex::decode(seen["hex"].as_str().unwrap_or("")).expect("hex bytes"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_survey_page_says_what_to_fix_first_on_the_first_screen() {
    let app = TestApp::spawn(Backend::Sqlite);
    study(&app);
    let key = app.create_key("analyst");
    let base_url = app.base_url.clone();
    in_browser_with(
        "dashboard-first-screen",
        Script::On,
        desktop,
        move |browser| async move {
            sign_in(&browser, &base_url, &key).await;
            let list = text_of(&browser, "table#surveys tbody tr").await;
            assert!(list.contains("150"), "the list shows the answers: {list}");

            browser
                .goto(&format!("{base_url}/admin/surveys/s"))
                .await
                .expect("the survey page");
            let summary = text_of(&browser, "#summary").await;
            assert!(
                summary.contains("Fix first:") && summary.contains("Product safety"),
                "{summary}"
            );
            assert!(summary.contains("n = 150"), "{summary}");
            wait_until_loaded(&browser, "#chart-bars").await;
            for css in ["#summary", "#chart-bars"] {
                let bottom = bottom_of(&browser, css).await;
                assert!(
                    bottom <= f64::from(DESKTOP.1),
                    "{css} ends at {bottom} px, below the first screen"
                );
            }
            save_screenshot(&browser, "dashboard-survey-after").await;

            // Flags tell areas apart: not every area is flagged.
            let flagged = browser
                .find_all(Locator::Css("#areas td.flags .flag"))
                .await
                .expect("flags")
                .len();
            assert!(flagged < AREAS.len(), "{flagged} of 15 areas flagged");

            // Downloads arrive with the right content.
            let (status, kind, csv) =
                download(&browser, "/admin/surveys/s/exports/areas.csv").await;
            assert_eq!(status, 200);
            assert!(kind.starts_with("text/csv"), "{kind}");
            let mut reader = csv::Reader::from_reader(csv.as_slice());
            let header = reader.headers().expect("a header").clone();
            let column = |name: &str| header.iter().position(|h| h == name).expect(name);
            let (position, area) = (column("position"), column("area"));
            // Ranked areas have a position; rows of other sections (per-wave
            // response rates) follow them.
            let areas: Vec<String> = reader
                .records()
                .map(|r| r.expect("a row"))
                .filter(|r| !r[position].is_empty())
                .map(|r| r[area].to_string())
                .collect();
            assert_eq!(areas.len(), AREAS.len());
            assert_eq!(areas[0], "Product safety");

            let (status, kind, book) =
                download(&browser, "/admin/surveys/s/exports/mentions.xlsx").await;
            assert_eq!(status, 200);
            assert!(kind.contains("spreadsheetml"), "{kind}");
            let sheet = sheet_xml(book);
            assert!(sheet.contains("<row"), "{sheet}");
            let strings = shared_strings(&browser, "/admin/surveys/s/exports/mentions.xlsx").await;
            assert!(strings.contains("Trouble with product safety"), "{strings}");

            for chart in ["bars", "scatter"] {
                let (status, kind, png) = download(
                    &browser,
                    &format!("/admin/surveys/s/charts/{chart}.png?download=1"),
                )
                .await;
                assert_eq!(status, 200);
                assert_eq!(kind, "image/png");
                assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            }
        },
    )
    .await;
}

async fn wait_until_loaded(browser: &Client, css: &str) {
    for _ in 0..100 {
        let loaded = browser
            .execute(
                "const i = document.querySelector(arguments[0]); return i.complete && i.naturalWidth > 0;",
                vec![json!(css)],
            )
            .await
            .expect("inspect the image");
        if loaded == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never loaded");
}

fn unzip(book: Vec<u8>, name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(book)).expect("the workbook is a zip");
    let mut text = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the workbook: {e}"))
        .read_to_string(&mut text)
        .expect("XML");
    text
}

fn sheet_xml(book: Vec<u8>) -> String {
    unzip(book, "xl/worksheets/sheet1.xml")
}

async fn shared_strings(browser: &Client, path: &str) -> String {
    let (_, _, book) = download(browser, path).await;
    unzip(book, "xl/sharedStrings.xml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_asks_first_and_can_be_undone_without_javascript() {
    let app = TestApp::spawn(Backend::Sqlite);
    study(&app);
    let key = app.create_key("analyst");
    let base_url = app.base_url.clone();
    in_browser_with(
        "dashboard-merge-undo",
        Script::Off,
        desktop,
        move |browser| async move {
            sign_in(&browser, &base_url, &key).await;

            // An impossible view is explained on the survey page, in words.
            browser
                .goto(&format!("{base_url}/admin/surveys/s?compare_wave=w1"))
                .await
                .expect("a comparison without a wave");
            let error = text_of(&browser, "#view-error").await;
            assert!(error.contains("choose a wave"), "{error}");
            assert!(!error.contains("--"), "no command-line flags: {error}");
            assert!(text_of(&browser, "#summary").await.contains("Fix first:"));
            // Only known attributes and possible comparisons are offered.
            let options = text_of(&browser, "select#by").await;
            assert!(options.contains("segment"), "{options}");
            let comparisons = text_of(&browser, "#comparisons").await;
            assert!(comparisons.contains("w2 with w1") && !comparisons.contains("w1 with w2"));

            browser
                .find(Locator::LinkText("Rude staff"))
                .await
                .expect("the area's link")
                .click()
                .await
                .expect("open the area");
            let area_url = browser.current_url().await.expect("the area's address");

            // Moving with nothing ticked says so on the same page.
            click(&browser, "#move-form button[type=submit]").await;
            let error = text_of(&browser, "#decision-error").await;
            assert!(error.contains("tick at least one mention"), "{error}");
            assert_eq!(text_of(&browser, "h1").await, "Rude staff");

            // A merge asks first.
            let phone = browser
                .find(Locator::XPath(
                    "//select[@id='into']/option[text()='Phone support']",
                ))
                .await
                .expect("Phone support in the merge list");
            phone.click().await.expect("choose Phone support");
            click(&browser, "#merge-form button[type=submit]").await;
            let question = text_of(&browser, "#confirm-form").await;
            assert!(
                question.contains("Merge “Rude staff” into “Phone support”?"),
                "{question}"
            );
            click(&browser, "#confirm-form button[type=submit]").await;
            let done = text_of(&browser, "#decision-done").await;
            assert!(
                done.contains("Merged “Rude staff” into this area"),
                "{done}"
            );
            assert_eq!(text_of(&browser, "h1").await, "Phone support");
            browser
                .goto(&format!("{base_url}/admin/surveys/s"))
                .await
                .expect("the survey page");
            assert!(!text_of(&browser, "#areas").await.contains("Rude staff"));

            // ...and can be undone.
            browser.back().await.expect("back to the area");
            click(&browser, "#decision-done form.undo button").await;
            let undone = text_of(&browser, "#decision-done").await;
            assert!(undone.contains("undone"), "{undone}");
            assert_eq!(text_of(&browser, "h1").await, "Rude staff");
            assert_eq!(browser.current_url().await.unwrap().path(), area_url.path());
            browser
                .goto(&format!("{base_url}/admin/surveys/s"))
                .await
                .expect("the survey page");
            assert!(text_of(&browser, "#areas").await.contains("Rude staff"));
            save_screenshot(&browser, "dashboard-after-undo").await;
        },
    )
    .await;
    let log = app.pds_ok(&["areas", "log", "--survey", "s"]);
    assert!(log.contains("merge") && log.contains("unmerge"), "{log}");
    assert!(log.contains("reversing the merge"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_speaks_swedish_to_a_swedish_browser() {
    let app = TestApp::spawn(Backend::Sqlite);
    let base_url = app.base_url.clone();
    let swedish = |caps: &mut Capabilities| {
        let options = caps
            .get_mut("goog:chromeOptions")
            .and_then(Value::as_object_mut)
            .expect("Chromium options");
        if let Some(args) = options.get_mut("args").and_then(Value::as_array_mut) {
            args.push(json!("--lang=sv"));
        }
        options.insert("prefs".into(), json!({"intl.accept_languages": "sv,en"}));
    };
    in_browser_with(
        "dashboard-sign-in-sv",
        Script::On,
        swedish,
        move |browser| async move {
            browser
                .set_window_size(DESKTOP.0, DESKTOP.1)
                .await
                .expect("a desktop-sized window");
            browser
                .goto(&format!("{base_url}/admin"))
                .await
                .expect("the dashboard");
            assert_eq!(text_of(&browser, "h1").await, "Logga in på översikten");
            let page = text_of(&browser, "main").await;
            assert!(page.contains("be din administratör om en nyckel"), "{page}");
            assert!(
                !page.contains("pds keys"),
                "no command for a web user: {page}"
            );
            let lang = browser
                .execute("return document.documentElement.lang", vec![])
                .await
                .expect("the page's language");
            assert_eq!(lang, json!("sv"));
            browser
                .find(Locator::Css("#key"))
                .await
                .expect("the key field")
                .send_keys("pds_wrong")
                .await
                .expect("type");
            click(&browser, "form.login button[type=submit]").await;
            let error = text_of(&browser, "#sign-in-error").await;
            assert!(error.contains("Nyckeln gäller inte"), "{error}");
            save_screenshot(&browser, "dashboard-sign-in-sv").await;
        },
    )
    .await;
}

/// A phone, as a team member has it on the go (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// A team member opens the cases on a phone, finds the customer's complaint, and
/// resolves it with a note; the page fits the phone's width, the case's history
/// says so, and the customer, who agreed to be contacted, gets the note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_member_resolves_a_case_from_a_phone() {
    use crate::common::{link_in, post_form, received_for, unique};
    let app = TestApp::spawn(Backend::Sqlite);
    let d = unique("ph");
    let (anna, team) = (format!("anna@{d}.example"), format!("ops@{d}.example"));
    let folder = crate::cases::survey_folder(&app, "study", &team, |_| {});
    crate::cases::study(&app, &folder, "s", &[(&anna, "Anna Åberg", "en")]);
    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);
    let answer = [
        ("problem_1", "The sofa came three weeks late"),
        ("rank_1", "1"),
        ("consent_1", "yes"),
    ];
    assert_eq!(post_form(&app.http(), &link, &answer).0, 200);
    let key = app.create_key("ops");
    let base = app.base_url.clone();
    in_browser_with(
        "case-on-a-phone",
        Script::On,
        |_| {},
        move |browser| async move {
            sign_in_on(&browser, &base, &key, PHONE).await;
            browser
                .goto(&format!("{base}/admin/cases?status=open"))
                .await
                .expect("the open cases");
            assert!(text_of(&browser, "main")
                .await
                .contains("The sofa came three weeks late"));
            click(&browser, "a[href='/admin/cases/1']").await;
            let words = text_of(&browser, "#case-words").await;
            assert!(words.contains("The sofa came three weeks late"), "{words}");
            let width = browser
                .execute("return document.documentElement.scrollWidth;", vec![])
                .await
                .expect("the page width")
                .as_f64()
                .unwrap_or(f64::MAX);
            assert!(
                width <= f64::from(PHONE.0),
                "the case page is {width} px wide on a phone"
            );
            browser
                .find(Locator::Css("#note"))
                .await
                .expect("the note field")
                .send_keys("We changed carriers; your next delivery is on time.")
                .await
                .expect("type the note");
            click(&browser, "#case-act button[value=resolve]").await;
            let title = text_of(&browser, "h1").await;
            assert!(title.contains("resolved"), "{title}");
            let history = text_of(&browser, "#case-history").await;
            assert!(history.contains("We changed carriers"), "{history}");
            save_screenshot(&browser, "case-resolved-on-a-phone").await;
        },
    )
    .await;
    app.pds_ok(&["worker", "--once"]);
    let mails = received_for(&anna, 2);
    assert!(
        mails
            .iter()
            .any(|m| String::from_utf8_lossy(m).contains("We changed carriers")),
        "the customer hears what was done"
    );
}
