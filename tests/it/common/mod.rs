//! Shared set-up for the integration tests: the real app on a random port, a fresh
//! database (SQLite file or a new PostgreSQL database), the real SMTP server that
//! `scripts/test` starts, and the `pds` binary for commands.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use pds::config::{DatabaseUrl, Settings};
use pds::db::Database;
use rand::Rng;

mod builders;
pub use builders::{
    args, assert_late_delivery_as_whole_answer, emails, new_email, run_demo, WHOLE_CHECKLIST_ANSWER,
};

/// Defines, for each story `f(backend: Backend)`, a module of the same name with
/// the tests `on_sqlite` and `on_postgres` (e.g. `privacy::purge_forgets...::on_postgres`),
/// so every story runs on both databases without a hand-written pair.
macro_rules! on_both_backends {
    ($($story:ident),+ $(,)?) => {$(
        mod $story {
            #[test]
            fn on_sqlite() {
                super::$story($crate::common::Backend::Sqlite);
            }

            #[test]
            fn on_postgres() {
                super::$story($crate::common::Backend::Postgres);
            }
        }
    )+};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts PostgreSQL and an SMTP server")
    })
}

/// A unique tag for names in this test (emails, slugs, database names).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::rng().random::<u32>())
}

/// A database URL of its own for one test.
pub fn fresh_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("pds.db").display()),
        Backend::Postgres => {
            let admin = required_env("PDS_TEST_POSTGRES_URL");
            let name = unique("pds_test_");
            let mut conn =
                diesel::PgConnection::establish(&admin).expect("connect to the test PostgreSQL");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
            let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
            format!("{base}/{name}")
        }
    }
}

/// The running app with everything a test needs to drive it.
pub struct TestApp {
    pub base_url: String,
    pub database_url: String,
    pub smtp_url: String,
    pub settings: Settings,
    pub db: Database,
    pub dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestApp {
    /// Starts the app on 127.0.0.1 with a random port, on `backend`, sending mail
    /// to the test SMTP server.
    pub fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with_smtp(backend, &required_env("PDS_TEST_SMTP_URL"))
    }

    /// Like [`TestApp::spawn`], sending mail to `smtp_url`.
    pub fn spawn_with_smtp(backend: Backend, smtp_url: &str) -> TestApp {
        Self::spawn_configured(backend, smtp_url, |_| {})
    }

    /// Like [`TestApp::spawn`], with `adjust` changing the settings before start.
    pub fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_configured(backend, &required_env("PDS_TEST_SMTP_URL"), adjust)
    }

    fn spawn_configured(
        backend: Backend,
        smtp_url: &str,
        adjust: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database(backend, dir.path());
        let smtp_url = smtp_url.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let address = listener.local_addr().expect("local address");
        let base_url = format!("http://{address}");
        let mut settings = settings_for(&database_url, &smtp_url, &base_url);
        adjust(&mut settings);
        let db = Database::open(&settings.database_url).expect("open the database");
        let state = pds::web::AppState::new(db.clone(), settings.clone()).expect("app state");
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = pds::web::start(listener, state).expect("start server");
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            })
        });
        let handle = rx.recv().expect("server started");
        TestApp {
            base_url,
            database_url,
            smtp_url,
            settings,
            db,
            dir,
            handle,
            thread: Some(thread),
        }
    }

    /// Runs the `pds` binary against this app's database and SMTP server.
    pub fn pds(&self, args: &[&str]) -> Output {
        self.pds_env(&[], args)
    }

    /// Runs `pds` with extra environment variables, e.g. `PDS_NOW` for a simulated day.
    pub fn pds_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
            .envs(env.iter().copied())
            .args(args)
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .env("PDS_DATABASE_URL", &self.database_url)
            .env("PDS_SMTP_URL", &self.smtp_url)
            .env("PDS_PUBLIC_URL", &self.base_url)
            .env(
                "PDS_MAIL_FROM",
                "Nordvik Research <research@nordvik.example>",
            )
            .output()
            .expect("run pds")
    }

    /// Runs `pds` and insists it succeeded; returns its standard output.
    pub fn pds_ok(&self, args: &[&str]) -> String {
        let out = self.pds(args);
        assert!(
            out.status.success(),
            "pds {args:?} failed with {:?}:\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes a file into the app's folder and returns its path.
    pub fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write file");
        path
    }

    pub fn http(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }
}

impl TestApp {
    /// Stops the in-process server (its database and folder stay), e.g. to run a
    /// `pds serve` process on the same database instead.
    pub fn stop_server(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let handle = self.handle.clone();
        let _ =
            std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)))
                .join();
        let _ = thread.join();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop_server();
    }
}

pub fn settings_for(database_url: &str, smtp_url: &str, base_url: &str) -> Settings {
    // Settings come from the environment in production; tests build them the same
    // way through the one public entry point that takes a folder, then override.
    let mut settings = Settings::in_folder(Path::new("/nonexistent")).expect("settings");
    settings.database_url = DatabaseUrl::parse(database_url).expect("database url");
    settings.mail = pds::config::MailTransport::Smtp(pds::config::SecretUrl::new(smtp_url));
    settings.public_url = url::Url::parse(base_url).expect("base url");
    settings.mail_from = "Nordvik Research <research@nordvik.example>"
        .parse()
        .expect("from");
    // Every test talks from 127.0.0.1; only tests/rate_limit.rs asks for a limit.
    let generous = pds::config::RateLimit {
        burst: std::num::NonZeroU32::new(1_000_000).expect("non-zero"),
        replenish: Duration::from_micros(1),
    };
    settings.rate_limit = generous;
    settings.login_rate_limit = generous;
    settings
}

/// Messages the test SMTP server received for `email`, waiting up to 10 s for at
/// least `at_least` of them.
pub fn received_for(email: &str, at_least: usize) -> Vec<Vec<u8>> {
    received_within(email, at_least, Duration::from_secs(10))
}

/// Like [`received_for`], with the wait given.
pub fn received_within(email: &str, at_least: usize, wait: Duration) -> Vec<Vec<u8>> {
    let maildir = PathBuf::from(required_env("PDS_TEST_MAILDIR"));
    let deadline = Instant::now() + wait;
    loop {
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(raw) = std::fs::read(entry.path()) else {
                    continue;
                };
                let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
                    continue;
                };
                let to_them = message
                    .to()
                    .map(|list| {
                        list.iter()
                            .any(|a| a.address().is_some_and(|x| x.eq_ignore_ascii_case(email)))
                    })
                    .unwrap_or(false);
                if to_them {
                    found.push(raw);
                }
            }
        }
        if found.len() >= at_least || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The personal link in an invitation's plain-text part.
pub fn link_in(raw: &[u8], base_url: &str) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parse email");
    let text = message.body_text(0).expect("plain-text part").into_owned();
    let start = text
        .find(&format!("{base_url}/s/"))
        .unwrap_or_else(|| panic!("no link to {base_url}/s/ in:\n{text}"));
    text[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string()
}

/// Posts a form and returns (status, body).
pub fn post_form(agent: &ureq::Agent, url: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut response = agent
        .post(url)
        .send_form(pairs.iter().copied())
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

pub fn get(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut response = agent.get(url).call().expect("GET");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SMTP server of the test's own (`scripts/smtp_sink.py`), which it can stop and
/// start again, and which can refuse chosen recipients with 550.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: std::process::Child,
}

impl SmtpSink {
    pub fn start(port: u16, maildir: &Path, reject: &[&str]) -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp_sink.py");
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--maildir")
            .arg(maildir);
        for r in reject {
            cmd.arg("--reject").arg(r);
        }
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start scripts/smtp_sink.py (needs python3 with aiosmtpd: run scripts/test)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink {
            port,
            maildir: maildir.to_path_buf(),
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    if let Ok(raw) = std::fs::read(entry.path()) {
                        all.push(raw);
                    }
                }
            }
        }
        all
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Routing that sends late deliveries (`leverans*`, `late`) to one team address.
pub fn routing_toml(team_email: &str) -> String {
    format!(
        r#"
[teams.logistics]
name = "Logistik"
emails = ["{team_email}"]
locale = "sv"

[[rules]]
name = "late deliveries"
keywords = ["leverans*", "late"]
teams = ["logistics"]
"#
    )
}

/// Copies a folder (a survey folder, so a test can change it).
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
