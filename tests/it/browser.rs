//! Real browser tests: headless Chromium, driven over WebDriver (the chromedriver that
//! `scripts/test` starts), against the real app. A customer answers on a phone with
//! the keyboard alone, with and without JavaScript; an analyst logs in to the
//! dashboard and sees the same ranking as the API.
//!
//! Any failure saves a screenshot to `target/browser-screenshots/NAME.png`.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::{link_in, new_email, received_for, Backend, TestApp};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// How long a page may take to show what a test waits for.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A phone held upright (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

const FIRST_PROBLEM: &str = "Fakturan hade fel moms på två rader";
const SECOND_PROBLEM: &str =
    "Leveransen kom två veckor för sent, och ingen svarade i växeln – sämst!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_answers_on_a_phone_with_the_keyboard_alone() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, "sv");
    in_browser("keyboard-form", Script::On, move |browser| async move {
        browser.goto(&link).await.expect("open the personal link");
        wait_for(&browser, "html.js").await;
        assert_no_console_errors(&browser, "the form").await;
        assert!(
            !is_shown(&browser, "#slot_2").await,
            "one box to start with"
        );
        assert!(
            !is_shown(&browser, "#move_down_1").await,
            "no move on an empty box"
        );

        tab_to(&browser, "#problem_1").await;
        type_text(&browser, FIRST_PROBLEM).await;
        assert!(
            !is_shown(&browser, "#move_down_1").await,
            "nothing to move past"
        );
        tab_to(&browser, "#add_another").await;
        press(&browser, Key::Enter).await;
        assert!(is_shown(&browser, "#slot_2").await, "another box, in place");
        assert!(
            is_focused(&browser, "#problem_2").await,
            "the cursor waits in it"
        );
        type_text(&browser, SECOND_PROBLEM).await;
        assert!(is_shown(&browser, "#move_down_1").await && is_shown(&browser, "#move_up_2").await);
        assert!(
            !is_shown(&browser, "#move_up_1").await,
            "no “up” on the first"
        );
        assert!(
            !is_shown(&browser, "#move_down_2").await,
            "no “down” on the last"
        );
        tab_to(&browser, "#consent_2").await;
        press(&browser, Key::Space).await;
        tab_to(&browser, "#move_up_2").await;
        press(&browser, Key::Enter).await;

        // The problem moved with its consent, and focus followed it.
        assert_eq!(value_of(&browser, "#problem_1").await, SECOND_PROBLEM);
        assert_eq!(value_of(&browser, "#problem_2").await, FIRST_PROBLEM);
        assert!(is_checked(&browser, "#consent_1").await, "consent moved up");
        assert!(!is_checked(&browser, "#consent_2").await);
        assert!(
            is_focused(&browser, "#move_down_1").await,
            "focus follows the moved problem"
        );
        save_screenshot(&browser, "form-on-a-phone").await;

        tab_to(&browser, "#send").await;
        press(&browser, Key::Enter).await;
        let thanks = wait_for(&browser, "ol.mentions").await;
        assert_eq!(
            list_items(&thanks).await,
            [SECOND_PROBLEM, FIRST_PROBLEM],
            "the thank-you page lists the problems most important first"
        );
        let url = browser.current_url().await.expect("the page's address");
        assert!(
            url.path().ends_with("/thanks"),
            "redirected after the POST: {url}"
        );
        assert_no_console_errors(&browser, "the thank-you page").await;
    })
    .await;

    assert_eq!(
        stored_mentions(&app),
        [
            (1, SECOND_PROBLEM.to_string(), true),
            (2, FIRST_PROBLEM.to_string(), false),
        ],
        "stored as typed, the moved problem first, with its consent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_add_another_and_move_are_answered_by_the_server() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, "sv");
    in_browser(
        "form-without-javascript",
        Script::Off,
        move |browser| async move {
            browser.goto(&link).await.expect("open the personal link");
            assert!(
                !is_shown(&browser, "#slot_2").await,
                "one box to start with"
            );

            tab_to(&browser, "#problem_1").await;
            type_text(&browser, FIRST_PROBLEM).await;
            tab_to(&browser, "#add_another").await;
            press(&browser, Key::Enter).await;
            wait_until_shown(&browser, "#slot_2").await;
            assert_eq!(
                value_of(&browser, "#problem_1").await,
                FIRST_PROBLEM,
                "kept"
            );
            assert!(
                is_focused(&browser, "#problem_2").await,
                "the cursor waits in the new box"
            );
            type_text(&browser, SECOND_PROBLEM).await;
            tab_to(&browser, "#consent_2").await;
            press(&browser, Key::Space).await;
            // The move buttons come with the page the server draws, so this one
            // appears after the next round trip: add nothing, then move.
            tab_to(&browser, "#add_another").await;
            press(&browser, Key::Enter).await;
            wait_until_shown(&browser, "#slot_3").await;
            tab_to(&browser, "#move_up_2").await;
            press(&browser, Key::Enter).await;
            for _ in 0..50 {
                if value_of(&browser, "#problem_1").await == SECOND_PROBLEM {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(value_of(&browser, "#problem_1").await, SECOND_PROBLEM);
            assert!(is_checked(&browser, "#consent_1").await, "consent moved up");
            tab_to(&browser, "#send").await;
            press(&browser, Key::Enter).await;

            let thanks = wait_for(&browser, "ol.mentions").await;
            assert_eq!(list_items(&thanks).await, [SECOND_PROBLEM, FIRST_PROBLEM]);
        },
    )
    .await;

    assert_eq!(
        stored_mentions(&app),
        [
            (1, SECOND_PROBLEM.to_string(), true),
            (2, FIRST_PROBLEM.to_string(), false),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_empty_form_fits_a_phone_and_no_problems_is_two_taps_away() {
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(DISCOVERY, "s");
    let links = invited_contacts(&app, &["en", "sv"]);
    in_browser("empty-form-height", Script::On, move |browser| async move {
        for (locale, link) in ["en", "sv"].iter().zip(&links) {
            browser.goto(link).await.expect("open the personal link");
            wait_for(&browser, "html.js").await;
            let height = browser
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .expect("the page height")
                .as_f64()
                .unwrap_or(f64::MAX);
            let limit = 1.5 * f64::from(PHONE.1);
            assert!(
                height < limit,
                "{locale}: the empty form is {height} px tall, over {limit}"
            );
            let no_problems = top_of(&browser, "#no_problems_yes").await;
            assert!(
                no_problems < f64::from(PHONE.1),
                "{locale}: “no problems” is at y = {no_problems}, below the first screen"
            );
            save_screenshot(&browser, &format!("form-empty-{locale}-390x844")).await;
        }
        // The English customer had no problems: two taps, and nothing to reorder.
        browser.goto(&links[0]).await.expect("open the link again");
        click(&browser, "#no_problems_yes").await;
        click(&browser, "#send").await;
        let lead = wait_for(&browser, "p.lead").await;
        assert!(lead.text().await.expect("text").contains("no problems"));
        let body = browser.find(Locator::Css("main")).await.expect("main");
        let text = body.text().await.expect("text");
        assert!(!text.contains("order"), "no offer to reorder: {text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_summary_links_to_each_field_and_long_text_is_counted_not_cut() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, "en");
    in_browser("error-summary", Script::On, move |browser| async move {
        browser.goto(&link).await.expect("open the personal link");
        wait_for(&browser, "html.js").await;
        // Pasted text over the limit: the counter says so, nothing is cut.
        let long = "Leveransen kom sent. ".repeat(50);
        browser
            .execute(
                "const t = document.getElementById('problem_1'); t.value = arguments[0]; \
                 t.dispatchEvent(new Event('input'));",
                vec![json!(long)],
            )
            .await
            .expect("paste a long text");
        let counter = browser
            .find(Locator::Css("#problem_1_count"))
            .await
            .expect("counter");
        assert!(counter.text().await.expect("text").contains("50 too many"));
        click(&browser, "#send").await;
        let summary = wait_for(&browser, "#error-summary a").await;
        assert!(
            is_focused(&browser, "#error-summary").await,
            "the summary takes the focus"
        );
        assert_eq!(
            value_of(&browser, "#problem_1").await,
            long.trim_end(),
            "kept whole"
        );
        let href = summary
            .attr("href")
            .await
            .expect("href")
            .unwrap_or_default();
        assert_eq!(href, "#problem_1");
        summary.click().await.expect("follow the link");
        let hash = browser
            .execute("return location.hash;", vec![])
            .await
            .expect("the address");
        assert_eq!(hash, json!("#problem_1"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_logs_in_and_sees_the_chart_and_the_areas_in_the_api_order() {
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(DISCOVERY, "s");
    // 40 respondents, three areas with clearly different scores.
    let mut responses = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..40 {
        responses.push_str(&format!("r{i},w1,,1,Leveransen kom för sent,Leveranser\n"));
        if i % 2 == 0 {
            responses.push_str(&format!("r{i},w1,,2,Fakturan var fel,Fakturor\n"));
        }
        if i % 5 == 0 {
            responses.push_str(&format!("r{i},w1,,3,Ingen svarade i växeln,Kundtjänst\n"));
        }
    }
    app.import_responses("s", &responses);
    app.pds_ok(&["code", "--survey", "s"]);
    let created = app.pds_ok(&["keys", "create", "--name", "b"]);
    let key = created
        .split_whitespace()
        .find(|word| word.starts_with("pds_"))
        .unwrap_or_else(|| panic!("no key in: {created}"))
        .to_string();
    let api_order = areas_in_api_order(&app, &key);
    assert_eq!(api_order, ["Leveranser", "Fakturor", "Kundtjänst"]);

    let base_url = app.base_url.clone();
    in_browser("dashboard", Script::On, move |browser| async move {
        browser
            .goto(&format!("{base_url}/admin"))
            .await
            .expect("open the dashboard");
        browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(r#"form[action="/admin/login"]"#))
            .await
            .expect("the login form");
        tab_to(&browser, "#key").await;
        type_text(&browser, &key).await;
        press(&browser, Key::Enter).await;
        let mut logged_in = false;
        for _ in 0..50 {
            let login_forms = browser
                .find_all(Locator::Css(r#"form[action="/admin/login"]"#))
                .await
                .expect("look for the login form");
            if login_forms.is_empty() {
                logged_in = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(logged_in, "the key did not log in");

        browser
            .goto(&format!("{base_url}/admin/surveys/s"))
            .await
            .expect("open the survey");
        let chart = wait_for(&browser, "#chart-scatter").await;
        assert_chart_is_drawn(&browser, &chart).await;

        let mut shown = Vec::new();
        let rows = browser
            .find_all(Locator::Css("#areas tbody tr"))
            .await
            .expect("the areas table");
        for (i, row) in rows.iter().enumerate() {
            let cells = row.find_all(Locator::Css("th, td")).await.expect("cells");
            assert!(cells.len() >= 2, "row {} has a position and a label", i + 1);
            let position = cells[0].text().await.expect("position");
            assert_eq!(
                position.trim().trim_end_matches('.'),
                (i + 1).to_string(),
                "row {} shows its position",
                i + 1
            );
            shown.push(cells[1].text().await.expect("label").trim().to_string());
        }
        assert_eq!(
            shown, api_order,
            "the table ranks the areas as the API does"
        );
        assert_no_console_errors(&browser, "the survey dashboard").await;
        save_screenshot(&browser, "dashboard").await;
    })
    .await;
}

/// Area labels in rank order from `GET /api/surveys/s/results`.
fn areas_in_api_order(app: &TestApp, key: &str) -> Vec<String> {
    let mut response = app
        .http()
        .get(&format!("{}/api/surveys/s/results", app.base_url))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .expect("GET results");
    let body = response.body_mut().read_to_string().expect("body");
    assert_eq!(response.status().as_u16(), 200, "{body}");
    let results: Value = serde_json::from_str(&body).expect("JSON results");
    results["areas"]
        .as_array()
        .unwrap_or_else(|| panic!("no areas in {body}"))
        .iter()
        .map(|area| area["area"].as_str().expect("an area label").to_string())
        .collect()
}

/// The chart is an `<img>` that loaded, or an inline SVG with points.
async fn assert_chart_is_drawn(browser: &Client, chart: &Element) {
    let inspect = r#"
        const el = arguments[0];
        const img = el.tagName.toLowerCase() === 'img' ? el : el.querySelector('img');
        if (img) return { kind: 'img', ready: img.complete, width: img.naturalWidth };
        const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg');
        if (svg) return { kind: 'svg', ready: true, points: svg.querySelectorAll('circle, .point').length };
        return { kind: 'none', ready: true, html: el.outerHTML.slice(0, 300) };
    "#;
    let element = serde_json::to_value(chart).expect("element reference");
    for _ in 0..50 {
        let seen = browser
            .execute(inspect, vec![element.clone()])
            .await
            .expect("inspect the chart");
        if seen["ready"] != true {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        match seen["kind"].as_str() {
            Some("img") => assert!(
                seen["width"].as_u64().unwrap_or(0) > 0,
                "the chart image did not load: {seen}"
            ),
            Some("svg") => assert!(
                seen["points"].as_u64().unwrap_or(0) > 0,
                "the chart SVG has no points: {seen}"
            ),
            _ => panic!("#chart-scatter is neither an image nor an SVG: {seen}"),
        }
        return;
    }
    panic!("the chart image never finished loading");
}

// --- the app ------------------------------------------------------------------

/// Creates survey `s` from the discovery template, invites one contact in `locale`
/// and returns their personal link from the invitation email.
pub(crate) fn invited_customer(app: &TestApp, locale: &str) -> String {
    app.create_survey(DISCOVERY, "s");
    let email = new_email("c");
    app.import_contacts(&format!("email,name,locale\n{email},Åsa Öberg,{locale}\n"));
    app.invite("s", "w1");
    let mails = received_for(&email, 1);
    assert_eq!(mails.len(), 1, "one invitation");
    link_in(&mails[0], &app.base_url)
}

/// Invites one contact per locale to survey `s`; their links, in that order.
fn invited_contacts(app: &TestApp, locales: &[&str]) -> Vec<String> {
    let emails: Vec<String> = locales.iter().map(|_| new_email("c")).collect();
    let mut csv = String::from("email,name,locale\n");
    for (email, locale) in emails.iter().zip(locales) {
        csv.push_str(&format!("{email},Åsa Öberg,{locale}\n"));
    }
    app.import_contacts(&csv);
    app.invite("s", "w1");
    emails
        .iter()
        .map(|email| link_in(&received_for(email, 1)[0], &app.base_url))
        .collect()
}

/// `(rank, text, may contact)` of every stored mention of survey `s`, by rank.
fn stored_mentions(app: &TestApp) -> Vec<(u32, String, bool)> {
    let csv = app.pds_ok(&["export", "--survey", "s", "--what", "mentions"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("CSV header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
    };
    let (rank, text, may_contact) = (column("rank"), column("text"), column("may_contact"));
    let mut mentions: Vec<(u32, String, bool)> = reader
        .records()
        .map(|row| {
            let row = row.expect("CSV row");
            (
                row[rank].parse().expect("a rank"),
                row[text].to_string(),
                matches!(&row[may_contact], "1" | "true" | "yes"),
            )
        })
        .collect();
    mentions.sort();
    mentions
}

// --- the browser --------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    On,
    Off,
}

fn webdriver_url() -> String {
    std::env::var("PDS_TEST_WEBDRIVER_URL").unwrap_or_else(|_| {
        panic!(
            "PDS_TEST_WEBDRIVER_URL is not set: run the browser tests with scripts/test, \
             which installs Chromium and chromedriver and starts chromedriver"
        )
    })
}

/// Runs `body` in a fresh headless Chromium the size of a phone. If `body` panics,
/// saves a screenshot as `NAME.png` and panics with its path.
pub(crate) async fn in_browser<F, Fut>(name: &str, script: Script, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    in_browser_with(name, script, |_| {}, body).await
}

/// As [`in_browser`], with the capabilities changed by `adjust` first (a language,
/// say).
pub(crate) async fn in_browser_with<F, Fut>(
    name: &str,
    script: Script,
    adjust: impl FnOnce(&mut Capabilities),
    body: F,
) where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // A new, empty profile: Chromium must not reuse state or reach for the network.
    let profile = tempfile::tempdir().expect("a Chromium profile folder");
    let mut capabilities = capabilities(&profile.path().display().to_string(), script);
    adjust(&mut capabilities);
    let browser = ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&webdriver_url())
        .await
        .unwrap_or_else(|e| panic!("start Chromium through chromedriver: {e}"));
    browser
        .set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("a phone-sized window");
    let outcome = tokio::spawn(body(browser.clone())).await;
    if let Err(failure) = outcome {
        let path = save_screenshot(&browser, name).await;
        let _ = browser.close().await;
        let message = if failure.is_panic() {
            let payload = failure.into_panic();
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the test panicked".to_string())
        } else {
            failure.to_string()
        };
        panic!("{message}\nscreenshot: {}", path.display());
    }
    browser.close().await.expect("close Chromium");
}

fn capabilities(profile: &str, script: Script) -> Capabilities {
    // Without the networking flags Chromium tries to reach Google at every start,
    // and this machine's closed network refuses it.
    let mut options = json!({
        "binary": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            format!("--window-size={},{}", PHONE.0, PHONE.1),
            format!("--user-data-dir={profile}"),
        ],
    });
    if script == Script::Off {
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

/// Saves a PNG of the viewport to `target/browser-screenshots/NAME.png`.
pub(crate) async fn save_screenshot(browser: &Client, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    let path = dir.join(format!("{name}.png"));
    match browser.screenshot().await {
        Ok(png) => {
            std::fs::create_dir_all(&dir).expect("screenshot folder");
            std::fs::write(&path, png).expect("write the screenshot");
        }
        Err(e) => eprintln!("no screenshot for {name}: {e}"),
    }
    path
}

/// Presses and releases one key, sent to whatever has the focus.
/// Waits up to [`WAIT`] for the element `css` to appear and returns it.
pub(crate) async fn wait_for(browser: &Client, css: &str) -> Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Waits for the element `css` and clicks it.
pub(crate) async fn click(browser: &Client, css: &str) {
    wait_for(browser, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub(crate) async fn press(browser: &Client, key: Key) {
    keys(browser, &[key.into()]).await;
}

/// Types `text` key by key into whatever has the focus.
pub(crate) async fn type_text(browser: &Client, text: &str) {
    keys(browser, &text.chars().collect::<Vec<_>>()).await;
}

async fn keys(browser: &Client, keys: &[char]) {
    let actions = keys
        .iter()
        .fold(KeyActions::new("keyboard".into()), |a, &k| {
            a.then(KeyAction::Down { value: k })
                .then(KeyAction::Up { value: k })
        });
    browser.perform_actions(actions).await.expect("press keys");
}

/// Presses Tab until the element `css` has the focus, as a keyboard user would.
pub(crate) async fn tab_to(browser: &Client, css: &str) {
    for _ in 0..60 {
        if is_focused(browser, css).await {
            return;
        }
        press(browser, Key::Tab).await;
    }
    panic!("Tab never reached {css}");
}

async fn is_focused(browser: &Client, css: &str) -> bool {
    let wanted = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
    let focused = browser.active_element().await.expect("the focused element");
    focused.element_id() == wanted.element_id()
}

async fn value_of(browser: &Client, css: &str) -> String {
    let field = browser.find(Locator::Css(css)).await.expect("field");
    field
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Whether the element `css` is displayed (not `hidden`, not `display: none`).
pub(crate) async fn is_shown(browser: &Client, css: &str) -> bool {
    let element = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
    element.is_displayed().await.expect("visibility")
}

/// Waits for a page the server draws after a form post to show `css`.
async fn wait_until_shown(browser: &Client, css: &str) {
    for _ in 0..100 {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if element.is_displayed().await.unwrap_or(false) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed");
}

/// The distance from the top of the page to the top of `css`, in CSS pixels.
async fn top_of(browser: &Client, css: &str) -> f64 {
    browser
        .execute(
            "return arguments[0].getBoundingClientRect().top + window.scrollY;",
            vec![
                serde_json::to_value(browser.find(Locator::Css(css)).await.expect(css))
                    .expect("element"),
            ],
        )
        .await
        .expect("position")
        .as_f64()
        .unwrap_or(f64::MAX)
}

pub(crate) async fn is_checked(browser: &Client, css: &str) -> bool {
    let field = browser.find(Locator::Css(css)).await.expect("checkbox");
    field.is_selected().await.expect("checked")
}

async fn list_items(list: &Element) -> Vec<String> {
    let mut texts = Vec::new();
    for item in list.find_all(Locator::Css("li")).await.expect("list items") {
        texts.push(item.text().await.expect("item text"));
    }
    texts
}

/// Fails on anything the page logged as an error, Content-Security-Policy violations
/// included (Chromium logs them to the console).
pub(crate) async fn assert_no_console_errors(browser: &Client, page: &str) {
    let log = browser
        .issue_cmd(BrowserLog)
        .await
        .expect("read the browser's console log");
    let errors: Vec<&Value> = log
        .as_array()
        .map(|entries| entries.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(errors.is_empty(), "console errors on {page}: {errors:#?}");
}

/// ChromeDriver's console log (`goog:loggingPrefs`), which W3C WebDriver lacks.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}
