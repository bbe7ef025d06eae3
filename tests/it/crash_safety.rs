//! Crash safety: `pds serve` killed with SIGKILL while answers pour in keeps every
//! answer it confirmed, exactly once and whole, stores no answer in part, and once
//! restarted on the same database serves as before and delivers everything that
//! was queued.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::{link_in, routing_toml, unique, Backend, SmtpSink, TestApp};
use diesel::prelude::*;
use pds::db::schema::{contacts, invitations, mentions, outbox, responses, routed_complaints};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const CUSTOMERS: usize = 300;
const CLIENTS: usize = 16;
/// Customers kept out of the crowd, to answer the restarted server.
const LATECOMERS: usize = 8;
/// Contacts whose invitations are still queued when the crowd answers.
const NEWCOMERS: usize = 100;
/// Answers confirmed before the kill: enough to matter, well short of all of them.
const KILL_AFTER: usize = 100;
/// Short, so that mail a killed server had claimed is delivered soon after restart.
const LEASE_SECONDS: &str = "2";
/// The worker claims at most this many messages at once (`mail::deliver_due`), so
/// a crash repeats at most this many.
const CLAIM_BATCH: usize = 100;

/// One invited customer: where their personal link leads and what they will answer.
struct Customer {
    email: String,
    /// `/s/TOKEN`, from the invitation; the server in front of it may change.
    path: String,
    /// The problems by rank (first matters most); none means "no problems".
    problems: Vec<String>,
}

impl Customer {
    /// Customer `i`'s problems, numbered with a fixed width so that no text is part
    /// of another. Half the answers name a problem the routing rule sends on; a
    /// quarter say "no problems".
    fn problems(i: usize) -> Vec<String> {
        match i % 4 {
            0 => Vec::new(),
            1 => vec![format!("Late delivery of order {i:04}")],
            2 => vec![
                format!("Invoice {i:04} was wrong"),
                format!("Leveransen {i:04} kom för sent"),
                format!("Nobody called back about case {i:04}"),
            ],
            _ => vec![
                format!("Website {i:04} was slow"),
                format!("The app crashed on screen {i:04}"),
            ],
        }
    }

    fn form(&self) -> Vec<(String, String)> {
        if self.problems.is_empty() {
            return vec![("no_problems".into(), "yes".into())];
        }
        let mut pairs = Vec::new();
        for (k, text) in self.problems.iter().enumerate() {
            let n = k + 1;
            pairs.push((format!("problem_{n}"), text.clone()));
            pairs.push((format!("rank_{n}"), n.to_string()));
            pairs.push((format!("frequency_{n}"), "often".into()));
            if k == 0 {
                pairs.push((format!("consent_{n}"), "yes".into()));
            }
        }
        pairs
    }

    /// The mentions a whole answer consists of, as (rank, text).
    fn mentions(&self) -> Vec<(i32, String)> {
        (1..).zip(self.problems.iter().cloned()).collect()
    }

    /// The problems the rule sends to the logistics team.
    fn routed(&self) -> Vec<&str> {
        self.problems
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("Late delivery") || t.starts_with("Leveransen"))
            .collect()
    }
}

/// `pds serve` as a process of its own, as in production, so it can be killed.
struct Server {
    base_url: String,
    log: PathBuf,
    child: Child,
}

impl Server {
    /// Starts `pds serve` on a port of its own, with `env` added, and waits until it
    /// answers.
    fn start(app: &TestApp, smtp_url: &str, name: &str, env: &[(&str, &str)]) -> Server {
        let port = crate::common::free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let log = app.dir.path().join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_pds"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(app.dir.path())
            .env("PDS_DATABASE_URL", &app.database_url)
            .env("PDS_SMTP_URL", smtp_url)
            .env("PDS_PUBLIC_URL", &base_url)
            .env(
                "PDS_MAIL_FROM",
                "Nordvik Research <research@nordvik.example>",
            )
            .env("PDS_OUTBOX_LEASE_SECONDS", LEASE_SECONDS)
            // The whole crowd comes from 127.0.0.1.
            .env("PDS_RATE_LIMIT_BURST", "1000000")
            .env("PDS_RATE_LIMIT_PER_SECOND", "1000000")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create the server log"))
            .spawn()
            .expect("start pds serve");
        let mut server = Server {
            base_url,
            log,
            child,
        };
        server.wait_until_healthy();
        server
    }

    fn wait_until_healthy(&mut self) {
        let agent = agent(Duration::from_secs(2));
        let url = format!("{}/healthz", self.base_url);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll pds serve") {
                panic!("pds serve exited with {status}:\n{}", self.log());
            }
            if let Ok(response) = agent.get(&url).call() {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "pds serve did not answer {url} within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, customer: &Customer) -> String {
        format!("{}{}", self.base_url, customer.path)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flushing, no finishing the requests in hand.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL pds serve");
        self.child.wait().expect("reap pds serve");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// What a customer's browser learnt after sending the answer.
#[derive(Debug, Clone)]
enum Outcome {
    /// A success status: the answer is promised to be kept.
    Confirmed,
    /// Any other status.
    Refused(u16),
    /// No answer at all (the server died): the customer cannot know.
    NoAnswer(String),
}

/// Every time one customer sent their answer, in order.
type History = Vec<Outcome>;

/// What a customer may expect from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    NeverSent,
    /// Sent, but never confirmed: stored whole or not at all.
    Unknown,
    /// Confirmed at least once: stored, once, whole.
    Confirmed,
}

fn fate(history: &[Outcome]) -> Fate {
    if history.iter().any(|o| matches!(o, Outcome::Confirmed)) {
        Fate::Confirmed
    } else if history.is_empty() {
        Fate::NeverSent
    } else {
        Fate::Unknown
    }
}

fn send(agent: &ureq::Agent, url: &str, customer: &Customer) -> Outcome {
    match agent.post(url).send_form(customer.form()) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            // Read the page so the connection can be reused; the status is what counts.
            let _ = response.body_mut().read_to_string();
            if (200..300).contains(&status) {
                Outcome::Confirmed
            } else {
                Outcome::Refused(status)
            }
        }
        Err(e) => Outcome::NoAnswer(e.to_string()),
    }
}

/// Messages the sink has stored so far, counted without reading them.
fn delivered(sink: &SmtpSink) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(sink.maildir.join(sub)).ok())
        .map(Iterator::count)
        .sum()
}

/// The crowd answers at once (and, should it run through, again: people press
/// send twice) until `KILL_AFTER` answers have been confirmed while the server's
/// worker is delivering mail; then the server is killed with requests in flight
/// and mail half sent. Returns each customer's history.
fn answer_until_killed(server: &mut Server, crowd: &[Customer], sink: &SmtpSink) -> Vec<History> {
    let next = AtomicUsize::new(0);
    let confirmed = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let histories: Mutex<Vec<History>> = Mutex::new(vec![Vec::new(); crowd.len()]);
    let base_url = server.base_url.clone();
    let mail_before = delivered(sink);
    let ready = std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            let (next, confirmed, stop, histories, base_url) =
                (&next, &confirmed, &stop, &histories, &base_url);
            scope.spawn(move || {
                let agent = agent(Duration::from_secs(60));
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst) % crowd.len();
                    let customer = &crowd[i];
                    let outcome = send(&agent, &format!("{base_url}{}", customer.path), customer);
                    if matches!(outcome, Outcome::Confirmed) {
                        confirmed.fetch_add(1, Ordering::SeqCst);
                    }
                    histories.lock().expect("histories")[i].push(outcome);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = loop {
            if confirmed.load(Ordering::SeqCst) >= KILL_AFTER && delivered(sink) > mail_before {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        stop.store(true, Ordering::SeqCst);
        server.kill();
        ready
    });
    let histories = histories.into_inner().expect("histories");
    assert!(
        ready,
        "{base_url} did not confirm {KILL_AFTER} answers while its worker sent mail within 60 s: {:?}\n{}",
        summary(&histories),
        server.log()
    );
    histories
}

/// How often customers learnt what, with the server's status or the client's error.
fn summary(histories: &[History]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for outcome in histories.iter().flatten() {
        let key = match outcome {
            Outcome::Confirmed => "confirmed".to_string(),
            Outcome::Refused(status) => format!("refused with {status}"),
            Outcome::NoAnswer(error) => format!("no answer ({error})"),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// One stored response with its mentions by rank.
#[derive(Debug)]
struct StoredResponse {
    id: i64,
    no_problems: bool,
    mentions: Vec<(i32, String)>,
}

/// What the database holds about the answers, per customer email.
struct Stored {
    responses: HashMap<String, Vec<StoredResponse>>,
    /// Customers whose invitation is marked answered.
    answered: HashSet<String>,
    /// Mentions whose response does not exist.
    orphan_mentions: usize,
    /// Routed complaints per response.
    complaints: HashMap<i64, usize>,
    /// Complaint emails in the outbox, in any state.
    complaint_emails: usize,
}

impl Stored {
    fn read(app: &TestApp) -> Stored {
        let mut conn = app.db.conn().expect("a database connection");
        let conn = &mut *conn;
        let invited: Vec<(i64, String, bool)> = invitations::table
            .inner_join(contacts::table)
            .select((
                invitations::id,
                contacts::email,
                invitations::answered_at.is_not_null(),
            ))
            .load(conn)
            .expect("invitations");
        let email_of: HashMap<i64, String> =
            invited.iter().map(|(id, e, _)| (*id, e.clone())).collect();
        let answered = invited
            .into_iter()
            .filter(|(_, _, answered)| *answered)
            .map(|(_, email, _)| email)
            .collect();
        let rows: Vec<(i64, Option<i64>, i32)> = responses::table
            .select((
                responses::id,
                responses::invitation_id,
                responses::no_problems,
            ))
            .load(conn)
            .expect("responses");
        let mut by_response: HashMap<i64, Vec<(i32, String)>> = HashMap::new();
        let mention_rows: Vec<(i64, i32, String)> = mentions::table
            .select((mentions::response_id, mentions::rank, mentions::text))
            .order((mentions::response_id, mentions::rank))
            .load(conn)
            .expect("mentions");
        for (response, rank, text) in mention_rows {
            by_response.entry(response).or_default().push((rank, text));
        }
        let mut responses: HashMap<String, Vec<StoredResponse>> = HashMap::new();
        for (id, invitation, no_problems) in rows {
            let email = invitation
                .and_then(|i| email_of.get(&i).cloned())
                .unwrap_or_else(|| panic!("response {id} belongs to no invitation"));
            responses.entry(email).or_default().push(StoredResponse {
                id,
                no_problems: no_problems != 0,
                mentions: by_response.remove(&id).unwrap_or_default(),
            });
        }
        let mut complaints: HashMap<i64, usize> = HashMap::new();
        for response in routed_complaints::table
            .select(routed_complaints::response_id)
            .load::<i64>(conn)
            .expect("routed complaints")
        {
            *complaints.entry(response).or_default() += 1;
        }
        let complaint_emails: i64 = outbox::table
            .filter(outbox::kind.eq("complaint"))
            .count()
            .get_result(conn)
            .expect("outbox");
        Stored {
            responses,
            answered,
            orphan_mentions: by_response.values().map(Vec::len).sum(),
            complaints,
            complaint_emails: complaint_emails as usize,
        }
    }
}

/// Every confirmed answer is stored exactly once, whole; an answer whose sender
/// learnt nothing is stored whole or not at all; an answer never sent is absent.
/// Routed complaints were queued with each stored answer, in its transaction.
/// Returns how many unconfirmed answers were stored.
fn assert_answers_kept(app: &TestApp, customers: &[Customer], histories: &[History]) -> usize {
    let stored = Stored::read(app);
    let none = Vec::new();
    let mut stored_unconfirmed = 0;
    for (customer, history) in customers.iter().zip(histories) {
        let found = stored.responses.get(&customer.email).unwrap_or(&none);
        let whole = |r: &StoredResponse| {
            r.no_problems == customer.problems.is_empty() && r.mentions == customer.mentions()
        };
        let fate = fate(history);
        let what = || {
            format!(
                "{} ({fate:?} after {history:?}) sent {:?}, the database holds {found:?}",
                customer.email,
                customer.mentions()
            )
        };
        match fate {
            Fate::Confirmed => assert!(
                found.len() == 1 && whole(&found[0]),
                "a confirmed answer must be stored once, whole: {}",
                what()
            ),
            Fate::Unknown => {
                assert!(
                    found.len() <= 1 && found.iter().all(whole),
                    "an unconfirmed answer must be stored whole or not at all: {}",
                    what()
                );
                stored_unconfirmed += found.len();
            }
            Fate::NeverSent => assert!(found.is_empty(), "never sent, yet stored: {}", what()),
        }
        assert_eq!(
            stored.answered.contains(&customer.email),
            !found.is_empty(),
            "the invitation is marked answered with the answer, not apart from it: {}",
            what()
        );
        for response in found {
            assert_eq!(
                stored.complaints.get(&response.id).copied().unwrap_or(0),
                customer.routed().len(),
                "complaints are routed with the answer that holds them: {}",
                what()
            );
        }
    }
    assert_eq!(stored.orphan_mentions, 0, "mentions without their response");
    let routed: usize = stored.complaints.values().sum();
    assert_eq!(
        stored.complaint_emails, routed,
        "one complaint email per routed complaint (the team has one address)"
    );
    stored_unconfirmed
}

struct Mail {
    message_id: String,
    to: Vec<String>,
    text: String,
}

fn mails(sink: &SmtpSink) -> Vec<Mail> {
    sink.messages()
        .iter()
        .map(|raw| {
            let message = mail_parser::MessageParser::default()
                .parse(raw)
                .expect("a MIME message");
            Mail {
                message_id: message.message_id().expect("Message-ID").to_string(),
                to: message
                    .to()
                    .map(|list| {
                        list.iter()
                            .filter_map(|a| a.address().map(str::to_lowercase))
                            .collect()
                    })
                    .unwrap_or_default(),
                text: message
                    .body_text(0)
                    .map(|t| t.into_owned())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn outbox_by_status(app: &TestApp) -> BTreeMap<String, i64> {
    let mut conn = app.db.conn().expect("a database connection");
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(&mut *conn)
        .expect("outbox status")
        .into_iter()
        .collect()
}

/// Waits until the outbox holds nothing but sent mail.
fn wait_until_outbox_sent(app: &TestApp, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = outbox_by_status(app);
        if counts.keys().all(|status| status == "sent") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox is not delivered after 60 s: {counts:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every queued message arrived; a message sent again after the crash comes under
/// the same Message-ID, so mail clients show it once. The team heard of every
/// routed problem of every stored answer exactly once.
fn assert_everything_delivered_once(
    app: &TestApp,
    sink: &SmtpSink,
    team: &str,
    answered: &[&Customer],
) -> usize {
    let mut conn = app.db.conn().expect("a database connection");
    let queued: Vec<String> = outbox::table
        .select(outbox::message_id)
        .load(&mut *conn)
        .expect("outbox");
    let queued: HashSet<String> = queued
        .iter()
        .map(|id| id.trim_matches(['<', '>']).to_string())
        .collect();
    let received = mails(sink);
    let received_ids: HashSet<String> = received.iter().map(|m| m.message_id.clone()).collect();
    let missing = queued.difference(&received_ids).count();
    let unknown = received_ids.difference(&queued).count();
    assert_eq!(
        (missing, unknown),
        (0, 0),
        "every queued message arrives and nothing else ({} queued, {} received)",
        queued.len(),
        received.len()
    );
    assert!(
        received.len() - queued.len() <= CLAIM_BATCH,
        "at most one claimed batch is sent twice ({} received for {} queued)",
        received.len(),
        queued.len()
    );

    let team = team.to_lowercase();
    let to_team: Vec<&Mail> = received.iter().filter(|m| m.to.contains(&team)).collect();
    for customer in answered {
        for text in customer.routed() {
            let ids: HashSet<&str> = to_team
                .iter()
                .filter(|m| m.text.contains(text))
                .map(|m| m.message_id.as_str())
                .collect();
            assert_eq!(
                ids.len(),
                1,
                "the team hears of {text:?} from {} once",
                customer.email
            );
        }
    }
    let complaints: HashSet<&str> = to_team.iter().map(|m| m.message_id.as_str()).collect();
    let routed: usize = answered.iter().map(|c| c.routed().len()).sum();
    assert_eq!(
        complaints.len(),
        routed,
        "no other complaint reaches the team"
    );
    received.len() - queued.len()
}

/// The customers, from the invitations the sink received: each one's link and
/// the answer they will give.
fn invited_customers(sink: &SmtpSink, base_url: &str) -> Vec<Customer> {
    let mut customers: Vec<(usize, Customer)> = sink
        .messages()
        .iter()
        .map(|raw| {
            let message = mail_parser::MessageParser::default()
                .parse(raw)
                .expect("a MIME message");
            let email = message
                .to()
                .and_then(|to| to.iter().next())
                .and_then(|a| a.address())
                .expect("an addressee")
                .to_string();
            let i: usize = email
                .strip_prefix('c')
                .and_then(|rest| rest.split('@').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("an invitation to a stranger: {email}"));
            let link = link_in(raw, base_url);
            let customer = Customer {
                email,
                path: link[base_url.len()..].to_string(),
                problems: Customer::problems(i),
            };
            (i, customer)
        })
        .collect();
    customers.sort_by_key(|(i, _)| *i);
    customers.into_iter().map(|(_, c)| c).collect()
}

fn contacts_csv(prefix: &str, domain: &str, count: usize) -> String {
    let mut csv = String::from("email,name,locale\n");
    for i in 0..count {
        csv.push_str(&format!("{prefix}{i}@{domain},Customer {prefix}{i},en\n"));
    }
    csv
}

fn confirmed_answers_survive_a_killed_server(backend: Backend) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(crate::common::free_port(), dir.path(), &[]);
    let app = TestApp::spawn_with_smtp(backend, &sink.url());
    let d = format!("{}.example", unique("crash"));
    let team = format!("ops@{d}");

    // A study whose late-delivery complaints go to the logistics team; every
    // customer is invited by email.
    app.create_survey(DISCOVERY, "s");
    let routing = app.write_file("routing.toml", &routing_toml(&team));
    app.pds_ok(&["route", "set", "--survey", "s", routing.to_str().unwrap()]);
    app.import_contacts(&contacts_csv("c", &d, CUSTOMERS));
    app.invite("s", "w1");
    let customers = invited_customers(&sink, &app.base_url);
    assert_eq!(customers.len(), CUSTOMERS, "every invitation arrived");
    let crowd = &customers[..CUSTOMERS - LATECOMERS];
    // Newcomers' invitations wait in the outbox, so that the server's worker is
    // sending when the kill comes (slowly: its batch of 100 takes 2 s).
    let file = app.write_file("newcomers.csv", &contacts_csv("n", &d, NEWCOMERS));
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    let out = app.pds_ok(&["invite", "--survey", "s", "--wave", "w1", "--queue-only"]);
    assert!(
        out.contains(&format!("Queued {NEWCOMERS} invitations")),
        "{out}"
    );
    let set_up = started.elapsed();

    // Answers pour in; the server is killed mid-stream, mail half sent.
    let mut server = Server::start(&app, &sink.url(), "first", &[("PDS_MAIL_RATE", "50")]);
    let mut histories = answer_until_killed(&mut server, crowd, &sink);
    histories.resize(CUSTOMERS, Vec::new());
    let requests = summary(&histories);
    let requests_that =
        |which: fn(&Outcome) -> bool| histories.iter().flatten().filter(|o| which(o)).count();
    assert_eq!(
        requests_that(|o| matches!(o, Outcome::Refused(_))),
        0,
        "valid answers were refused before the kill: {requests:?}\n{}",
        server.log()
    );
    assert!(
        requests_that(|o| matches!(o, Outcome::NoAnswer(_))) > 0,
        "the kill must catch answers in flight: {requests:?}"
    );
    let outbox_after_kill = outbox_by_status(&app);
    drop(server);

    // Restarted on the same database: every confirmed answer is there, once and whole.
    let server = Server::start(&app, &sink.url(), "restarted", &[]);
    let stored_unconfirmed = assert_answers_kept(&app, &customers, &histories);

    // Those who never learnt whether it worked send again; latecomers answer now.
    let agent = agent(Duration::from_secs(60));
    let unknown: Vec<usize> = (0..CUSTOMERS)
        .filter(|&i| fate(&histories[i]) == Fate::Unknown)
        .collect();
    for i in unknown.iter().copied().chain(crowd.len()..CUSTOMERS) {
        let customer = &customers[i];
        let outcome = send(&agent, &server.url(customer), customer);
        assert!(
            matches!(outcome, Outcome::Confirmed),
            "the restarted server takes {}'s answer: {outcome:?}\n{}",
            customer.email,
            server.log()
        );
        histories[i].push(outcome);
    }
    assert_answers_kept(&app, &customers, &histories);

    // The restarted server's worker delivers everything queued, the killed server's
    // claimed messages once their lease runs out.
    wait_until_outbox_sent(&app, &server);
    let answered: Vec<&Customer> = customers
        .iter()
        .zip(&histories)
        .filter(|(_, h)| fate(h) == Fate::Confirmed)
        .map(|(c, _)| c)
        .collect();
    let repeated = assert_everything_delivered_once(&app, &sink, &team, &answered);
    eprintln!(
        "{backend:?}: set-up {:.1} s, whole test {:.1} s; requests before the kill: \
         {requests:?}; {stored_unconfirmed} of {} unconfirmed answers were stored; \
         outbox after the kill: {outbox_after_kill:?}; {repeated} messages sent twice",
        set_up.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        unknown.len(),
    );
}

on_both_backends!(confirmed_answers_survive_a_killed_server);
