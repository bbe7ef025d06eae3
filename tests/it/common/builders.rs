//! What many stories start from, built with the same `pds` commands a user types:
//! a survey, contacts invited to it, imported answers, an API key, and the admin
//! API called with that key.

use serde_json::Value;

use super::{link_in, received_for, unique, TestApp};

/// The words of a command line, as a user types it: `args("results --survey s")`.
/// For arguments without spaces; pass a path as its own slice element instead.
pub fn args(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// An email address no other test uses, `PREFIX…@d….example`.
pub fn new_email(prefix: &str) -> String {
    format!("{}@{}.example", unique(prefix), unique("d"))
}

/// Runs `pds demo --dir study` with `extra` arguments in `dir` (no app, no
/// database of a test's own) and insists it succeeded; its standard output.
pub fn run_demo(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(["demo", "--dir", "study"])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("run pds demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Addresses on one new domain of their own: `emails(["anna", "ops"])` gives
/// `anna@d….example` and `ops@d….example`.
pub fn emails<const N: usize>(names: [&str; N]) -> [String; N] {
    let domain = unique("d");
    names.map(|name| format!("{name}@{domain}.example"))
}

/// A whole answer to the shipped checklist template (`survey-templates/checklist`),
/// as its form posts it: every item, bother where it happens, one item solved
/// elsewhere, and one problem written in.
pub const WHOLE_CHECKLIST_ANSWER: [(&str, &str); 9] = [
    ("experienced_late-delivery", "often"),
    ("bother_late-delivery", "5"),
    ("solved_late-delivery", "yes"),
    ("experienced_damaged-goods", "never"),
    ("experienced_invoice-errors", "sometimes"),
    ("bother_invoice-errors", "3"),
    ("experienced_hard-to-reach", "never"),
    ("problem_1", "Parking is hard"),
    ("rank_1", "1"),
];

/// Checks that the late-delivery item was stored as [`WHOLE_CHECKLIST_ANSWER`]
/// gives it: bothers 5, solved elsewhere.
pub fn assert_late_delivery_as_whole_answer(stored: &[pds::checklist::answer::ItemAnswer]) {
    let late = stored
        .iter()
        .find(|a| a.item.as_str() == "late-delivery")
        .expect("the late-delivery item is stored");
    assert_eq!(late.bother.map(|b| b.get()), Some(5));
    assert_eq!(late.solved_elsewhere.map(|s| s.as_str()), Some("yes"));
}

impl TestApp {
    /// `pds survey create --template TEMPLATE --slug SLUG`; its output.
    pub fn create_survey(&self, template: &str, slug: &str) -> String {
        self.pds_ok(&["survey", "create", "--template", template, "--slug", slug])
    }

    /// `pds survey create` that must fail; its exit code and standard error.
    pub fn create_survey_fails(&self, template: &str, slug: &str) -> (Option<i32>, String) {
        let out = self.pds(&["survey", "create", "--template", template, "--slug", slug]);
        assert!(!out.status.success(), "survey {slug} was created");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stderr)
    }

    /// Writes `csv` to `contacts.csv` and imports it (`pds contacts import`).
    pub fn import_contacts(&self, csv: &str) -> String {
        let file = self.write_file("contacts.csv", csv);
        self.pds_ok(&["contacts", "import", file.to_str().unwrap()])
    }

    /// `pds invite --survey SLUG --wave WAVE`; its output.
    pub fn invite(&self, slug: &str, wave: &str) -> String {
        self.pds_ok(&["invite", "--survey", slug, "--wave", wave])
    }

    /// Imports `contacts` (email, name, locale), invites them to wave `wave` of
    /// survey `slug` and returns each one's personal link, in the same order.
    pub fn invite_contacts(
        &self,
        slug: &str,
        wave: &str,
        contacts: &[(&str, &str, &str)],
    ) -> Vec<String> {
        let mut csv = String::from("email,name,locale\n");
        for (email, name, locale) in contacts {
            csv.push_str(&format!("{email},{name},{locale}\n"));
        }
        self.import_contacts(&csv);
        self.invite(slug, wave);
        contacts
            .iter()
            .map(|(email, _, _)| link_in(&received_for(email, 1)[0], &self.base_url))
            .collect()
    }

    /// Writes `csv` to a file and imports it as answers to survey `slug`
    /// (`pds responses import --survey SLUG FILE`); the command's output.
    pub fn import_responses(&self, slug: &str, csv: &str) -> String {
        let file = self.write_file(&format!("responses-{slug}.csv"), csv);
        self.pds_ok(&[
            "responses",
            "import",
            "--survey",
            slug,
            file.to_str().unwrap(),
        ])
    }

    /// `pds areas move --survey SLUG --mentions IDS --to AREA`: an analyst moves
    /// mentions (ids joined by commas) into an area; its output.
    pub fn move_mentions(&self, slug: &str, mentions: &str, area: &str) -> String {
        self.pds_ok(&[
            "areas",
            "move",
            "--survey",
            slug,
            "--mentions",
            mentions,
            "--to",
            area,
        ])
    }

    /// A new admin API key named `name` (`pds keys create --name NAME`).
    pub fn create_key(&self, name: &str) -> String {
        let out = self.pds_ok(&["keys", "create", "--name", name]);
        let key = out.trim().to_string();
        assert!(key.starts_with("pds_"), "no key in: {out}");
        key
    }

    /// Calls the admin API: `METHOD PATH` with `key` as bearer token (if any) and
    /// `body` as (content type, text). Returns the status and the body as JSON, or
    /// as a JSON string when it is not JSON.
    pub fn api_call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base_url);
        let agent = self.http();
        let auth = key.map(|k| format!("Bearer {k}"));
        let mut response = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    agent.get(&url)
                } else {
                    agent.delete(&url)
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = match method {
                    "POST" => agent.post(&url),
                    "PUT" => agent.put(&url),
                    other => panic!("no {other} in these tests"),
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                let (content_type, text) = body.unwrap_or(("application/json", ""));
                r.header("Content-Type", content_type).send(text)
            }
        }
        .expect("request");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// `GET PATH` on the admin API with `key`.
    pub fn api_get(&self, key: &str, path: &str) -> (u16, Value) {
        self.api_call("GET", path, Some(key), None)
    }

    /// `POST PATH` on the admin API with `key` and the JSON `body`.
    pub fn api_post(&self, key: &str, path: &str, body: &Value) -> (u16, Value) {
        let text = body.to_string();
        self.api_call("POST", path, Some(key), Some(("application/json", &text)))
    }

    /// The admin API as a client holding `key` (or no key) calls it.
    pub fn api<'a>(&'a self, key: Option<&'a str>) -> Api<'a> {
        Api { app: self, key }
    }
}

/// Typed requests to the admin API with one key: each returns the status and the
/// body as JSON (or as a JSON string when it is not JSON).
pub struct Api<'a> {
    app: &'a TestApp,
    key: Option<&'a str>,
}

impl Api<'_> {
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.app.api_call("GET", path, self.key, None)
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.app.api_call("DELETE", path, self.key, None)
    }

    /// `POST PATH` with a JSON body written as text (so that a test may send
    /// JSON that is wrong).
    pub fn post_json(&self, path: &str, json: &str) -> (u16, Value) {
        self.app
            .api_call("POST", path, self.key, Some(("application/json", json)))
    }

    /// `POST PATH` with a CSV file as the body.
    pub fn post_csv(&self, path: &str, csv: &str) -> (u16, Value) {
        self.app
            .api_call("POST", path, self.key, Some(("text/csv", csv)))
    }

    /// `PUT PATH` with a TOML file as the body.
    pub fn put_toml(&self, path: &str, toml: &str) -> (u16, Value) {
        self.app
            .api_call("PUT", path, self.key, Some(("application/toml", toml)))
    }
}
