//! A customer answers the checklist on a 320 px phone with the keyboard alone, in
//! headless Chromium: with JavaScript the follow-up questions appear only once
//! "sometimes" or "often" is chosen (and empty themselves again for "never"), and
//! the progress counts as the customer answers; without JavaScript every question
//! shows, the server counts the progress and keeps what was chosen after a
//! mistake. Neither scrolls sideways.

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::browser::{
    assert_no_console_errors, in_browser, is_checked, is_shown, press, tab_to, wait_for, Script,
    WAIT,
};
use crate::common::{link_in, new_email, received_for, Backend, TestApp};

const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");
/// The narrowest phone the form is made for (CSS pixels).
const NARROW: (u32, u32) = (320, 640);

/// A checklist survey with one invited customer; returns their personal link.
fn invited(app: &TestApp) -> String {
    app.create_survey(CHECKLIST, "check");
    let email = new_email("c");
    let file = app.write_file("c.csv", &format!("email,name,locale\n{email},Kim,en\n"));
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("check", "w1");
    link_in(&received_for(&email, 1)[0], &app.base_url)
}

/// The stored answers as (item, experienced, bother), by item.
fn stored(app: &TestApp) -> Vec<(String, String, Option<i32>)> {
    use diesel::prelude::*;
    use pds::db::schema::checklist_answers as a;
    a::table
        .select((a::item_id, a::experienced, a::bother))
        .order(a::item_id)
        .load(&mut *app.db.conn().unwrap())
        .unwrap()
}

/// The item ids in the order the page shows them.
async fn items_in_order(browser: &Client) -> Vec<String> {
    let ids = browser
        .execute(
            "return Array.from(document.querySelectorAll('fieldset.item')).map(e => e.id.slice(5));",
            vec![],
        )
        .await
        .expect("item ids");
    serde_json::from_value(ids).expect("a list of ids")
}

async fn text_of(browser: &Client, css: &str) -> String {
    let element = browser.find(Locator::Css(css)).await.expect(css);
    element.text().await.expect("text")
}

/// Whether the page is wider than the window (sideways scrolling).
async fn scrolls_sideways(browser: &Client) -> bool {
    browser
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .expect("widths")
        .as_bool()
        .unwrap_or(true)
}

/// Chooses `experienced` for `item` with the keyboard: Tab to the radio group,
/// then the arrow keys (which move and choose) or Space (which chooses "never").
async fn choose(browser: &Client, item: &str, experienced: &str) {
    tab_to(browser, &format!("#experienced_{item}_never")).await;
    match experienced {
        "never" => press(browser, Key::Space).await,
        "sometimes" => press(browser, Key::Right).await,
        _ => {
            press(browser, Key::Right).await;
            press(browser, Key::Right).await;
        }
    }
    assert!(
        is_checked(browser, &format!("#experienced_{item}_{experienced}")).await,
        "{item}: {experienced} chosen"
    );
}

/// Chooses bother `value` (1-5) for `item` with the keyboard.
async fn bother(browser: &Client, item: &str, value: u8) {
    tab_to(browser, &format!("#bother_{item}_1")).await;
    if value == 1 {
        press(browser, Key::Space).await;
    }
    for _ in 1..value {
        press(browser, Key::Right).await;
    }
    assert!(is_checked(browser, &format!("#bother_{item}_{value}")).await);
}

/// Opens `link` in a window the width of the narrowest phone, and checks that
/// the page does not scroll sideways.
async fn open_on_a_narrow_phone(browser: &Client, link: &str) {
    browser
        .set_window_size(NARROW.0, NARROW.1)
        .await
        .expect("a narrow phone");
    browser.goto(link).await.expect("open the personal link");
    assert!(!scrolls_sideways(browser).await, "fits 320 px");
}

async fn send(browser: &Client) {
    tab_to(browser, "button[type=submit]").await;
    press(browser, Key::Enter).await;
}

async fn wait_for_thanks(browser: &Client) {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//*[contains(text(), 'We have received your answer')]",
        ))
        .await
        .expect("the thank-you page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_javascript_follow_ups_appear_only_for_a_problem_had() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app);
    in_browser(
        "checklist-javascript",
        Script::On,
        move |browser| async move {
            open_on_a_narrow_phone(&browser, &link).await;
            wait_for(&browser, "html.js").await;
            assert_no_console_errors(&browser, "the checklist form").await;
            assert_eq!(text_of(&browser, "#progress_text").await, "0 of 4 answered");
            assert!(
                is_shown(&browser, "#section_1").await,
                "sections are marked"
            );
            assert!(text_of(&browser, "#section_3")
                .await
                .contains("Part 3 of 3"));

            let order = items_in_order(&browser).await;
            assert_eq!(order.len(), 4);
            for item in &order {
                assert!(
                    !is_shown(&browser, &format!("#item_{item} .field-bother")).await,
                    "{item}: no follow-up before an answer"
                );
            }
            let (first, second) = (&order[0], &order[1]);
            choose(&browser, first, "often").await;
            assert!(is_shown(&browser, &format!("#item_{first} .field-bother")).await);
            assert!(is_shown(&browser, &format!("#item_{first} .field-solved")).await);
            assert_eq!(text_of(&browser, "#progress_text").await, "1 of 4 answered");
            bother(&browser, first, 4).await;

            // "Sometimes" with a bother, then "never" after all: the follow-ups go,
            // and take their answer with them.
            choose(&browser, second, "sometimes").await;
            bother(&browser, second, 2).await;
            // Back to the question, as Shift+Tab would take a keyboard user there.
            browser
                .execute(
                    "document.getElementById(arguments[0]).focus();",
                    vec![format!("experienced_{second}_sometimes").into()],
                )
                .await
                .expect("focus the answer");
            press(&browser, Key::Left).await;
            assert!(is_checked(&browser, &format!("#experienced_{second}_never")).await);
            assert!(!is_shown(&browser, &format!("#item_{second} .field-bother")).await);
            assert!(!is_checked(&browser, &format!("#bother_{second}_2")).await);

            for item in &order[2..] {
                choose(&browser, item, "never").await;
            }
            assert_eq!(text_of(&browser, "#progress_text").await, "4 of 4 answered");
            assert!(
                !scrolls_sideways(&browser).await,
                "still fits with follow-ups"
            );
            send(&browser).await;
            wait_for_thanks(&browser).await;
        },
    )
    .await;

    let answers = stored(&app);
    assert_eq!(answers.len(), 4, "{answers:?}");
    let had: Vec<_> = answers.iter().filter(|(_, e, _)| e != "never").collect();
    assert_eq!(had.len(), 1, "{answers:?}");
    assert_eq!((had[0].1.as_str(), had[0].2), ("often", Some(4)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_every_question_shows_and_the_server_counts_the_progress() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app);
    in_browser(
        "checklist-no-javascript",
        Script::Off,
        move |browser| async move {
            open_on_a_narrow_phone(&browser, &link).await;
            let order = items_in_order(&browser).await;
            for item in &order {
                assert!(
                    is_shown(&browser, &format!("#item_{item} .field-bother")).await,
                    "{item}: without JavaScript the follow-up is always there"
                );
            }
            assert_eq!(text_of(&browser, "#progress_text").await, "0 of 4 answered");

            // Three answered, one forgotten: the page comes back with the choices
            // kept, the progress counted and the mistake marked.
            choose(&browser, &order[0], "often").await;
            bother(&browser, &order[0], 5).await;
            choose(&browser, &order[1], "never").await;
            choose(&browser, &order[2], "never").await;
            send(&browser).await;
            wait_for(&browser, "#error-summary").await;
            assert_eq!(text_of(&browser, "#progress_text").await, "3 of 4 answered");
            assert!(is_checked(&browser, &format!("#bother_{}_5", order[0])).await);
            choose(&browser, &order[3], "never").await;
            send(&browser).await;
            wait_for_thanks(&browser).await;
        },
    )
    .await;

    let answers = stored(&app);
    assert_eq!(answers.len(), 4, "{answers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|(_, e, b)| e == "often" && *b == Some(5))
            .count(),
        1,
        "{answers:?}"
    );
}
