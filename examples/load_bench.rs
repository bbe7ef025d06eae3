//! Answers under load: customers submitting the form at once to the real `pds serve`
//! on SQLite and on PostgreSQL, next to a bare actix-web handler measured in the same
//! run on the same machine (the floor any web app pays for HTTP on these cores).
//!
//!     cargo run --release --example load_bench -- [--answers N] [--backend sqlite|postgres|both]
//!         [--two-instances]
//!
//! PostgreSQL needs a server: `--postgres-url` or `PDS_BENCH_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each run creates a database of its
//! own there and drops it afterwards. Without one, PostgreSQL is skipped with a note.
//! `PDS_BENCH_SERVER_LOG` sets the servers' log filter (default `warn`, e.g.
//! `warn,pds::db=trace` for checkpoints); a failed answer stops the run with the
//! last lines of the server's log.
//!
//! What runs: `target/release/pds serve --no-worker` as a child process (built first
//! with `cargo build --release --bin pds --example load_bench`, so the binary matches
//! the source and shares this build's features, which makes it a no-op after `cargo
//! run`), with its own folder, database and file mail transport, and the per-address rate limit raised
//! because all load comes from 127.0.0.1. No worker: delivering email is not what is
//! measured, but complaints that routing rules send to teams are queued in the answer's
//! transaction, so they are part of every answer's cost. The survey is
//! `survey-templates/discovery` (with its `routing.toml`); contacts are imported and
//! invited through the library, keeping each plaintext token. Each answer is a POST to
//! `/s/{token}` with the form the real page sends (all five slots, one to three
//! problems in the contact's language from `examples/demo/problems.toml`), and each
//! link answers once, so every stored answer is a new response.
//!
//! `--two-instances` adds a second PostgreSQL target: two `pds serve` processes on one
//! database of their own, the client sending answer i to instance i mod 2 (round robin,
//! as a load balancer would), measured in the same rounds as the one-instance target.
//! Its CPU figures add both instances; its memory is the first instance's.
//!
//! The client is this program: 64 threads, each with its own keep-alive connection.
//! Closed loop: each thread sends its next answer as soon as the last one is answered,
//! as fast as the server allows; the stored answers are counted in the `responses`
//! table afterwards. Open loop: answers are scheduled at a fixed rate and latency is
//! measured from the scheduled time, so a slow answer also delays those behind it in
//! the figures (no coordinated omission). The bare handler is this program started
//! again (`--bare-server PORT`): the same POSTs, parsed as a form, answered with a
//! small HTML page. Figures are medians over `--runs` rounds, the servers taking turns
//! within each round. The client shares the cores with the server throughout, and the
//! machine may be shared too, so the closed loop also reports how many cores the
//! server, the PostgreSQL server (when it runs here), the client and every other
//! process kept busy.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use pds::config::DatabaseUrl;
use pds::db::schema::{contacts, outbox, responses, routed_complaints};
use pds::db::Database;
use pds::invite::Token;
use pds::survey::store;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PROBLEMS_TOML: &str = include_str!("demo/problems.toml");
const SURVEY_FOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
/// Answers sent to each server before measuring: opens the connections and fills the
/// survey cache.
const WARM_UP: usize = 1_000;

#[derive(Debug, Parser)]
#[command(about = "Answers under load: pds serve against a bare actix-web handler")]
struct Args {
    /// Answers per closed-loop round, per backend.
    #[arg(long, default_value_t = 10_000)]
    answers: usize,
    #[arg(long, value_enum, default_value_t = Backends::Both)]
    backend: Backends,
    /// Clients sending at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Answers per second in the open loop.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Length of each open-loop round, in seconds.
    #[arg(long, default_value_t = 10.0)]
    open_seconds: f64,
    /// Rounds; the figures are their medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also measure two `pds serve` instances sharing one PostgreSQL database.
    #[arg(long)]
    two_instances: bool,
    /// A PostgreSQL server to create the benchmark's database on.
    #[arg(long, env = "PDS_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Internal: serve the bare handler on this port.
    #[arg(long, hide = true)]
    bare_server: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backends {
    Sqlite,
    Postgres,
    Both,
}

fn main() {
    let args = Args::parse();
    if let Some(port) = args.bare_server {
        return bare_server(port);
    }
    let pds = pds_binary();
    let mut targets: Vec<Target> = Vec::new();

    let bare_port = free_port();
    let bare = start(
        Command::new(std::env::current_exe().expect("this program's path"))
            .args(["--bare-server", &bare_port.to_string()]),
        bare_port,
        None,
    );
    targets.push(Target::new("bare actix-web handler", bare, bare_port, None));

    let per_target = args.runs * (args.answers + (args.rate * args.open_seconds).ceil() as usize);
    if matches!(args.backend, Backends::Sqlite | Backends::Both) {
        let folder = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::Sqlite(folder.path().join("pds.db"));
        targets.push(Target::pds(
            "SQLite",
            &pds,
            folder,
            url,
            None,
            (WARM_UP + per_target, 1),
        ));
    }
    if matches!(args.backend, Backends::Postgres | Backends::Both) {
        match &args.postgres_url {
            Some(server) => {
                let instances = if args.two_instances { 2 } else { 1 };
                for instances in 1..=instances {
                    let (url, name) = create_postgres_database(server, instances);
                    let folder = tempfile::tempdir().expect("temp dir");
                    let backend = match instances {
                        1 => "PostgreSQL".to_string(),
                        n => format!("PostgreSQL x{n}"),
                    };
                    targets.push(Target::pds(
                        &backend,
                        &pds,
                        folder,
                        url,
                        Some((server.clone(), name)),
                        (WARM_UP + per_target, instances),
                    ));
                }
            }
            None => eprintln!(
                "PostgreSQL skipped: give --postgres-url or PDS_BENCH_POSTGRES_URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
            ),
        }
    }
    // The bare handler answers the same requests as the first pds target.
    let shared: Vec<Request> = targets
        .get(1)
        .map(|t| t.requests.clone())
        .unwrap_or_else(|| invented_requests(WARM_UP + per_target));
    targets[0].requests = shared;

    for target in &mut targets {
        let warm = target.take(WARM_UP);
        let run = closed_loop(&target.ports(), &warm, args.concurrency);
        target.check(&run, "warm-up");
    }
    for round in 0..args.runs {
        for target in &mut targets {
            let requests = target.take(args.answers);
            let before = target.stored_responses();
            let cpu_before = target.cpu();
            let run = closed_loop(&target.ports(), &requests, args.concurrency);
            let cpu = target.cpu().since(&cpu_before);
            target.check(&run, "closed loop");
            if let Some(after) = target.stored_responses() {
                let stored = after - before.unwrap_or(0);
                assert_eq!(
                    stored, run.ok as i64,
                    "{}: {} answers were 2xx but {stored} responses were stored",
                    target.name, run.ok
                );
            }
            eprintln!(
                "round {}/{}: {:<22} closed loop {:>6.0} answers/s, p99 {:>6.1} ms",
                round + 1,
                args.runs,
                target.name,
                run.per_second(),
                run.percentile(0.99)
            );
            target.closed.push((run, cpu));
            let count = (args.rate * args.open_seconds).ceil() as usize;
            let requests = target.take(count);
            let run = open_loop(&target.ports(), &requests, args.concurrency, args.rate);
            target.check(&run, "open loop");
            eprintln!(
                "round {}/{}: {:<22} open loop at {:.0}/s, p99 {:>6.1} ms",
                round + 1,
                args.runs,
                target.name,
                args.rate,
                run.percentile(0.99)
            );
            target.open.push(run);
        }
    }

    report(&args, &targets);
}

/// A server under test and what has been measured on it.
struct Target {
    name: String,
    child: Child,
    port: u16,
    /// Further instances of the same server on the same database.
    others: Vec<(Child, u16)>,
    pds: Option<PdsServer>,
    requests: Vec<Request>,
    next: usize,
    closed: Vec<(Run, Cpu)>,
    open: Vec<Run>,
}

/// What a `pds serve` target keeps besides its process.
struct PdsServer {
    db: Database,
    folder: tempfile::TempDir,
    /// The PostgreSQL server and the database created on it, dropped at the end.
    postgres: Option<(String, String)>,
    /// The PostgreSQL server's main process, whose children serve the connections.
    postmaster: Option<u32>,
}

/// One answer as the browser would send it.
#[derive(Clone)]
struct Request {
    path: String,
    body: String,
}

impl Target {
    fn new(name: &str, child: Child, port: u16, pds: Option<PdsServer>) -> Self {
        Target {
            name: name.to_string(),
            child,
            port,
            others: Vec::new(),
            pds,
            requests: Vec::new(),
            next: 0,
            closed: Vec::new(),
            open: Vec::new(),
        }
    }

    /// Every answer must have been taken: a failure is a bug, not a figure. The
    /// server's log says why, so its last lines come with the failure.
    fn check(&self, run: &Run, phase: &str) {
        if run.failures.is_empty() {
            return;
        }
        let log = self
            .pds
            .as_ref()
            .and_then(|pds| std::fs::read_to_string(pds.folder.path().join("serve0.log")).ok())
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{}, {phase}: {} of {} answers failed: {:?}\nlast lines of the server log:\n{}",
            self.name,
            run.failures.values().sum::<usize>(),
            run.ok + run.failures.values().sum::<usize>(),
            run.failures,
            tail.join("\n")
        );
    }

    /// Prepares a survey with `invitations` invited contacts and starts `instances`
    /// `pds serve` processes on its database.
    fn pds(
        backend: &str,
        binary: &Path,
        folder: tempfile::TempDir,
        url: DatabaseUrl,
        postgres: Option<(String, String)>,
        (invitations, instances): (usize, usize),
    ) -> Self {
        let started = Instant::now();
        let db = Database::open(&url).expect("open the database");
        let requests = prepare(&db, invitations);
        eprintln!(
            "{backend}: survey, {invitations} contacts and invitations prepared in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let database_url = match &url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        let serve = |instance: usize| {
            let port = free_port();
            let child = start(
                Command::new(binary)
                    .args([
                        "serve",
                        "--no-worker",
                        "--bind",
                        &format!("127.0.0.1:{port}"),
                    ])
                    .current_dir(folder.path())
                    .env("PDS_DATABASE_URL", &database_url)
                    .env("PDS_MAIL_DIR", folder.path().join("mail-out"))
                    .env_remove("PDS_SMTP_URL")
                    .env("PDS_RATE_LIMIT_BURST", "1000000")
                    .env("PDS_RATE_LIMIT_PER_SECOND", "1000000")
                    .env(
                        "PDS_LOG",
                        std::env::var("PDS_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
                    ),
                port,
                Some(folder.path().join(format!("serve{instance}.log"))),
            );
            (child, port)
        };
        let (child, port) = serve(0);
        let others = (1..instances).map(serve).collect();
        let mut target = Target::new(
            &format!("pds serve, {backend}"),
            child,
            port,
            Some(PdsServer {
                postmaster: postgres.as_ref().and_then(|_| postmaster(&db)),
                db,
                folder,
                postgres,
            }),
        );
        target.requests = requests;
        target.others = others;
        target
    }

    /// The ports of every instance, the first first.
    fn ports(&self) -> Vec<u16> {
        std::iter::once(self.port)
            .chain(self.others.iter().map(|(_, port)| *port))
            .collect()
    }

    fn take(&mut self, count: usize) -> Vec<Request> {
        let end = (self.next + count).min(self.requests.len());
        let taken = self.requests[self.next..end].to_vec();
        self.next = end;
        assert_eq!(taken.len(), count, "{}: not enough invitations", self.name);
        taken
    }

    fn stored_responses(&self) -> Option<i64> {
        let pds = self.pds.as_ref()?;
        let mut conn = pds.db.conn().expect("a connection");
        Some(
            responses::table
                .count()
                .get_result(&mut *conn)
                .expect("count responses"),
        )
    }

    /// Complaints routed to teams, and the emails queued for them.
    fn complaints(&self) -> Option<(i64, i64)> {
        let pds = self.pds.as_ref()?;
        let mut conn = pds.db.conn().expect("a connection");
        let routed = routed_complaints::table
            .count()
            .get_result(&mut *conn)
            .expect("count complaints");
        let queued = outbox::table
            .filter(outbox::kind.eq("complaint"))
            .count()
            .get_result(&mut *conn)
            .expect("count outbox");
        Some((routed, queued))
    }

    /// CPU used so far; the database server's counts as the server's.
    fn cpu(&self) -> Cpu {
        let mut cpu = Cpu::now(self.child.id());
        cpu.server += self
            .others
            .iter()
            .map(|(child, _)| cpu_seconds(child.id()))
            .sum::<f64>();
        if let Some(pid) = self.pds.as_ref().and_then(|p| p.postmaster) {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            cpu.database = cpu_seconds(pid)
                + children
                    .split_whitespace()
                    .filter_map(|c| c.parse().ok())
                    .map(cpu_seconds)
                    .sum::<f64>();
        }
        cpu
    }

    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

/// Servers stop with the benchmark, also when it fails half-way.
impl Drop for Target {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.child).chain(self.others.iter_mut().map(|(c, _)| c))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((server, name)) = self.pds.as_ref().and_then(|p| p.postgres.as_ref()) {
            if let Ok(mut conn) = PgConnection::establish(&without_gss(server)) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Where `pds` is: next to this example's folder, rebuilt first so it matches the
/// source, in the profile this example was built in (release for figures; the
/// debug build that `scripts/test` runs once at a small size to see that it works).
fn pds_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("this program's path");
    let release = exe
        .parent()
        .and_then(Path::parent)
        .expect("the example runs from target/<profile>/examples")
        .to_path_buf();
    let profile = release
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("release")
        .to_string();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = vec!["build", "--bin", "pds", "--example", "load_bench"];
    if profile == "release" {
        build.push("--release");
    }
    let built = Command::new(cargo)
        .args(&build)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status();
    let binary = release.join("pds");
    match built {
        Ok(status) if status.success() => binary,
        _ if binary.exists() => {
            eprintln!(
                "could not run cargo build --bin pds; using {} as it is",
                binary.display()
            );
            binary
        }
        _ => {
            eprintln!(
                "{} is missing: run cargo build --release first",
                binary.display()
            );
            std::process::exit(2);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts a server and waits until it accepts connections.
fn start(command: &mut Command, port: u16, log: Option<PathBuf>) -> Child {
    let stderr = match &log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("server log")),
        None => Stdio::inherit(),
    };
    let mut child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the server");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let said = log
                .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                .unwrap_or_default();
            panic!("the server exited with {status} before listening:\n{said}");
        }
        assert!(
            Instant::now() < deadline,
            "the server did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A fresh database on the PostgreSQL server at `server` (one per target, told
/// apart by `tag`), and its name.
fn create_postgres_database(server: &str, tag: usize) -> (DatabaseUrl, String) {
    let name = format!("pds_load_bench_{}_{tag}", std::process::id());
    let mut conn = PgConnection::establish(&without_gss(server)).unwrap_or_else(|e| {
        eprintln!("cannot connect to PostgreSQL at {server}: {e}");
        std::process::exit(2)
    });
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create the benchmark database");
    let mut url = url::Url::parse(server).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    (DatabaseUrl::Postgres(url.to_string()), name)
}

/// The process id of the PostgreSQL server `db` is on, when it runs on this machine.
fn postmaster(db: &Database) -> Option<u32> {
    let mut conn = db.conn().ok()?;
    let folder: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "current_setting('data_directory')",
    ))
    .get_result(&mut *conn)
    .ok()?;
    let pid = std::fs::read_to_string(Path::new(&folder).join("postmaster.pid")).ok()?;
    pid.lines().next()?.trim().parse().ok()
}

/// As `pds::db` does: libpq's default GSS attempt loads Kerberos, whose destructors
/// can abort a process that exits while a connection is open.
fn without_gss(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    if url.contains("gssencmode") {
        url.to_string()
    } else {
        format!("{url}{separator}gssencmode=disable")
    }
}

#[derive(serde::Deserialize)]
struct ProblemBank {
    problem: Vec<BankProblem>,
}

#[derive(serde::Deserialize)]
struct BankProblem {
    incidence: f64,
    en: Vec<String>,
    sv: Vec<String>,
}

/// Creates the survey, imports `count` contacts, invites them all, and returns one
/// answer per invitation.
fn prepare(db: &Database, count: usize) -> Vec<Request> {
    let survey = pds::setup::check_folder(Path::new(SURVEY_FOLDER)).expect("the discovery survey");
    assert!(survey.routing.is_some(), "the survey routes complaints");
    let survey = pds::setup::create(db, &"load".parse().expect("slug"), &survey).expect("store it");
    let types = ["current", "lost", "potential"];
    let mut csv = String::from("email,name,locale,customer_type,region\n");
    for i in 0..count {
        let (name, locale) = if i % 3 == 0 {
            (format!("Customer {i}"), "en")
        } else {
            (format!("Kund Åberg {i}"), "sv")
        };
        csv.push_str(&format!(
            "c{i}@load.example,{name},{locale},{},{}\n",
            types[i % 3],
            ["North", "South"][i % 2]
        ));
    }
    let hidden = indicatif::ProgressBar::hidden();
    pds::invite::contacts::import(db, csv.as_bytes(), "load.csv", false, &hidden)
        .expect("import contacts");
    let mut conn = db.conn().expect("a connection");
    let wave = store::ensure_wave(&mut conn, survey.id, &"2026-H2".parse().expect("wave"))
        .expect("wave")
        .id;
    let invitees: Vec<(i64, String)> = contacts::table
        .order(contacts::id)
        .select((contacts::id, contacts::locale))
        .load(&mut *conn)
        .expect("contacts");
    drop(conn);

    let bank: ProblemBank = toml::from_str(PROBLEMS_TOML).expect("examples/demo/problems.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(20261123);
    let mut requests = Vec::with_capacity(invitees.len());
    let mut values = Vec::with_capacity(invitees.len());
    for (contact, locale) in &invitees {
        let token = Token::generate();
        values.push(format!(
            "({}, {wave}, {contact}, '{}', '2026-11-20 09:00:00', '2026-11-20 09:00:00')",
            survey.id,
            token.hash()
        ));
        requests.push(Request {
            path: format!("/s/{}", token.as_str()),
            body: answer_form(&bank, locale == "sv", &mut rng),
        });
    }
    db.write(|conn| {
        for chunk in values.chunks(1_000) {
            conn.batch_execute(&format!(
                "INSERT INTO invitations (survey_id, wave_id, contact_id, token_hash, created_at, sent_at) VALUES {}",
                chunk.join(", ")
            ))?;
        }
        Ok::<_, pds::Error>(())
    })
    .expect("insert invitations");
    requests
}

/// The form the page sends: all five slots, one to three filled in with ranks in
/// order (as the page pre-sets them), frequency and consent sometimes given.
fn answer_form(bank: &ProblemBank, swedish: bool, rng: &mut ChaCha8Rng) -> String {
    let count = rng.random_range(1..=3);
    let chosen: Vec<&BankProblem> = bank
        .problem
        .choose_multiple_weighted(rng, count, |p| p.incidence)
        .expect("weights")
        .collect();
    let mut form: Vec<(String, String)> = Vec::new();
    for n in 1..=5 {
        let text = match chosen.get(n - 1) {
            Some(p) => {
                let phrasings = if swedish { &p.sv } else { &p.en };
                phrasings.choose(rng).cloned().unwrap_or_default()
            }
            None => String::new(),
        };
        let filled = !text.is_empty();
        form.push((format!("problem_{n}"), text));
        form.push((format!("rank_{n}"), n.to_string()));
        let frequency = if filled {
            ["", "once", "sometimes", "often"][rng.random_range(0..4)]
        } else {
            ""
        };
        form.push((format!("frequency_{n}"), frequency.into()));
        if filled && rng.random_bool(0.3) {
            form.push((format!("consent_{n}"), "yes".into()));
        }
    }
    serde_urlencoded::to_string(&form).expect("encode the form")
}

/// Requests for the bare handler when no pds target runs.
fn invented_requests(count: usize) -> Vec<Request> {
    let bank: ProblemBank = toml::from_str(PROBLEMS_TOML).expect("examples/demo/problems.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(20261123);
    (0..count)
        .map(|i| Request {
            path: format!("/s/{}", Token::generate().as_str()),
            body: answer_form(&bank, i % 3 != 0, &mut rng),
        })
        .collect()
}

/// What one phase of load measured.
struct Run {
    ok: usize,
    failures: BTreeMap<String, usize>,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    fn percentile(&self, q: f64) -> f64 {
        let mut v = self.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        let at = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1)) - 1;
        v.get(at).copied().unwrap_or(f64::NAN)
    }

    fn max(&self) -> f64 {
        self.latencies_ms.iter().copied().fold(0.0, f64::max)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Sends one answer; the status, or what went wrong.
fn send(agent: &ureq::Agent, url: &str, body: &str) -> Result<(), String> {
    let mut response = agent
        .post(url)
        .content_type("application/x-www-form-urlencoded")
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    // Read to the end so the connection can carry the next answer.
    response
        .body_mut()
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    // A stored answer is confirmed by a redirect to its thank-you page (303, so a
    // refresh does not send it again); the thank-you page itself is not fetched.
    if (200..300).contains(&status) || status == 303 {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// `concurrency` clients, each sending the next answer as soon as it has its last reply.
fn closed_loop(ports: &[u16], requests: &[Request], concurrency: usize) -> Run {
    load(ports, requests, concurrency, None)
}

/// Answers scheduled at `rate` per second; latency counts from the scheduled time.
fn open_loop(ports: &[u16], requests: &[Request], concurrency: usize, rate: f64) -> Run {
    load(ports, requests, concurrency, Some(rate))
}

/// Sends `requests` to the instances at `ports` in turn (answer i to instance i mod n).
fn load(ports: &[u16], requests: &[Request], concurrency: usize, rate: Option<f64>) -> Run {
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Run {
        ok: 0,
        failures: BTreeMap::new(),
        seconds: 0.0,
        latencies_ms: Vec::with_capacity(requests.len()),
    });
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..concurrency {
            scope.spawn(|| {
                let agent = agent();
                let mut latencies = Vec::new();
                let mut failures: BTreeMap<String, usize> = BTreeMap::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    let from = match rate {
                        Some(rate) => {
                            let due = started + Duration::from_secs_f64(i as f64 / rate);
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                            due
                        }
                        None => Instant::now(),
                    };
                    let base = &bases[i % bases.len()];
                    match send(&agent, &format!("{base}{}", request.path), &request.body) {
                        Ok(()) => latencies.push(from.elapsed().as_secs_f64() * 1000.0),
                        Err(e) => *failures.entry(e).or_default() += 1,
                    }
                }
                let mut run = results.lock().expect("results");
                run.ok += latencies.len();
                run.latencies_ms.extend(latencies);
                for (e, n) in failures {
                    *run.failures.entry(e).or_default() += n;
                }
            });
        }
    });
    let mut run = results.into_inner().expect("results");
    run.seconds = started.elapsed().as_secs_f64();
    run
}

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The medians of one target's rounds.
struct Figures {
    per_second: f64,
    closed_p50: f64,
    closed_p99: f64,
    /// Cores busy in the closed loop: the server, this client, everything else.
    cpu: Cpu,
    open_p50: f64,
    open_p99: f64,
    open_max: f64,
}

impl Figures {
    fn of(target: &Target) -> Self {
        let closed = &target.closed;
        Figures {
            per_second: median(closed.iter().map(|(r, _)| r.per_second())),
            closed_p50: median(closed.iter().map(|(r, _)| r.percentile(0.5))),
            closed_p99: median(closed.iter().map(|(r, _)| r.percentile(0.99))),
            cpu: Cpu {
                server: median(closed.iter().map(|(r, cpu)| cpu.server / r.seconds)),
                database: median(closed.iter().map(|(r, cpu)| cpu.database / r.seconds)),
                client: median(closed.iter().map(|(r, cpu)| cpu.client / r.seconds)),
                machine: median(closed.iter().map(|(r, cpu)| cpu.machine / r.seconds)),
            },
            open_p50: median(target.open.iter().map(|r| r.percentile(0.5))),
            open_p99: median(target.open.iter().map(|r| r.percentile(0.99))),
            open_max: median(target.open.iter().map(Run::max)),
        }
    }
}

fn report(args: &Args, targets: &[Target]) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "load_bench: answers POSTed to /s/{{token}} on 127.0.0.1 ({cores} cores shared by client and server)"
    );
    println!(
        "  closed loop: {} clients, {} answers per round; open loop: {:.0} answers/s for {:.0} s; medians of {} rounds",
        args.concurrency, args.answers, args.rate, args.open_seconds, args.runs
    );
    let bare = Figures::of(&targets[0]);
    for target in targets {
        let f = Figures::of(target);
        let (hwm, rss) = target.memory();
        println!("  {}", target.name);
        println!(
            "    closed loop:  {:>7.0} answers/s{}  p50 {:>6.1} ms  p99 {:>6.1} ms",
            f.per_second,
            if target.pds.is_some() {
                " stored"
            } else {
                "       "
            },
            f.closed_p50,
            f.closed_p99,
        );
        let database = if f.cpu.database > 0.0 {
            format!(", PostgreSQL {:.2}", f.cpu.database)
        } else {
            String::new()
        };
        println!(
            "                  cores busy: server {:.2}{database}, client {:.2}, other processes {:.2}",
            f.cpu.server,
            f.cpu.client,
            (f.cpu.machine - f.cpu.server - f.cpu.database - f.cpu.client).max(0.0)
        );
        // Less noisy than answers per second on a shared machine: what each answer costs.
        println!(
            "                  CPU per answer: server {:.2} ms{}, client {:.2} ms",
            1000.0 * f.cpu.server / f.per_second,
            if f.cpu.database > 0.0 {
                format!(
                    " + PostgreSQL {:.2} ms",
                    1000.0 * f.cpu.database / f.per_second
                )
            } else {
                String::new()
            },
            1000.0 * f.cpu.client / f.per_second
        );
        println!(
            "    open loop:    {:>7.0} answers/s         p50 {:>6.1} ms  p99 {:>6.1} ms  max {:.1} ms",
            args.rate, f.open_p50, f.open_p99, f.open_max
        );
        println!("    server memory: {hwm:.0} MiB peak (VmHWM), {rss:.0} MiB at the end (VmRSS)");
        if let Some((routed, queued)) = target.complaints() {
            let stored = target.stored_responses().unwrap_or(0);
            println!(
                "    stored: {stored} responses; {routed} complaints routed to teams, {queued} emails queued"
            );
        }
        if target.pds.is_some() {
            println!(
                "    pds / bare:   throughput {:.2}, p99 closed loop {:.1}x, p99 at {:.0}/s {:.1}x, memory {:.1}x",
                f.per_second / bare.per_second,
                f.closed_p99 / bare.closed_p99,
                args.rate,
                f.open_p99 / bare.open_p99,
                hwm / targets[0].memory().0
            );
        }
        let one_instance = targets
            .iter()
            .find(|t| t.name == "pds serve, PostgreSQL")
            .filter(|_| !target.others.is_empty());
        if let Some(one) = one_instance {
            let one = Figures::of(one);
            println!(
                "    {} / 1:       throughput {:.2}, p50 closed loop {:.2}x, p99 at {:.0}/s {:.2}x",
                1 + target.others.len(),
                f.per_second / one.per_second,
                f.closed_p50 / one.closed_p50,
                args.rate,
                f.open_p99 / one.open_p99,
            );
        }
    }
    println!("  targets (2,000 stored answers/s; p99 under 50 ms at 500/s; under 150 MB):");
    for target in targets.iter().filter(|t| t.pds.is_some()) {
        let f = Figures::of(target);
        let hwm = target.memory().0;
        let mark = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "    {:<22} {:>6.0}/s {:<8} p99 {:>5.1} ms {:<8} {:>4.0} MiB {}",
            target.name,
            f.per_second,
            mark(f.per_second >= 2000.0),
            f.open_p99,
            mark(f.open_p99 < 50.0),
            hwm,
            mark(hwm * 1024.0 * 1024.0 < 150e6)
        );
    }
}

/// CPU seconds used so far: by the server, its database server, this client, and the
/// whole machine.
struct Cpu {
    server: f64,
    database: f64,
    client: f64,
    machine: f64,
}

impl Cpu {
    fn now(server: u32) -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal: all but idle and iowait.
        let busy: f64 = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .filter_map(|(_, v)| v.parse::<f64>().ok())
            .sum();
        Cpu {
            server: cpu_seconds(server),
            database: 0.0,
            client: cpu_seconds(std::process::id()),
            machine: busy / 100.0,
        }
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            server: self.server - before.server,
            database: self.database - before.database,
            client: self.client - before.client,
            machine: self.machine - before.machine,
        }
    }
}

/// User + system CPU seconds of a process, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// The floor: one route that reads the form and answers with a small page, on the
/// same two actix workers as `pds serve`.
fn bare_server(port: u16) {
    use actix_web::{web, App, HttpResponse, HttpServer};

    async fn answer(_token: web::Path<String>, body: web::Bytes) -> HttpResponse {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let problems = pairs
            .iter()
            .filter(|(k, v)| k.starts_with("problem_") && !v.is_empty())
            .count();
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html lang=\"en\"><title>Thank you</title>\
                 <p>Thank you. We received {problems} problem(s).</p></html>"
            ))
    }

    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().route("/s/{token}", web::post().to(answer)))
            .workers(2)
            .bind(("127.0.0.1", port))
            .expect("bind the bare server")
            .run()
            .await
            .expect("bare server")
    });
}
