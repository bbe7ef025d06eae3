//! Two `pds serve` instances and two `pds worker`s on one PostgreSQL work as one:
//! a dashboard session opened on one instance is valid on the other, and each sees
//! answers stored through the other; 2,000 answers spread over both arrive while
//! one instance is killed (SIGKILL) half-way, and the SMTP server receives every
//! invitation and every routed complaint exactly once (by Message-ID).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::common::*;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const CUSTOMERS: usize = 2_000;
const TEAM: &str = "logistik@nordvik.example";

/// A `pds` process of the test's own, killed (SIGKILL) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The installation every process of the test shares.
struct Installation {
    dir: tempfile::TempDir,
    database_url: String,
    smtp: SmtpSink,
    public_url: String,
}

impl Installation {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pds"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("PDS_DATABASE_URL", &self.database_url)
            .env("PDS_SMTP_URL", self.smtp.url())
            .env("PDS_PUBLIC_URL", &self.public_url)
            .env(
                "PDS_MAIL_FROM",
                "Nordvik Research <research@nordvik.example>",
            )
            // Every simulated customer answers from 127.0.0.1.
            .env("PDS_RATE_LIMIT_BURST", "1000000")
            .env("PDS_RATE_LIMIT_PER_SECOND", "1000000")
            .env("PDS_LOG", "warn");
        cmd
    }

    fn pds_ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run pds");
        assert!(
            out.status.success(),
            "pds {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn start(&self, args: &[&str]) -> Running {
        Running(
            self.command(args)
                .stdout(Stdio::null())
                .spawn()
                .expect("start pds"),
        )
    }

    /// Every message at the SMTP server: (recipient, Message-ID, plain text).
    fn received(&self) -> Vec<(String, String, String)> {
        self.smtp
            .messages()
            .iter()
            .filter_map(|raw| {
                let message = mail_parser::MessageParser::default().parse(raw)?;
                let to = message.to()?.first()?.address()?.to_lowercase();
                let id = message.message_id()?.to_string();
                let text = message.body_text(0)?.into_owned();
                Some((to, id, text))
            })
            .collect()
    }

    /// Waits until the SMTP server holds `count` messages, then a little longer
    /// to see that no extra copy follows.
    fn wait_for_messages(&self, count: usize, within: Duration) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + within;
        while self.smtp.messages().len() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(2));
        self.received()
    }
}

fn wait_until_serving(base_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{base_url}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "{base_url} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// What customer `i` writes: every fourth one about a late delivery, which the
/// routing rules send to the logistics team.
fn answer_of(i: usize) -> String {
    if i % 4 == 0 {
        format!("Leveransen kom sent, order {i}.")
    } else {
        format!("Fakturan var fel, order {i}.")
    }
}

/// Posts customer `i`'s answer to `base_url`; true when stored and thanked: the
/// form answers with a redirect (303) to its thank-you page.
fn answer(agent: &ureq::Agent, base_url: &str, token_path: &str, i: usize) -> bool {
    sent(agent, base_url, token_path, i).is_ok()
}

/// Posts customer `i`'s answer: `Ok` when thanked, else what came back (a status
/// and the start of the page, or the transport error).
fn sent(agent: &ureq::Agent, base_url: &str, token_path: &str, i: usize) -> Result<(), String> {
    let text = answer_of(i);
    let response = agent
        .post(&format!("{base_url}{token_path}"))
        .send_form([("problem_1", text.as_str()), ("rank_1", "1")])
        .map_err(|e| format!("no answer: {e}"))?;
    let thanked = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.ends_with("/thanks"));
    if response.status().as_u16() == 303 && thanked {
        return Ok(());
    }
    let status = response.status();
    let body = response.into_body().read_to_string().unwrap_or_default();
    Err(format!(
        "{status}: {}",
        body.chars().take(300).collect::<String>()
    ))
}

/// Sends an answer the killed instance did not confirm to the survivor, as a load
/// balancer would; a request that gets no response at all (the machine is busy)
/// is sent again, up to three times, but a refusal is final.
fn on_the_survivor(agent: &ureq::Agent, base_url: &str, token_path: &str, i: usize) {
    let mut tries = 0;
    loop {
        tries += 1;
        match sent(agent, base_url, token_path, i) {
            Ok(()) => return,
            Err(e) if e.starts_with("no answer") && tries < 3 => continue,
            Err(e) => panic!("answer {i} on the survivor: {e}"),
        }
    }
}

fn set_up(install: &Installation) {
    install.pds_ok(&["survey", "create", "--template", DISCOVERY, "--slug", "s"]);
    let routing = install.dir.path().join("routing.toml");
    std::fs::write(&routing, routing_toml(TEAM)).unwrap();
    install.pds_ok(&["route", "set", "--survey", "s", routing.to_str().unwrap()]);
    let mut csv = String::from("email,name,locale\n");
    for i in 0..CUSTOMERS {
        csv.push_str(&format!("c{i}@kund.example,Kim Kund,sv\n"));
    }
    let contacts = install.dir.path().join("contacts.csv");
    std::fs::write(&contacts, csv).unwrap();
    install.pds_ok(&["contacts", "import", contacts.to_str().unwrap()]);
    install.pds_ok(&["invite", "--survey", "s", "--wave", "w1", "--queue-only"]);
}

/// Each customer's personal link path (`/s/...`), from their invitation.
fn links(received: &[(String, String, String)], public_url: &str) -> Vec<String> {
    let by_customer: BTreeMap<usize, String> = received
        .iter()
        .filter_map(|(to, _, text)| {
            let i = to
                .strip_prefix('c')?
                .strip_suffix("@kund.example")?
                .parse()
                .ok()?;
            let at = text.find(&format!("{public_url}/s/"))? + public_url.len();
            Some((i, text[at..].split_whitespace().next()?.to_string()))
        })
        .collect();
    assert_eq!(by_customer.len(), CUSTOMERS, "every customer got a link");
    by_customer.into_values().collect()
}

fn log_in(install: &Installation, base_url: &str) -> String {
    let key = install.pds_ok(&["keys", "create", "--name", "analyst"]);
    let response = agent()
        .post(&format!("{base_url}/admin/login"))
        .send_form([("key", key.trim())])
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_string()
}

fn survey_page(base_url: &str, cookie: &str) -> String {
    let mut response = agent()
        .get(&format!("{base_url}/admin/surveys/s"))
        .header("Cookie", cookie)
        .call()
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "the session is valid at {base_url}"
    );
    response.body_mut().read_to_string().unwrap()
}

/// Answers every customer from `first` on, over both instances, eight at a time;
/// kills `doomed` once half are in. An answer the killed instance did not confirm
/// is sent again to the other, as a load balancer would. Returns how many were
/// confirmed, and how many of them only by the survivor after the kill.
fn answer_all(
    links: &[String],
    first: usize,
    bases: [&str; 2],
    mut doomed: Running,
) -> (usize, usize) {
    let next = AtomicUsize::new(first);
    let confirmed = AtomicUsize::new(0);
    let sent_again = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(link) = links.get(i) else { break };
                    let chosen = bases[i % 2];
                    if !answer(&agent, chosen, link, i) {
                        assert!(
                            chosen == bases[1] && killed.load(Ordering::Relaxed),
                            "answer {i} refused by {chosen}"
                        );
                        on_the_survivor(&agent, bases[0], link, i);
                        sent_again.fetch_add(1, Ordering::Relaxed);
                    }
                    confirmed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while confirmed.load(Ordering::Relaxed) < (links.len() - first) / 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        killed.store(true, Ordering::Relaxed);
        let _ = doomed.0.kill();
        let _ = doomed.0.wait();
    });
    (confirmed.into_inner(), sent_again.into_inner())
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    text: String,
}

#[test]
fn two_instances_on_one_postgres_work_as_one() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(Backend::Postgres, dir.path());
    let smtp = SmtpSink::start(free_port(), &dir.path().join("maildir"), &[]);
    let ports = [free_port(), free_port()];
    let bases = ports.map(|p| format!("http://127.0.0.1:{p}"));
    let install = Installation {
        dir,
        database_url,
        smtp,
        public_url: bases[0].clone(),
    };
    set_up(&install);
    let serve = |base: &str| {
        let bind = base.trim_start_matches("http://");
        install.start(&["serve", "--no-worker", "--bind", bind])
    };
    let (_a, b) = (serve(&bases[0]), serve(&bases[1]));
    let _workers = [
        install.start(&["worker", "--interval", "1"]),
        install.start(&["worker", "--interval", "1"]),
    ];
    bases.iter().for_each(|b| wait_until_serving(b));

    // Both workers deliver the 2,000 queued invitations: each exactly once.
    let invitations = install.wait_for_messages(CUSTOMERS, Duration::from_secs(60));
    let ids: BTreeSet<&str> = invitations.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!((invitations.len(), ids.len()), (CUSTOMERS, CUSTOMERS));
    let links = links(&invitations, &install.public_url);

    // A session opened on one instance is valid on the other, whose cached
    // dashboard shows each answer stored through the first.
    let cookie = log_in(&install, &bases[0]);
    for (i, link) in links.iter().enumerate().take(2) {
        assert!(answer(&agent(), &bases[0], link, i));
        let page = survey_page(&bases[1], &cookie);
        let words = answer_of(i);
        assert!(
            page.contains(&words),
            "{words:?} listed as not coded yet in {page}"
        );
    }

    let (bases, b) = ([bases[0].as_str(), bases[1].as_str()], b);
    let invited = started.elapsed();
    let (confirmed, sent_again) = answer_all(&links, 2, bases, b);
    assert_eq!(confirmed, CUSTOMERS - 2);
    assert!(sent_again > 0, "the killed instance took no more answers");
    let answered = started.elapsed();

    // Every confirmed answer is stored once.
    let mut pg = PgConnection::establish(&install.database_url).unwrap();
    let stored: Vec<Stored> = diesel::sql_query(
        "SELECT m.text FROM mentions m JOIN responses r ON r.id = m.response_id \
         WHERE r.invitation_id IS NOT NULL",
    )
    .load(&mut pg)
    .unwrap();
    let mut stored: Vec<String> = stored.into_iter().map(|s| s.text).collect();
    stored.sort();
    let mut expected: Vec<String> = (0..CUSTOMERS).map(answer_of).collect();
    expected.sort();
    assert!(
        stored == expected,
        "{} answers stored, {} confirmed",
        stored.len(),
        CUSTOMERS
    );

    // Every routed complaint reaches the team once; no invitation went out again.
    let complaints = CUSTOMERS / 4;
    let received = install.wait_for_messages(CUSTOMERS + complaints, Duration::from_secs(60));
    let to_team: Vec<&(String, String, String)> =
        received.iter().filter(|(to, _, _)| to == TEAM).collect();
    let team_ids: BTreeSet<&str> = to_team.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!((to_team.len(), team_ids.len()), (complaints, complaints));
    for i in (0..CUSTOMERS).step_by(4) {
        let words = answer_of(i);
        assert!(
            to_team.iter().any(|(_, _, text)| text.contains(&words)),
            "the team heard of {words:?}"
        );
    }
    assert_eq!(
        received.len(),
        CUSTOMERS + complaints,
        "nothing else was sent"
    );
    eprintln!(
        "two instances: invitations delivered after {invited:.1?}, {CUSTOMERS} answers \
         ({sent_again} sent again after the kill) after {answered:.1?}, all checked after {:.1?}",
        started.elapsed()
    );
}
