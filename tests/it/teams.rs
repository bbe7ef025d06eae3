//! The operations teams' side: complaint emails a team can act on (subject,
//! body and Reply-To read back from the SMTP server, in Swedish and English),
//! the daily digest, service-level reminders and the one escalation at a
//! controlled time (`pds worker --once --now`), `pds cases stats` and `export`
//! on a small known set, and signed webhooks to a local receiver that is down
//! for a while.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::common::{
    copy_folder, emails, free_port, link_in, post_form, received_for, unique, Backend, TestApp,
};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const SECRET: &str = "test-webhook-secret-0123456789";

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message")
}

fn subject(raw: &[u8]) -> String {
    parse(raw).subject().unwrap_or_default().to_string()
}

fn text_of(raw: &[u8]) -> String {
    parse(raw)
        .body_text(0)
        .expect("plain-text part")
        .into_owned()
}

fn reply_to(raw: &[u8]) -> Option<String> {
    parse(raw)
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string)
}

/// Creates survey `slug` from the discovery folder with `routing` as its
/// routing.toml, imports `contacts` (email, name, locale, customer_type) and
/// invites them; returns each contact's personal link.
fn study(
    app: &TestApp,
    slug: &str,
    routing: &str,
    contacts: &[(&str, &str, &str, &str)],
) -> Vec<String> {
    let folder = app.dir.path().join(slug);
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    std::fs::write(folder.join("routing.toml"), routing).unwrap();
    app.create_survey(folder.to_str().unwrap(), slug);
    let mut csv = String::from("email,name,locale,customer_type\n");
    for (email, name, locale, kind) in contacts {
        csv.push_str(&format!("{email},{name},{locale},{kind}\n"));
    }
    let file = app.write_file(&format!("{slug}.csv"), &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite(slug, "w1");
    contacts
        .iter()
        .map(|(email, ..)| link_in(&received_for(email, 1)[0], &app.base_url))
        .collect()
}

fn answer(app: &TestApp, link: &str, problems: &[(&str, bool)]) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (i, (text, consent)) in problems.iter().enumerate() {
        pairs.push((format!("problem_{}", i + 1), text.to_string()));
        pairs.push((format!("rank_{}", i + 1), (i + 1).to_string()));
        if *consent {
            pairs.push((format!("consent_{}", i + 1), "yes".into()));
        }
    }
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, page) = post_form(&app.http(), link, &borrowed);
    assert_eq!(status, 200, "{page}");
}

/// The reference in a complaint subject (`... · ref K7M2QX4P`).
fn reference_in(subject: &str) -> String {
    subject
        .rsplit("ref ")
        .next()
        .map(str::trim)
        .filter(|r| r.len() == 8)
        .unwrap_or_else(|| panic!("no reference in {subject:?}"))
        .to_string()
}

fn team_emails_say_what_the_team_needs_in_its_language(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("t");
    let (anna, bo) = (format!("anna@{d}.example"), format!("bo@{d}.example"));
    let (logistik, billing) = (
        format!("logistik@{d}.example"),
        format!("billing@{d}.example"),
    );
    let routing = format!(
        r#"
[teams.logistics]
name = "Logistik"
emails = ["{logistik}"]
locale = "sv"

[teams.billing]
name = "Billing"
emails = ["{billing}"]
locale = "en"

[[rules]]
name = "sena leveranser"
keywords = ["leverans*", "late"]
segment = {{ customer_type = "current" }}
teams = ["logistics", "billing"]

[labels.sv]
customer_type = "Kundtyp"
"customer_type.current" = "befintlig kund"
"#
    );
    let links = study(
        &app,
        "s",
        &routing,
        &[
            (&anna, "Anna Åberg", "sv", "current"),
            (&bo, "Bo Ek", "en", "current"),
        ],
    );
    answer(
        &app,
        &links[0],
        &[
            (
                "Leveransen kom två veckor för sent och ingen hörde av sig om förseningen",
                true,
            ),
            ("Fakturan var fel", false),
        ],
    );
    answer(&app, &links[1], &[("The delivery was late again", false)]);
    app.pds_ok(&["worker", "--once"]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();

    let swedish = mail_to(&logistik, 2, |m| text_of(m).contains("Leveransen kom"))
        .expect("Anna's complaint reached Logistik");
    let s = subject(&swedish);
    assert!(
        s.contains("”Leveransen kom två veckor för sent och ingen…")
            && s.contains("prio 1 av 2")
            && s.contains("ref "),
        "a snippet of the words, the rank in Swedish and a reference: {s}"
    );
    let reference = reference_in(&s);
    let text = text_of(&swedish);
    for expected in [
        format!("Referens: {reference}"),
        format!("Svarsdatum: {today}"),
        "Kunden svarade på: svenska".to_string(),
        format!("I översikten: {}/admin/cases/{reference}", app.base_url),
        "orden ”leveransen” matchar sökordet ”leverans*”".to_string(),
        "Kundtyp: befintlig kund".to_string(),
        "Svarar du på det här mejlet går svaret till kunden".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }
    for english_or_code in ["keyword", "matched", "customer_type", "current"] {
        assert!(
            !text.contains(english_or_code),
            "{english_or_code:?} in:\n{text}"
        );
    }
    assert_eq!(
        reply_to(&swedish).as_deref(),
        Some(anna.as_str()),
        "she agreed"
    );
    let html = parse(&swedish).body_html(0).unwrap().into_owned();
    assert!(
        html.contains(&reference) && html.contains("befintlig kund"),
        "{html}"
    );
    // The email's dashboard link opens the case's own page for a signed-in analyst.
    let cookie = crate::dashboard::log_in(&app);
    let case_page =
        crate::dashboard::get(&app, &format!("/admin/cases/{reference}"), Some(&cookie));
    assert_eq!(case_page.status, 200, "{}", case_page.body);
    assert!(
        case_page
            .body
            .contains("Leveransen kom två veckor för sent"),
        "the case page shows the words: {}",
        case_page.body
    );
    let shown = app.pds_ok(&["cases", "show", &reference.to_lowercase()]);
    assert!(
        shown.contains(&format!("Reference: {reference}")),
        "{shown}"
    );

    let bos = mail_to(&billing, 2, |m| {
        text_of(m).contains("The delivery was late again")
    })
    .expect("Bo's complaint reached Billing");
    let s = subject(&bos);
    assert!(
        s.contains("“The delivery was late again”") && s.contains("prio 1 of 1"),
        "{s}"
    );
    let text = text_of(&bos);
    for expected in [
        "Language of the answer: English",
        &format!("Answered on: {today}"),
        "the words “late” match the keyword “late”",
        "Customer type: current",
        "Replying to this email does not reach the customer",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert_eq!(reply_to(&bos), None, "Bo did not agree to be contacted");
    let annas_in_english = mail_to(&billing, 2, |m| text_of(m).contains("Leveransen kom"))
        .expect("Billing hears of Anna's complaint too");
    assert!(
        text_of(&annas_in_english).contains("Language of the answer: Swedish"),
        "the team's language, the answer's language named in it"
    );
}

on_both_backends!(team_emails_say_what_the_team_needs_in_its_language);

/// `pds worker --once --now TIME` at `hours` after now.
fn worker_at(app: &TestApp, hours: i64) -> String {
    let at = chrono::Utc::now().naive_utc() + chrono::Duration::hours(hours);
    app.pds_ok(&[
        "worker",
        "--once",
        "--now",
        &at.format("%Y-%m-%dT%H:%M:%S").to_string(),
    ])
}

fn a_digest_team_gets_one_email_a_day(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [anna, bo, team] = emails(["anna", "bo", "logistik"]);
    let routing = format!(
        "[teams.logistics]\nname = \"Logistik\"\nemails = [\"{team}\"]\nlocale = \"sv\"\ndigest = \"daily\"\n\n\
         [[rules]]\nname = \"sena\"\nkeywords = [\"leverans*\", \"late\"]\nteams = [\"logistics\"]\n"
    );
    let links = study(
        &app,
        "g",
        &routing,
        &[(&anna, "Anna", "sv", "current"), (&bo, "Bo", "en", "lost")],
    );
    answer(&app, &links[0], &[("Leveransen kom för sent", true)]);
    answer(&app, &links[1], &[("Late delivery, twice", false)]);
    app.pds_ok(&["worker", "--once"]);
    assert!(
        received_within_none(&team),
        "no email per complaint for a digest team"
    );
    // Tomorrow the worker sends yesterday's complaints, in one email.
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 5, 0)
        .unwrap();
    let out = app.pds_ok(&[
        "worker",
        "--once",
        "--now",
        &tomorrow.format("%Y-%m-%dT%H:%M:%S").to_string(),
    ]);
    assert!(out.contains("Queued 1 digests"), "{out}");
    let mails = received_for(&team, 1);
    assert_eq!(mails.len(), 1);
    let s = subject(&mails[0]);
    assert!(
        s.contains("Dagens klagomål till Logistik") && s.contains(": 2 st"),
        "{s}"
    );
    let text = text_of(&mails[0]);
    assert!(
        text.contains("Leveransen kom för sent")
            && text.contains("Late delivery, twice")
            && text.contains("Kunden svarade på: engelska")
            && text.contains("Kunden har gått med på att bli kontaktad: Anna")
            && text.matches(&format!("{}/c/", app.base_url)).count() == 6,
        "both complaints, each with its three links:\n{text}"
    );
    let ack = text
        .lines()
        .find_map(|l| l.strip_prefix("Bekräfta: "))
        .expect("an acknowledge link");
    assert_eq!(crate::common::get(&app.http(), ack).0, 200);
    // The trail records it: the next pass sends nothing again.
    let out = app.pds_ok(&[
        "worker",
        "--once",
        "--now",
        &tomorrow.format("%Y-%m-%dT%H:%M:%S").to_string(),
    ]);
    assert!(out.contains("Queued 0 digests"), "{out}");
    assert!(app.pds_ok(&["cases", "show", "1"]).contains("digested"));
}

fn received_within_none(email: &str) -> bool {
    crate::common::received_within(email, 1, std::time::Duration::from_secs(2)).is_empty()
}

on_both_backends!(a_digest_team_gets_one_email_a_day);

/// Survey `slug` whose Swedish logistics team has the service levels `levels`
/// (routing.toml lines) and an escalation address; Anna's complaint has opened
/// case 1 and reached the team. Returns the team's and the escalation's addresses.
fn service_level_study(app: &TestApp, slug: &str, levels: &str) -> (String, String) {
    let [anna, team, boss] = emails(["anna", "ops", "boss"]);
    let routing = format!(
        "[teams.logistics]\nname = \"Logistik\"\nemails = [\"{team}\"]\nlocale = \"sv\"\n\
         escalate_to = \"{boss}\"\n{levels}\n\n\
         [[rules]]\nname = \"sena\"\nkeywords = [\"leverans*\"]\nteams = [\"logistics\"]\n"
    );
    let links = study(app, slug, &routing, &[(&anna, "Anna", "sv", "current")]);
    answer(app, &links[0], &[("Leveransen kom för sent", false)]);
    app.pds_ok(&["worker", "--once"]);
    assert_eq!(received_for(&team, 1).len(), 1, "the complaint itself");
    (team, boss)
}

fn overdue_cases_are_reminded_and_escalated_once(backend: Backend) {
    let app = TestApp::spawn(backend);
    let (team, boss) =
        service_level_study(&app, "l", "ack_within = \"8h\"\nresolve_within = \"5d\"");

    let out = worker_at(&app, 7);
    assert!(
        out.contains("0 reminders, 0 escalations"),
        "not yet due: {out}"
    );
    let out = worker_at(&app, 9);
    assert!(out.contains("1 reminders, 0 escalations"), "{out}");
    let reminder =
        mail_to(&team, 2, |m| subject(m).contains("Påminnelse")).expect("a reminder to the team");
    let text = text_of(&reminder);
    assert!(
        text.contains("Leveransen kom för sent")
            && text.contains("inte bekräftat i tid")
            && text.contains("bekräfta inom 8 timmar"),
        "{text}"
    );
    assert!(
        received_within_none(&boss),
        "no escalation before twice the time"
    );

    let out = worker_at(&app, 17);
    assert!(out.contains("0 reminders, 1 escalations"), "{out}");
    let out = worker_at(&app, 20);
    assert!(out.contains("0 reminders, 0 escalations"), "once: {out}");
    let to_boss = received_for(&boss, 1);
    assert_eq!(to_boss.len(), 1);
    assert!(
        subject(&to_boss[0]).contains("Eskalering"),
        "{}",
        subject(&to_boss[0])
    );
    // Past the resolve deadline: one more reminder (resolve), no second escalation.
    let out = worker_at(&app, 24 * 5 + 1);
    assert!(out.contains("1 reminders, 0 escalations"), "{out}");
    let shown = app.pds_ok(&["cases", "show", "1"]);
    assert_eq!(shown.matches("sla_escalated").count(), 1, "{shown}");
    assert_eq!(shown.matches("sla_reminded").count(), 2, "{shown}");
}

on_both_backends!(overdue_cases_are_reminded_and_escalated_once);

/// A team that works Mon-Fri 08:00-17:00 in Stockholm, with Monday
/// 2026-01-19 a holiday, and ack_within = "2h": a case opened on Friday at
/// 16:00 there (15:00 UTC) has one working hour on Friday and the second on
/// Tuesday, so the reminder comes on Tuesday at 09:00 and the escalation at
/// twice the time, 11:00, not on Friday evening; and an acknowledgement on
/// Tuesday at 08:00 counts as within the service level in the figures.
fn service_levels_count_working_hours_only(backend: Backend) {
    let app = TestApp::spawn(backend);
    let (team, boss) = service_level_study(
        &app,
        "h",
        "ack_within = \"2h\"\nworking_hours = \"Mon-Fri 08:00-17:00\"\n\
         timezone = \"Europe/Stockholm\"\nholidays = [\"2026-01-19\"]",
    );
    let friday = chrono::NaiveDate::from_ymd_opt(2026, 1, 16)
        .unwrap()
        .and_hms_opt(15, 0, 0)
        .unwrap();
    backdate(&app, 1, friday, &[]);

    let pass = |at: &str| app.pds_ok(&["worker", "--once", "--now", at]);
    for (at, expected) in [
        ("2026-01-16T22:00:00", "0 reminders, 0 escalations"), // 7 h later, 1 working hour
        ("2026-01-19T12:00:00", "0 reminders, 0 escalations"), // the holiday
        ("2026-01-20T07:59:00", "0 reminders, 0 escalations"), // Tuesday 08:59 there
        ("2026-01-20T08:00:00", "1 reminders, 0 escalations"),
        ("2026-01-20T09:59:00", "0 reminders, 0 escalations"),
        ("2026-01-20T10:00:00", "0 reminders, 1 escalations"),
    ] {
        let out = pass(at);
        assert!(out.contains(expected), "at {at}: {out}");
    }
    assert_eq!(received_for(&boss, 1).len(), 1);
    let reminder =
        mail_to(&team, 2, |m| subject(m).contains("Påminnelse")).expect("a reminder to the team");
    let text = text_of(&reminder);
    assert!(
        text.contains(
            "bekräfta inom 2 timmar, räknat i er arbetstid, Mon-Fri 08:00-17:00 Europe/Stockholm,"
        ),
        "{text}"
    );

    app.pds_ok(&["cases", "ack", "1"]);
    backdate(&app, 1, friday, &[("acknowledged", 88)]); // Tuesday 07:00 UTC
    let (out, cells) = team_row(&app, "h");
    assert_eq!(
        cells[..4],
        ["logistics", "1", "88.0 h (1)", "100% (1)"],
        "88 hours, but one working hour: {out}"
    );
}

on_both_backends!(service_levels_count_working_hours_only);

/// What `pds cases stats --survey SURVEY` printed, and the cells of the
/// logistics team's row.
fn team_row(app: &TestApp, survey: &str) -> (String, Vec<String>) {
    let out = app.pds_ok(&["cases", "stats", "--survey", survey]);
    let row = out
        .lines()
        .find(|l| l.starts_with("logistics "))
        .unwrap_or_else(|| panic!("a row for the team:\n{out}"));
    let cells = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    (out, cells)
}

/// Sets a case's opening and its events' times, in hours after `day0`.
fn backdate(app: &TestApp, case: i64, day0: chrono::NaiveDateTime, events: &[(&str, i64)]) {
    use diesel::RunQueryDsl;
    let stamp = |h: i64| {
        (day0 + chrono::Duration::hours(h))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let mut conn = app.db.conn().unwrap();
    diesel::sql_query(format!(
        "UPDATE cases SET created_at = '{}' WHERE id = {case}",
        stamp(0)
    ))
    .execute(&mut *conn)
    .unwrap();
    for (action, h) in events {
        diesel::sql_query(format!(
            "UPDATE case_events SET at = '{}' WHERE case_id = {case} AND action = '{action}'",
            stamp(*h)
        ))
        .execute(&mut *conn)
        .unwrap();
    }
}

fn case_figures_on_a_known_set(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("f");
    let people: Vec<(String, String)> = (0..3)
        .map(|i| (format!("p{i}@{d}.example"), format!("Given Name{i}")))
        .collect();
    let team = format!("ops@{d}.example");
    let routing = format!(
        "[teams.logistics]\nname = \"Logistik\"\nemails = [\"{team}\"]\n\
         ack_within = \"8h\"\nresolve_within = \"5d\"\n\n\
         [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"logistics\"]\n"
    );
    let contacts: Vec<(&str, &str, &str, &str)> = people
        .iter()
        .map(|(e, n)| (e.as_str(), n.as_str(), "en", "current"))
        .collect();
    let links = study(&app, "f", &routing, &contacts);
    answer(&app, &links[0], &[("Late, again", true)]);
    answer(&app, &links[1], &[("=HYPERLINK(\"http://x\") late", false)]);
    answer(&app, &links[2], &[("late late late", false)]);
    app.pds_ok(&["cases", "ack", "1"]);
    app.pds_ok(&["cases", "resolve", "1"]);
    app.pds_ok(&["cases", "ack", "2"]);
    // Three days ago: case 1 acknowledged after 2 h and resolved after 30 h,
    // case 2 acknowledged after 10 h, case 3 still open.
    let day0 = chrono::Utc::now().naive_utc() - chrono::Duration::days(3);
    backdate(&app, 1, day0, &[("acknowledged", 2), ("resolved", 30)]);
    backdate(&app, 2, day0, &[("acknowledged", 10)]);
    backdate(&app, 3, day0, &[]);

    let (out, cells) = team_row(&app, "f");
    assert_eq!(
        cells,
        [
            "logistics",
            "3",
            "6.0 h (2)",
            "33% (3)",
            "30.0 h (1)",
            "100% (1)",
            "0/2/0 (2)"
        ],
        "{out}"
    );
    assert!(
        out.contains("median-v1") && out.contains("(not coded yet)"),
        "{out}"
    );

    let csv_path = app.dir.path().join("cases.csv");
    app.pds_ok(&[
        "cases",
        "export",
        "--survey",
        "f",
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<BTreeMap<String, String>> = reader.deserialize().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["hours_to_acknowledge"], "2.00");
    assert_eq!(rows[0]["hours_to_close"], "30.00");
    assert_eq!(rows[0]["customer_may_be_contacted"], "yes");
    assert!(rows[1]["text"].starts_with("'=HYPERLINK"), "{:?}", rows[1]);
    assert!(
        !csv.contains('@') && !csv.contains("Given Name"),
        "no emails or names:\n{csv}"
    );
}

on_both_backends!(case_figures_on_a_known_set);

/// One request the local receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A small HTTP receiver on 127.0.0.1:`port` that answers 200 to every POST and
/// keeps what it got.
fn receiver(port: u16) -> Arc<Mutex<Vec<Received>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut headers = BTreeMap::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let length: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            keep.lock().unwrap().push(Received {
                path,
                headers,
                body: String::from_utf8(body).unwrap(),
            });
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    got
}

fn verify(r: &Received) -> bool {
    verify_with(SECRET, r)
}

/// Whether `r` carries the signature the receiver computes with `secret`.
fn verify_with(secret: &str, r: &Received) -> bool {
    use hmac::{Hmac, Mac};
    let timestamp = &r.headers["x-pds-timestamp"];
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", r.body).as_bytes());
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    r.headers.get("x-pds-signature") == Some(&expected)
}

fn webhooks_are_signed_and_survive_a_receiver_that_is_down(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("w");
    let port = free_port();
    let env = [
        ("PDS_WEBHOOK_SECRET", SECRET),
        ("PDS_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    let routing = format!(
        "[teams.logistics]\nname = \"Logistik\"\nlocale = \"sv\"\nwebhook = \"http://127.0.0.1:{port}/pds\"\n\n\
         [teams.chat]\nname = \"Chat\"\nwebhook = \"http://127.0.0.1:{port}/slack\"\nformat = \"slack\"\n\n\
         [[rules]]\nname = \"sena\"\nkeywords = [\"leverans*\", \"late\"]\nteams = [\"logistics\", \"chat\"]\n"
    );
    // A private address is refused when the survey is set up, unless allowed.
    let folder = app.dir.path().join("w");
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    std::fs::write(folder.join("routing.toml"), &routing).unwrap();
    let create = [
        "survey",
        "create",
        "--template",
        folder.to_str().unwrap(),
        "--slug",
        "w",
    ];
    let refused = app.pds(&create);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("team \"logistics\"")
            && err.contains("127.0.0.1, a loopback or private address"),
        "{err}"
    );
    let ten = routing.replace(&format!("127.0.0.1:{port}/pds"), "10.1.2.3/pds");
    std::fs::write(folder.join("routing.toml"), &ten).unwrap();
    let refused = app.pds_env(&[("PDS_WEBHOOK_SECRET", SECRET)], &create);
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("10.1.2.3, a loopback or private address"));
    std::fs::write(folder.join("routing.toml"), &routing).unwrap();
    let out = app.pds_env(&env, &create);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let people: Vec<String> = (0..3).map(|i| format!("p{i}@{d}.example")).collect();
    let mut csv = String::from("email,name,locale\n");
    for (i, p) in people.iter().enumerate() {
        csv.push_str(&format!("{p},P{i},sv\n"));
    }
    let file = app.write_file("w.csv", &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("w", "w1");
    for (i, p) in people.iter().enumerate() {
        let link = link_in(&received_for(p, 1)[0], &app.base_url);
        answer(
            &app,
            &link,
            &[(&format!("Leveransen kom sent, gång {i}"), i == 0)],
        );
    }

    // The receiver is down: every delivery waits for a retry.
    let out = app.pds_env(&env, &["worker", "--once"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("retrying 6"), "{printed}");
    let got = receiver(port);
    app.pds_env(&env, &["outbox", "retry"]);
    let out = app.pds_env(&env, &["worker", "--once"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Delivered 6"));
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 6, "every payload, once");
    let signed: Vec<&Received> = got.iter().filter(|r| r.path == "/pds").collect();
    assert_eq!(signed.len(), 3);
    let mut words = Vec::new();
    for r in &signed {
        assert!(verify(r), "the signature checks out: {r:?}");
        let payload: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(payload["event"], "case.opened");
        assert_eq!(payload["case"]["answer_locale"], "sv");
        assert!(payload["links"]["acknowledge"]
            .as_str()
            .unwrap()
            .contains("/c/"));
        let customer = &payload["case"]["customer"];
        assert_eq!(
            customer.is_null(),
            !payload["case"]["text"].as_str().unwrap().ends_with('0')
        );
        words.push(payload["case"]["text"].as_str().unwrap().to_string());
    }
    words.sort();
    assert_eq!(
        words,
        [
            "Leveransen kom sent, gång 0",
            "Leveransen kom sent, gång 1",
            "Leveransen kom sent, gång 2"
        ]
    );
    let tampered = Received {
        body: signed[0].body.replace("gång", "gang"),
        ..signed[0].clone()
    };
    assert!(!verify(&tampered), "a changed body fails the check");
    for r in got.iter().filter(|r| r.path == "/slack") {
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("Leveransen kom sent") && text.contains("prio 1 of 1"),
            "{text}"
        );
    }
    // The payload is documented in the OpenAPI document.
    let (status, doc) =
        crate::common::get(&app.http(), &format!("{}/api/openapi.json", app.base_url));
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let payload = &doc["components"]["schemas"]["WebhookPayload"];
    assert!(
        payload["description"]
            .as_str()
            .unwrap_or_default()
            .contains("X-PDS-Signature")
            && payload["properties"]["case"].is_object(),
        "{payload}"
    );
}

on_both_backends!(webhooks_are_signed_and_survive_a_receiver_that_is_down);

/// Two teams' receivers each check their own secret: one team names its
/// variable with `secret_env`, the other is signed with the global secret. A
/// worker started without the team's variable delivers nothing to it and says
/// which variable to set; once set, the retried payload arrives signed.
fn each_team_signs_with_its_own_secret(backend: Backend) {
    const LOGISTICS_SECRET: &str = "logistics-own-secret-9876543210";
    let app = TestApp::spawn(backend);
    let d = unique("k");
    let port = free_port();
    let routing = format!(
        "[teams.logistics]\nname = \"Logistik\"\nwebhook = \"http://127.0.0.1:{port}/logistics\"\n\
         secret_env = \"PDS_WEBHOOK_SECRET_LOGISTICS\"\n\n\
         [teams.billing]\nname = \"Billing\"\nwebhook = \"http://127.0.0.1:{port}/billing\"\n\n\
         [[rules]]\nname = \"sena\"\nkeywords = [\"leverans*\"]\nteams = [\"logistics\", \"billing\"]\n"
    );
    let global = [
        ("PDS_WEBHOOK_SECRET", SECRET),
        ("PDS_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    let folder = app.dir.path().join("k");
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    std::fs::write(folder.join("routing.toml"), &routing).unwrap();
    let folder = folder.to_str().unwrap();
    let created = app.pds_env(
        &global,
        &["survey", "create", "--template", folder, "--slug", "k"],
    );
    assert!(created.status.success(), "{created:?}");
    let anna = format!("anna@{d}.example");
    let file = app.write_file("k.csv", &format!("email,name,locale\n{anna},Anna,sv\n"));
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.pds_ok(&["invite", "--survey", "k", "--wave", "w1"]);
    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);
    answer(&app, &link, &[("Leveransen kom för sent", false)]);

    let got = receiver(port);
    let out = app.pds_env(&global, &["worker", "--once"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("Delivered 1") && printed.contains("failed 1"),
        "{printed}"
    );
    let status = app.pds_ok(&["outbox", "status"]);
    assert!(
        status.contains("PDS_WEBHOOK_SECRET_LOGISTICS") && status.contains("not set"),
        "the failure names the variable to set: {status}"
    );
    let with_team = [
        global[0],
        global[1],
        ("PDS_WEBHOOK_SECRET_LOGISTICS", LOGISTICS_SECRET),
    ];
    app.pds_env(&with_team, &["outbox", "retry"]);
    let out = app.pds_env(&with_team, &["worker", "--once"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Delivered 1"));

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "each team's payload once: {got:?}");
    let at = |path: &str| got.iter().find(|r| r.path == path).unwrap().clone();
    let (logistics, billing) = (at("/logistics"), at("/billing"));
    assert!(verify_with(LOGISTICS_SECRET, &logistics), "{logistics:?}");
    assert!(!verify_with(SECRET, &logistics), "not the global secret");
    assert!(verify_with(SECRET, &billing), "{billing:?}");
    assert!(!verify_with(LOGISTICS_SECRET, &billing));
}

on_both_backends!(each_team_signs_with_its_own_secret);

/// The first message to `email` (once at least `at_least` have arrived) that
/// `matches`.
fn mail_to(email: &str, at_least: usize, matches: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    received_for(email, at_least)
        .into_iter()
        .find(|m| matches(m.as_slice()))
}
