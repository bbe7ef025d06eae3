//! Every page a person sees passes axe-core's WCAG 2 A and AA rules in a real
//! headless Chromium: the customer's form (Swedish and English, on a phone), its
//! error summary and thank-you page, the dashboard's sign-in, survey list, survey
//! page, area page and cases. `scripts/test` installs axe-core from the npm registry
//! and names its script in `PDS_TEST_AXE`.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{click, in_browser, wait_for, Script};
use crate::common::Backend;
use crate::common::{link_in, new_email, received_for, TestApp};

fn axe_source() -> String {
    let path = std::env::var("PDS_TEST_AXE").unwrap_or_else(|_| {
        panic!(
            "PDS_TEST_AXE is not set: run the accessibility tests with scripts/test, \
             which installs axe-core"
        )
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read axe-core at {path}: {e}"))
}

/// The WCAG 2 A and AA violations axe-core finds on the page shown, one line each.
async fn violations(browser: &Client, axe: &str) -> Vec<String> {
    browser
        .execute(axe, vec![])
        .await
        .expect("load axe-core into the page");
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
               .then(r => done(r.violations.map(v =>
                 v.id + ': ' + v.help + ' at ' +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe-core failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    match found {
        Value::Array(lines) => lines
            .into_iter()
            .map(|l| l.as_str().unwrap_or_default().to_string())
            .collect(),
        other => vec![format!("axe-core answered {other}")],
    }
}

async fn check(browser: &Client, axe: &str, page: &str, found: &mut Vec<String>) {
    for v in violations(browser, axe).await {
        found.push(format!("{page}: {v}"));
    }
}

/// A contact in each language invited to survey `s`; their personal links.
fn invite_two(app: &TestApp) -> Vec<String> {
    let emails: Vec<String> = (0..2).map(|_| new_email("a11y")).collect();
    app.import_contacts(&format!(
        "email,name,locale\n{},Åsa Öberg,sv\n{},Ann Smith,en\n",
        emails[0], emails[1]
    ));
    app.invite("s", "w3");
    emails
        .iter()
        .map(|e| link_in(&received_for(e, 1)[0], &app.base_url))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core_wcag_2_a_and_aa() {
    let axe = axe_source();
    let app = TestApp::spawn(Backend::Sqlite);
    crate::dashboard::study(&app);
    let links = invite_two(&app);
    let key = app.create_key("a11y");
    let base = app.base_url.clone();
    in_browser("accessibility", Script::On, move |browser| async move {
        let mut found = Vec::new();
        for (language, link) in ["sv", "en"].iter().zip(&links) {
            browser.goto(link).await.expect("the form");
            check(&browser, &axe, &format!("form ({language})"), &mut found).await;
        }
        // Sending "yes, I have had problems" with no words gives the error summary.
        browser.goto(&links[1]).await.expect("the form");
        click(&browser, "#send").await;
        wait_for(&browser, "[role=alert], .error-summary, #errors").await;
        check(&browser, &axe, "form with errors", &mut found).await;
        browser.goto(&links[0]).await.expect("the form");
        click(&browser, "#no_problems_yes").await;
        click(&browser, "#send").await;
        wait_for(&browser, "p.lead").await;
        check(&browser, &axe, "thank-you page", &mut found).await;

        browser
            .goto(&format!("{base}/admin/login"))
            .await
            .expect("the sign-in page");
        check(&browser, &axe, "sign-in", &mut found).await;
        browser
            .find(Locator::Css("#key"))
            .await
            .expect("the key field")
            .send_keys(&key)
            .await
            .expect("type the key");
        click(&browser, "form.login button[type=submit]").await;
        wait_for(&browser, "a[href='/admin/surveys/s']").await;
        check(&browser, &axe, "survey list", &mut found).await;
        for (page, path) in [
            ("survey page", "/admin/surveys/s"),
            ("cases", "/admin/cases"),
            ("case figures", "/admin/cases/figures"),
        ] {
            browser
                .goto(&format!("{base}{path}"))
                .await
                .expect("a dashboard page");
            check(&browser, &axe, page, &mut found).await;
        }
        browser
            .goto(&format!("{base}/admin/surveys/s"))
            .await
            .expect("the survey page");
        let area = browser
            .find(Locator::Css("#areas a[href*='/areas/']"))
            .await
            .expect("a link to an area page");
        area.click().await.expect("open an area");
        wait_for(&browser, "h1").await;
        check(&browser, &axe, "area page", &mut found).await;
        // "You said, we did" from the area page: the form, then its preview.
        click(&browser, "#announce-link").await;
        wait_for(&browser, "#announce-form").await;
        check(&browser, &axe, "announce form", &mut found).await;
        for field in ["#text-sv", "#text-en"] {
            browser
                .find(Locator::Css(field))
                .await
                .expect("a text per language")
                .send_keys("We changed carriers.")
                .await
                .expect("type the text");
        }
        click(&browser, "#announce-waves input[type=checkbox]").await;
        click(&browser, "#announce-form button[type=submit]").await;
        wait_for(&browser, "#announce-confirm").await;
        check(&browser, &axe, "announce preview", &mut found).await;
        assert!(
            found.is_empty(),
            "axe-core found {} WCAG 2 A/AA violations:\n{}",
            found.len(),
            found.join("\n")
        );
    })
    .await;
}
