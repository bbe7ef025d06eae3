//! The admin API as a script or the dashboard uses it: a key from `pds keys create`,
//! then surveys, contacts, invitations, reminders, results and routing over JSON,
//! with errors that say what to fix. Runs on SQLite and PostgreSQL.

use crate::common::{args, link_in, post_form, received_for, unique, Backend, TestApp};
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("a JSON error: {body}"))
}

fn create_key(app: &TestApp, name: &str) -> String {
    let out = app.pds_ok(&["keys", "create", "--name", name]);
    let key = out.trim().to_string();
    assert!(key.starts_with("pds_") && key.len() == 68, "{out}");
    key
}

fn contacts_in_db(app: &TestApp) -> i64 {
    use pds::db::schema::contacts;
    contacts::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn requests_need_a_valid_unrevoked_key(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(DISCOVERY, "s");

    let (status, body) = app.api(None).get("/api/surveys");
    assert_eq!(status, 401, "{body}");
    assert!(error_of(&body).contains("Authorization: Bearer"), "{body}");

    let made_up = format!("pds_{}", "0".repeat(64));
    let (status, body) = app.api(Some(&made_up)).get("/api/surveys");
    assert_eq!(status, 401, "{body}");
    let (status, _) = app.api(Some("not-a-key")).get("/api/surveys");
    assert_eq!(status, 401);

    let key = create_key(&app, "ci");
    let (status, body) = app.api(Some(&key)).get("/api/surveys");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["slug"], "s", "{body}");
    assert!(body[0]["title"].is_string(), "{body}");

    // Only the hash is stored: the key itself appears nowhere in the table.
    {
        use pds::db::schema::api_keys;
        let rows: Vec<(String, String)> = api_keys::table
            .select((api_keys::name, api_keys::key_hash))
            .load(&mut *app.db.conn().unwrap())
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "ci");
        assert_ne!(rows[0].1, key);
        assert!(!rows[0].1.contains(&key[4..]));
        assert_eq!(rows[0].1, hex::encode(Sha256::digest(key.as_bytes())));
    }

    let listed = app.pds_ok(&["keys", "list"]);
    assert!(listed.contains("ci"), "{listed}");
    assert!(!listed.contains(&key[4..]), "the list never shows a key");
    // name, created (date time), last used (date time), revoked (-)
    let fields = |listed: &str| -> Vec<String> {
        let line = listed.lines().find(|l| l.starts_with("ci ")).unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    let ci = fields(&listed);
    assert_eq!(ci.len(), 6, "used, not revoked: {ci:?}");
    assert_eq!(ci[5], "-", "{ci:?}");

    let out = app.pds(&["keys", "create", "--name", "ci"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a name is used once: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    app.pds_ok(&["keys", "revoke", "ci"]);
    let (status, body) = app.api(Some(&key)).get("/api/surveys");
    assert_eq!(status, 401, "a revoked key opens nothing: {body}");
    assert!(error_of(&body).contains("revoked"), "{body}");
    let ci = fields(&app.pds_ok(&["keys", "list"]));
    assert_eq!(ci.len(), 7, "revoked, with its time: {ci:?}");

    let other = create_key(&app, "dashboard");
    let (status, body) = app.api(Some(&other)).get("/api/surveys/nope");
    assert_eq!(status, 404, "{body}");
    assert!(error_of(&body).contains("nope"), "{body}");
    let (status, body) = app.api(Some(&other)).get("/api/nothing-here");
    assert_eq!(status, 404, "{body}");
    error_of(&body);
    let (status, body) = app.api(Some(&other)).delete("/api/surveys/s");
    assert_eq!(status, 405, "{body}");
    error_of(&body);

    // A contacts file over 10 MiB is refused whole.
    let mut big = String::from("email,name,locale\n");
    while big.len() <= 10 * 1024 * 1024 {
        big.push_str("someone@example.com,Someone with a long name,en\n");
    }
    let (status, body) = app
        .api(Some(&other))
        .post_csv("/api/surveys/s/contacts", &big);
    assert_eq!(status, 413, "{body}");
    assert!(error_of(&body).contains("larger than"), "{body}");
    assert_eq!(contacts_in_db(&app), 0);
}

on_both_backends!(requests_need_a_valid_unrevoked_key);

fn a_study_run_through_the_api(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(DISCOVERY, "s");
    let key = create_key(&app, "script");
    let key = Some(key.as_str());

    // A file with bad rows imports nothing and names every bad row by line.
    let bad = "email,name,locale,customer_type\n\
               ok@example.com,Ok,en,current\n\
               anna@,Anna,sv,current\n\
               bo@example.se,Bo,xx,lost\n";
    let (status, body) = app.api(key).post_csv("/api/surveys/s/contacts", bad);
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("nothing was imported"), "{body}");
    let problems: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 2, "{body}");
    assert!(problems[0].starts_with("line 3"), "{body}");
    assert!(problems[1].starts_with("line 4"), "{body}");
    assert_eq!(contacts_in_db(&app), 0);

    let (status, body) = app
        .api(key)
        .post_csv("/api/surveys/s/contacts?skip_invalid=true", bad);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["inserted"], 1);
    assert_eq!(body["skipped"].as_array().unwrap().len(), 2);

    let anna = format!("{}@example.se", unique("anna"));
    let bo = format!("{}@example.com", unique("bo"));
    let good =
        format!("email,name,locale,customer_type\n{anna},Anna,sv,current\n{bo},Bo,en,lost\n");
    let (status, body) = app.api(key).post_csv("/api/surveys/s/contacts", &good);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["inserted"], 2, "{body}");

    // Invitations are queued; the worker delivers them.
    let (status, body) = app.api(key).post_json(
        "/api/surveys/s/invitations",
        r#"{"wave": "w1", "segment": "customer_type=current"}"#,
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], 2, "ok@ and Anna are current: {body}");
    assert_eq!(body["outside_segment"], 1, "{body}");
    let (status, body) = app
        .api(key)
        .post_json("/api/surveys/s/invitations", r#"{"wave": "w1"}"#);
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], 1, "only Bo is new to the wave: {body}");
    assert_eq!(body["already_invited"], 2, "{body}");
    let (status, body) = app.api(key).post_json(
        "/api/surveys/s/invitations",
        r#"{"wave": "w1", "segment": "nonsense"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("column=value"), "{body}");
    let (status, body) = app
        .api(key)
        .post_json("/api/surveys/s/invitations", r#"{"wav": "w1"}"#);
    assert_eq!(status, 400, "{body}");
    let huge = format!(r#"{{"wave": "{}"}}"#, "x".repeat(70 * 1024));
    let (status, body) = app.api(key).post_json("/api/surveys/s/invitations", &huge);
    assert_eq!(status, 413, "{body}");
    error_of(&body);

    app.pds_ok(&["worker", "--once"]);
    let anna_mail = received_for(&anna, 1);
    assert_eq!(anna_mail.len(), 1);
    assert_eq!(received_for(&bo, 1).len(), 1);

    let agent = app.http();
    let link = link_in(&anna_mail[0], &app.base_url);
    let (status, _) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "The parcel came a week late"),
            ("rank_1", "1"),
        ],
    );
    assert_eq!(status, 200);

    let (status, body) = app.api(key).get("/api/surveys/s");
    assert_eq!(status, 200, "{body}");
    let wave = &body["waves"][0];
    assert_eq!(wave["label"], "w1", "{body}");
    assert_eq!(wave["invited"], 3, "{body}");
    assert_eq!(wave["answered"], 1, "{body}");
    let rate = wave["response_rate"].as_f64().unwrap();
    assert!((rate - 1.0 / 3.0).abs() < 1e-12, "{body}");
    assert_eq!(wave["method"], "response-rate-v1");

    let (status, body) = app.api(key).post_json(
        "/api/surveys/s/reminders",
        r#"{"wave": "w1", "after": "0s", "max": 1}"#,
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], 2, "all but Anna, who answered: {body}");
    assert_eq!(body["answered"], 1, "{body}");
    app.pds_ok(&["worker", "--once"]);
    assert_eq!(received_for(&bo, 2).len(), 2, "Bo's reminder arrived");
    let (status, body) = app
        .api(key)
        .post_json("/api/surveys/s/reminders", r#"{"wave": "no-such-wave"}"#);
    assert_eq!(status, 404, "{body}");

    // Results: the same document as `pds results --format json`, same data, same seed.
    let mut responses = String::from("respondent,wave,segment,rank,problem,area\n");
    for i in 0..40 {
        let segment = ["current", "lost"][i % 2];
        responses.push_str(&format!("r{i},w2,{segment},1,Delivery was late,Delivery\n"));
        if i % 3 == 0 {
            responses.push_str(&format!("r{i},w2,{segment},2,Invoice was wrong,Billing\n"));
        }
    }
    app.import_responses("s", &responses);
    let cli: Value = serde_json::from_str(&app.pds_ok(&args(
        "results --survey s --format json --seed 7 --bootstrap 300 --by segment --top 2",
    )))
    .unwrap();
    let (status, api) = app
        .api(key)
        .get("/api/surveys/s/results?seed=7&bootstrap=300&by=segment&top=2");
    assert_eq!(status, 200, "{api}");
    assert_eq!(api, cli);
    assert_eq!(api["rank_stability"]["seed"], 7);
    let (status, body) = app.api(key).get("/api/surveys/s/results?bootstrap=0");
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.api(key).get("/api/surveys/s/results?seed=minus-one");
    assert_eq!(status, 400, "{body}");
    error_of(&body);

    // Exports: the same file as `pds export`, streamed.
    for what in ["areas", "mentions", "responses"] {
        let cli = app.pds_ok(&["export", "--survey", "s", "--what", what, "--excel"]);
        let (status, api) = app
            .api(key)
            .get(&format!("/api/surveys/s/exports/{what}?excel=true"));
        assert_eq!(status, 200, "{what}: {api}");
        let api = api.as_str().unwrap();
        assert!(
            api.starts_with('\u{feff}'),
            "{what}: the Excel file has a BOM"
        );
        assert_eq!(api, cli, "{what}");
    }
    let (status, api) = app.api(key).get("/api/surveys/s/exports/mentions?wave=w2");
    assert_eq!(status, 200, "{api}");
    assert!(api.as_str().unwrap().contains("Delivery was late"));
    let (status, body) = app.api(key).get("/api/surveys/s/exports/contacts");
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("mentions"), "{body}");
    let (status, body) = app.api(key).get("/api/surveys/s/exports/mentions?wave=w9");
    assert_eq!(status, 404, "{body}");

    // Routing: a broken file changes nothing and names the line.
    let (status, body) = app.api(key).get("/api/surveys/s/routing");
    let before = (status, body);
    let broken = "[teams.logistics]\nname = \"Logistik\"\nemails = [\"not-an-address\"]\n\n[[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"logistics\"]\n";
    let (status, body) = app.api(key).put_toml("/api/surveys/s/routing", broken);
    assert_eq!(status, 422, "{body}");
    let problem = body["problems"][0].as_str().unwrap();
    assert!(
        problem.starts_with("line 1:") && problem.contains("not-an-address"),
        "{body}"
    );
    let unparsable = "[teams.logistics]\nname = \"Logistik\"\nemails = [\n";
    let (status, body) = app.api(key).put_toml("/api/surveys/s/routing", unparsable);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["problems"][0].as_str().unwrap().starts_with("line "),
        "{body}"
    );
    assert_eq!(app.api(key).get("/api/surveys/s/routing"), before);

    let fixed = broken.replace("not-an-address", "logistik@nordvik.example");
    let (status, body) = app.api(key).put_toml("/api/surveys/s/routing", &fixed);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rules"], json!(["late"]));
    let (status, body) = app.api(key).get("/api/surveys/s/routing");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], fixed.as_str());
    let shown = app.pds_ok(&["route", "show", "--survey", "s"]);
    assert_eq!(shown, fixed);

    // Areas and the analyst's decisions, as `pds areas` makes them.
    let (status, body) = app.api(key).get("/api/surveys/s/areas");
    assert_eq!(status, 200, "{body}");
    let area = |body: &Value, label: &str| -> Value {
        body["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == label)
            .unwrap_or_else(|| panic!("no area {label}: {body}"))
            .clone()
    };
    assert_eq!(area(&body, "Delivery")["mentions"], 40, "{body}");
    let billing = area(&body, "Billing");
    assert_eq!(billing["mentions"], 14, "{body}");
    assert_eq!(
        body["uncoded_mentions"], 1,
        "Anna's answer is not coded yet: {body}"
    );
    let rename =
        json!({"action": "rename", "area": billing["id"], "label": "Invoices"}).to_string();
    let (status, body) = app
        .api(key)
        .post_json("/api/surveys/s/areas/decisions", &rename);
    assert_eq!(status, 200, "{body}");
    let (_, body) = app.api(key).get("/api/surveys/s/areas");
    assert_eq!(area(&body, "Invoices")["id"], billing["id"], "{body}");
    let (status, body) = app.api(key).get("/api/surveys/s/areas/decisions");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["action"], "rename", "{body}");
    let listed = app.pds_ok(&["areas", "list", "--survey", "s"]);
    assert!(listed.contains("Invoices"), "{listed}");
    let (status, body) = app.api(key).post_json(
        "/api/surveys/s/areas/decisions",
        r#"{"action": "rename", "area": 999999, "label": "x"}"#,
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.api(key).post_json(
        "/api/surveys/s/areas/decisions",
        r#"{"action": "explode", "area": 1}"#,
    );
    assert_eq!(status, 400, "{body}");
    error_of(&body);
}

on_both_backends!(a_study_run_through_the_api);

#[test]
fn the_openapi_document_names_every_endpoint_and_the_bearer_scheme() {
    let app = TestApp::spawn(Backend::Sqlite);
    let (status, doc) = app.api(None).get("/api/openapi.json");
    assert_eq!(status, 200, "no key needed for the document");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/surveys", "get"),
        ("/api/surveys/{slug}", "get"),
        ("/api/surveys/{slug}/contacts", "post"),
        ("/api/surveys/{slug}/invitations", "post"),
        ("/api/surveys/{slug}/reminders", "post"),
        ("/api/surveys/{slug}/results", "get"),
        ("/api/surveys/{slug}/routing", "get"),
        ("/api/surveys/{slug}/routing", "put"),
        ("/api/surveys/{slug}/exports/{what}", "get"),
        ("/api/surveys/{slug}/areas", "get"),
        ("/api/surveys/{slug}/areas/decisions", "get"),
        ("/api/surveys/{slug}/areas/decisions", "post"),
        ("/api/openapi.json", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        if path != "/api/openapi.json" {
            assert_eq!(op["security"], json!([{"api_key": []}]), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path}");
        }
    }
    let results = &paths["/api/surveys/{slug}/results"]["get"]["parameters"];
    let names: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "slug",
        "wave",
        "by",
        "compare_wave",
        "bootstrap",
        "seed",
        "top",
    ] {
        assert!(
            names.contains(&name),
            "results has parameter {name}: {names:?}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(paths["/api/surveys/{slug}/invitations"]["post"]["requestBody"].is_object());
}
